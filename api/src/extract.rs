//! Request extractors shared by every feature: JSON bodies with field-level errors, `If-Match`,
//! and the error mapping of actix's own path and query extractors.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// Largest JSON body accepted; larger ones get 413.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// A JSON request body. Unlike `actix_web::web::Json`, a body of the wrong shape is reported
/// field by field (`validation_failed` with the JSON path), and syntax errors as `malformed_json`.
///
/// Extraction itself never fails: the handler calls [`Json::into_inner`] after its other
/// extractors have run, so a caller who may not call the endpoint learns that (401/403), not
/// what is wrong with the body.
pub struct Json<T>(Result<T, ApiError>);

impl<T> Json<T> {
    pub fn into_inner(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let essence = v
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false);
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await;
            if !is_json {
                return Ok(Json(Err(ApiError::UnsupportedMediaType)));
            }
            let parsed = match bytes {
                Ok(bytes) => parse_json(&bytes),
                Err(err) if err.as_response_error().status_code() == 413 => {
                    Err(ApiError::PayloadTooLarge)
                }
                Err(_) => Err(ApiError::MalformedJson("the body could not be read".into())),
            };
            Ok(Json(parsed))
        })
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                let (field, code) = match missing_field(&message) {
                    Some(name) if path == "." => (name.to_owned(), "required"),
                    Some(name) => (format!("{path}.{name}"), "required"),
                    None if message.starts_with("invalid type") => (path, "invalid_type"),
                    None if message.starts_with("invalid amount") => (path, "invalid_amount"),
                    None if message.starts_with("invalid decimal") => (path, "invalid_decimal"),
                    None => (path, "invalid_value"),
                };
                let field = if field == "." { String::new() } else { field };
                ApiError::Validation(vec![FieldError::new(field, code)])
            }
            _ => ApiError::MalformedJson(inner.to_string()),
        }
    })
}

fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// The version a client read, from `If-Match`; absent means "do not check".
pub struct IfMatch(pub Option<i32>);

impl IfMatch {
    /// Fails with 412 when the client read an older version than `current`.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        match self.0 {
            Some(expected) if expected != current => Err(ApiError::PreconditionFailed),
            _ => Ok(()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_if_match(req.headers().get(header::IF_MATCH)))
    }
}

fn parse_if_match(value: Option<&HeaderValue>) -> Result<IfMatch, ApiError> {
    let Some(value) = value else {
        return Ok(IfMatch(None));
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed)?
        .trim();
    if text == "*" {
        return Ok(IfMatch(None));
    }
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse()
        .map(|v| IfMatch(Some(v)))
        .map_err(|_| ApiError::PreconditionFailed)
}

/// The `ETag` header value for an object version.
pub fn etag(version: i32) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// 201 for a new object: its `Location` (`/api/v1/{collection}/{id}`), its ETag, its body.
pub fn created<T: serde::Serialize>(
    collection: &str,
    id: impl std::fmt::Display,
    version: i32,
    body: &T,
) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/{collection}/{id}")))
        .insert_header(etag(version))
        .json(body)
}

/// A response with a body and the object's ETag.
pub fn with_etag<T: serde::Serialize>(
    status: actix_web::http::StatusCode,
    version: i32,
    body: &T,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(version))
        .json(body)
}

pub fn path_config() -> web::PathConfig {
    // A malformed id in the path can name no object.
    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::InvalidQuery(err.to_string()).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        mobile: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: i32,
    }

    fn field_of(err: ApiError) -> (String, &'static str) {
        match err {
            ApiError::Validation(mut fields) => {
                let f = fields.remove(0);
                (f.field, f.code)
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn names_the_missing_and_mistyped_fields() {
        let err = parse_json::<Body>(br#"{}"#).unwrap_err();
        assert_eq!(field_of(err), ("mobile".into(), "required"));
        let err = parse_json::<Body>(br#"{"mobile": 5}"#).unwrap_err();
        assert_eq!(field_of(err), ("mobile".into(), "invalid_type"));
        let err = parse_json::<Body>(br#"{"mobile": "1", "inner": {"count": "x"}}"#).unwrap_err();
        assert_eq!(field_of(err), ("inner.count".into(), "invalid_type"));
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(
            parse_json::<Body>(br#"{"mobile": "#),
            Err(ApiError::MalformedJson(_))
        ));
    }

    #[test]
    fn if_match_forms() {
        let v = HeaderValue::from_static("\"3\"");
        assert_eq!(parse_if_match(Some(&v)).unwrap().0, Some(3));
        let v = HeaderValue::from_static("W/\"4\"");
        assert_eq!(parse_if_match(Some(&v)).unwrap().0, Some(4));
        let v = HeaderValue::from_static("*");
        assert_eq!(parse_if_match(Some(&v)).unwrap().0, None);
        assert_eq!(parse_if_match(None).unwrap().0, None);
        assert!(IfMatch(Some(2)).check(3).is_err());
    }
}
