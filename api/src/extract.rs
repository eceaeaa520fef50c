//! Request extractors shared by every feature: JSON bodies and query strings with field-level
//! errors (control characters refused in both), `If-Match`, and the error mapping of actix's own
//! path extractor.

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
    let parsed = deserialize_json(bytes)?;
    reject_control_characters(bytes)?;
    Ok(parsed)
}

/// Fields that hold free text over several lines: tabs and line breaks are allowed there.
const MULTI_LINE_FIELDS: [&str; 7] = [
    "description",
    "note",
    "message",
    "opinion",
    "reason_text",
    "text",
    "comment",
];

/// Control characters have no place in names, numbers or codes (a NUL cannot even be stored in
/// PostgreSQL text); only multi-line fields may carry tabs and line breaks.
fn reject_control_characters(bytes: &[u8]) -> Result<(), ApiError> {
    // In JSON text a control character can only appear escaped (`\u0000`, `\n`, ...).
    // DEL and the C1 controls (U+0080–U+009F, `C2 80`–`C2 9F` in UTF-8) may also stand raw.
    let may_have_one = bytes.windows(2).any(|w| {
        (w[0] == b'\\' && matches!(w[1], b'u' | b'n' | b'r' | b't' | b'b' | b'f'))
            || (w[0] == 0xC2 && (0x80..=0x9F).contains(&w[1]))
    }) || bytes.contains(&0x7F);
    if !may_have_one {
        return Ok(());
    }
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let fields = control_characters(&value, "", false);
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(
            fields
                .into_iter()
                .map(|field| FieldError::new(field, "control_characters"))
                .collect(),
        ))
    }
}

/// The paths (`items[2].name`) of the strings in `value` that hold control characters.
pub fn control_characters(value: &serde_json::Value, path: &str, multi_line: bool) -> Vec<String> {
    use serde_json::Value;
    match value {
        Value::String(text) => {
            let bad = text
                .chars()
                .any(|c| c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t')));
            if bad {
                vec![path.to_owned()]
            } else {
                Vec::new()
            }
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, item)| control_characters(item, &format!("{path}[{i}]"), multi_line))
            .collect(),
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(name, item)| {
                let child = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                control_characters(item, &child, MULTI_LINE_FIELDS.contains(&name.as_str()))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn deserialize_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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

/// The versions a client read, from `If-Match`; absent (or `*`) means "do not check".
///
/// A tag that is not one of our versions can never match: like a stale one it answers 412, but
/// only once the object has been found (RFC 9110 §13.2.1: a 404 comes before any precondition).
#[derive(Debug, PartialEq, Eq)]
pub enum IfMatch {
    Any,
    OneOf(Vec<i32>),
}

impl IfMatch {
    /// Fails with 412 unless the client read the `current` version.
    pub fn check(&self, current: i32) -> Result<(), ApiError> {
        match self {
            IfMatch::OneOf(versions) if !versions.contains(&current) => {
                Err(ApiError::PreconditionFailed)
            }
            _ => Ok(()),
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(parse_if_match(req.headers().get(header::IF_MATCH))))
    }
}

fn parse_if_match(value: Option<&HeaderValue>) -> IfMatch {
    let Some(value) = value else {
        return IfMatch::Any;
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    if text.trim() == "*" {
        return IfMatch::Any;
    }
    IfMatch::OneOf(
        text.split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                tag.strip_prefix("W/")
                    .unwrap_or(tag)
                    .trim_matches('"')
                    .parse()
                    .ok()
            })
            .collect(),
    )
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
    created_at(&format!("/api/v1/{collection}/{id}"), version, body)
}

/// 201 for a new object found at `location`. Objects that never change (a valuation, a
/// document) have version 1 for good.
pub fn created_at<T: serde::Serialize>(location: &str, version: i32, body: &T) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
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

/// Query parameters. Unlike `actix_web::web::Query`, a bad parameter is reported by name with a
/// stable code (`invalid_query` with `errors`), and control characters are refused.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = url::form_urlencoded::parse(query.as_bytes());
    let controlled: Vec<FieldError> = pairs
        .filter(|(name, value)| name.chars().chain(value.chars()).any(char::is_control))
        .map(|(name, _)| {
            FieldError::new(
                name.chars().filter(|c| !c.is_control()).collect::<String>(),
                "control_characters",
            )
        })
        .collect();
    if !controlled.is_empty() {
        return Err(ApiError::InvalidQuery(controlled));
    }
    let deserializer = serde_urlencoded::Deserializer::new(pairs);
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let field = err.path().to_string();
        let message = err.into_inner().to_string();
        let (field, code) = match missing_field(&message) {
            Some(name) => (name.to_owned(), "required"),
            None if message.starts_with("unknown variant") => (field, "unknown_value"),
            None => (field, "invalid_value"),
        };
        let field = if field == "." { String::new() } else { field };
        ApiError::InvalidQuery(vec![FieldError::new(field, code)])
    })
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
    fn raw_delete_characters_are_refused_too() {
        let err = parse_json::<serde_json::Value>(b"{\"name\": \"a\x7fb\"}").unwrap_err();
        assert_eq!(field_of(err), ("name".into(), "control_characters"));
        let err =
            parse_json::<serde_json::Value>("{\"name\": \"a\u{85}b\"}".as_bytes()).unwrap_err();
        assert_eq!(field_of(err), ("name".into(), "control_characters"));
    }

    #[test]
    fn control_characters_are_refused_outside_multi_line_fields() {
        let err = parse_json::<serde_json::Value>(br#"{"name": "a\u0000b", "note": "1\n2\t3"}"#)
            .unwrap_err();
        assert_eq!(field_of(err), ("name".into(), "control_characters"));
        assert!(parse_json::<serde_json::Value>(br#"{"note": "line 1\nline 2"}"#).is_ok());
        let err = parse_json::<serde_json::Value>(br#"{"note": "bell\u0007"}"#).unwrap_err();
        assert_eq!(field_of(err), ("note".into(), "control_characters"));
        let err =
            parse_json::<serde_json::Value>(br#"{"items": [{"name": "ok"}, {"name": "\r"}]}"#)
                .unwrap_err();
        assert_eq!(
            field_of(err),
            ("items[1].name".into(), "control_characters")
        );
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Filter {
        status: Option<entity::Role>,
        limit: Option<u64>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let field = |err: ApiError| match err {
            ApiError::InvalidQuery(mut fields) => {
                let f = fields.remove(0);
                (f.field, f.code)
            }
            other => panic!("unexpected {other:?}"),
        };
        assert_eq!(
            field(parse_query::<Filter>("status=king").unwrap_err()),
            ("status".into(), "unknown_value")
        );
        assert_eq!(
            field(parse_query::<Filter>("limit=-1").unwrap_err()),
            ("limit".into(), "invalid_value")
        );
        assert_eq!(
            field(parse_query::<Filter>("status=%00").unwrap_err()),
            ("status".into(), "control_characters")
        );
        assert!(parse_query::<Filter>("status=admin&limit=5").is_ok());
    }

    #[test]
    fn if_match_forms() {
        let parsed = |text: &'static str| parse_if_match(Some(&HeaderValue::from_static(text)));
        assert_eq!(parsed("\"3\""), IfMatch::OneOf(vec![3]));
        assert_eq!(parsed("W/\"4\""), IfMatch::OneOf(vec![4]));
        assert_eq!(parsed("\"1\", \"2\""), IfMatch::OneOf(vec![1, 2]));
        assert_eq!(parsed("*"), IfMatch::Any);
        assert_eq!(parse_if_match(None), IfMatch::Any);
        assert!(IfMatch::OneOf(vec![2]).check(3).is_err());
        assert!(IfMatch::OneOf(vec![2, 3]).check(3).is_ok());
        // Not one of our tags: never matches, whatever the version.
        assert_eq!(parsed("\"abc\""), IfMatch::OneOf(vec![]));
        assert!(parsed("garbage").check(1).is_err());
    }
}
