//! Keyset pagination shared by every list: `limit` (1–100, default 20) and an opaque `cursor`.
//!
//! A cursor is the sort key of the last row of the previous page, as base64url JSON. Rows are read
//! strictly after it in a stable order, so inserts while paging neither repeat nor skip rows.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::error::{ApiError, FieldError};
use crate::extract::control_characters;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(ApiError::InvalidQuery(vec![FieldError::new(
                "limit",
                "limit_out_of_range",
            )])),
        }
    }

    /// The decoded sort key to continue after, if this is not the first page.
    pub fn after<K: DeserializeOwned>(&self) -> Result<Option<K>, ApiError> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(cursor)
            .map_err(|_| ApiError::InvalidCursor)?;
        // A forged cursor could carry text no stored key has (a NUL would fail on PostgreSQL).
        let key: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| ApiError::InvalidCursor)?;
        if !control_characters(&key, "", false).is_empty() {
            return Err(ApiError::InvalidCursor);
        }
        serde_json::from_value(key)
            .map(Some)
            .map_err(|_| ApiError::InvalidCursor)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows read in order: the extra row only says that
    /// there is a next page.
    pub fn from_rows<R, K: Serialize>(
        mut rows: Vec<R>,
        limit: u64,
        key: impl Fn(&R) -> K,
        view: impl Fn(R) -> T,
    ) -> Self {
        let has_more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let next_cursor = if has_more {
            rows.last().map(|last| encode(&key(last)))
        } else {
            None
        };
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

impl<T> Page<T> {
    /// The same page with its rows turned into views by one batch call (the features' `views`
    /// functions read what the rows refer to for all of them at once).
    pub async fn map_items<U, E, Fut>(
        self,
        to_views: impl FnOnce(Vec<T>) -> Fut,
    ) -> Result<Page<U>, E>
    where
        Fut: std::future::Future<Output = Result<Vec<U>, E>>,
    {
        Ok(Page {
            items: to_views(self.items).await?,
            next_cursor: self.next_cursor,
        })
    }
}

fn encode<K: Serialize>(key: &K) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let page = Page::from_rows(vec![1, 2, 3], 2, |r| *r, |r| r * 10);
        assert_eq!(page.items, vec![10, 20]);
        let params = PageParams {
            limit: None,
            cursor: page.next_cursor,
        };
        assert_eq!(params.after::<i32>().unwrap(), Some(2));
    }

    #[test]
    fn last_page_has_no_cursor() {
        let page = Page::from_rows(vec![1, 2], 2, |r| *r, |r| r);
        assert!(page.next_cursor.is_none());
    }

    #[test]
    fn a_cursor_with_control_characters_is_refused() {
        let params = PageParams {
            limit: None,
            cursor: Some(encode(&("a\u{0}b", 1))),
        };
        assert!(matches!(
            params.after::<(String, i32)>(),
            Err(ApiError::InvalidCursor)
        ));
    }

    #[test]
    fn bad_cursor_and_limit() {
        let params = PageParams {
            limit: Some(101),
            cursor: Some("!!".into()),
        };
        assert!(params.limit().is_err());
        assert!(matches!(
            params.after::<i32>(),
            Err(ApiError::InvalidCursor)
        ));
    }
}
