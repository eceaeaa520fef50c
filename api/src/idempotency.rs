//! `Idempotency-Key`: a retried request gets the first successful answer again, byte for byte,
//! and never runs twice. The key is claimed in the database before the work starts, so a retry
//! that arrives while the first is still running is refused (409) on every instance, and the
//! same key with a different body is refused (422). A failed first attempt frees the key.
//!
//! The work runs in one transaction with the storing of its answer: either both commit or
//! neither does. So a claim without an answer always means the work did not commit, and
//! releasing it — after 5 minutes, when its request must have died — can never let the work run
//! a second time. Keys are remembered for 24 hours.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use entity::idempotency_key;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db;
use crate::error::{ApiError, FieldError};

/// How long a key's answer is kept for replay.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);
/// A claim with no answer after this long belongs to a request that died; a retry may take it.
pub const ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// What a successful answer is made of, so that it can be stored and replayed.
pub struct Answer {
    pub status: StatusCode,
    pub headers: Vec<(HeaderName, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json<T: serde::Serialize>(status: StatusCode, value: &T) -> Result<Answer, ApiError> {
        Ok(Answer {
            status,
            headers: Vec::new(),
            body: serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.into()))?,
        })
    }

    pub fn header(mut self, name: HeaderName, value: String) -> Answer {
        self.headers.push((name, value));
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.content_type("application/json");
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.insert_header((name, value));
            }
        }
        if replayed {
            response.insert_header(("idempotent-replayed", "true"));
        }
        response.body(self.body)
    }
}

/// The client's key, if it sent one (at most 128 characters).
pub fn key_of(request: &HttpRequest) -> Result<Option<String>, ApiError> {
    match request.headers().get("idempotency-key") {
        None => Ok(None),
        Some(value) => {
            let key = value.to_str().map_err(|_| bad_key())?.trim();
            if key.is_empty() || key.len() > 128 {
                return Err(bad_key());
            }
            Ok(Some(key.to_owned()))
        }
    }
}

fn bad_key() -> ApiError {
    ApiError::InvalidQuery(vec![FieldError::new(
        "Idempotency-Key",
        "invalid_idempotency_key",
    )])
}

/// Runs `work` once per (user, key) inside a transaction that also stores its answer; replays
/// the answer to retries. Without a key the work runs in a transaction of its own.
pub async fn run<F>(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: Option<String>,
    scope: String,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Answer, ApiError>,
{
    let Some(key) = key else {
        let txn = db::begin_writing(db).await?;
        let answer = work(&txn).await?;
        txn.commit().await?;
        return Ok(answer.into_response(false));
    };
    let request_hash: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let now = db::now();
    // Expired keys, and claims whose first request died without answering, are let go.
    idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(idempotency_key::Column::CreatedAt.lt(now - KEPT_FOR))
                .add(
                    Condition::all()
                        .add(idempotency_key::Column::ResponseStatus.is_null())
                        .add(idempotency_key::Column::CreatedAt.lt(now - ABANDONED_AFTER)),
                ),
        )
        .exec(db)
        .await?;
    let claim = idempotency_key::Entity::insert(idempotency_key::ActiveModel::from(
        idempotency_key::Model {
            user_id,
            key: key.clone(),
            scope: scope.clone(),
            request_hash: request_hash.clone(),
            response_status: None,
            response_headers: None,
            response_body: None,
            created_at: now,
        },
    ))
    .exec_without_returning(db)
    .await;
    match claim {
        Ok(_) => {}
        Err(err) if db::is_unique_violation(&err) => {
            let first = idempotency_key::Entity::find_by_id((user_id, key))
                .one(db)
                .await?
                .ok_or(ApiError::IdempotencyInFlight)?;
            if first.scope != scope || first.request_hash != request_hash {
                return Err(ApiError::IdempotencyMismatch);
            }
            return match (first.response_status, first.response_body) {
                (Some(status), Some(body)) => Ok(Answer {
                    status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                    headers: first
                        .response_headers
                        .as_deref()
                        .and_then(|h| serde_json::from_str::<Vec<(String, String)>>(h).ok())
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(n, v)| HeaderName::try_from(n).ok().map(|n| (n, v)))
                        .collect(),
                    body,
                }
                .into_response(true)),
                _ => Err(ApiError::IdempotencyInFlight),
            };
        }
        Err(err) => return Err(err.into()),
    }

    let forget = || {
        idempotency_key::Entity::delete_many()
            .filter(idempotency_key::Column::UserId.eq(user_id))
            .filter(idempotency_key::Column::Key.eq(key.clone()))
            .exec(db)
    };
    match work_and_answer(db, user_id, &key, work).await {
        Ok(answer) => Ok(answer.into_response(false)),
        Err(err) => {
            // Nothing of the work committed: the key is free for a retry.
            forget().await?;
            Err(err)
        }
    }
}

/// The work and the storing of its answer, committed together.
async fn work_and_answer<F>(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
    work: F,
) -> Result<Answer, ApiError>
where
    F: AsyncFnOnce(&DatabaseTransaction) -> Result<Answer, ApiError>,
{
    let claimed = || {
        Condition::all()
            .add(idempotency_key::Column::UserId.eq(user_id))
            .add(idempotency_key::Column::Key.eq(key))
    };
    let txn = db::begin_writing(db).await?;
    let answer = work(&txn).await?;
    let headers: Vec<(String, String)> = answer
        .headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.clone()))
        .collect();
    idempotency_key::Entity::update_many()
        .col_expr(
            idempotency_key::Column::ResponseStatus,
            Expr::value(i32::from(answer.status.as_u16())),
        )
        .col_expr(
            idempotency_key::Column::ResponseHeaders,
            Expr::value(serde_json::to_string(&headers).unwrap_or_default()),
        )
        .col_expr(
            idempotency_key::Column::ResponseBody,
            Expr::value(answer.body.clone()),
        )
        .filter(claimed())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(answer)
}
