//! The one error type of the API and its single mapping to `application/problem+json` (RFC 9457).

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::ErrorHandlerResponse;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::i18n::{self, Lang};

pub type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid fields: {0:?}")]
    Validation(Vec<FieldError>),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// Query parameters (or a header) that cannot be read, field by field.
    #[error("invalid query: {0:?}")]
    InvalidQuery(Vec<FieldError>),
    #[error("invalid cursor")]
    InvalidCursor,
    #[error("no bearer token")]
    Unauthenticated,
    #[error("invalid access token")]
    InvalidToken,
    #[error("expired access token")]
    TokenExpired,
    #[error("session revoked")]
    SessionRevoked,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("account locked until {until}")]
    AccountLocked { until: DateTime<Utc> },
    #[error("account disabled")]
    AccountDisabled,
    #[error("forbidden")]
    Forbidden,
    /// The password was set by an admin and must be changed first.
    #[error("password change required")]
    PasswordChangeRequired,
    /// An admin tried to reset its own password (only `/me/password`, with the current one).
    #[error("own password reset")]
    OwnPasswordReset,
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// The request body did not arrive in time.
    #[error("request body timed out")]
    RequestTimeout,
    #[error("not found")]
    NotFound,
    /// A rule about the current state of things; the code names which.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The action is not allowed from the object's current state.
    #[error("not allowed in state {0}")]
    InvalidState(&'static str),
    /// An asset already carries a reserved or active lien.
    #[error("asset {0} is encumbered")]
    AssetEncumbered(uuid::Uuid),
    /// The same `Idempotency-Key` was sent with a different request.
    #[error("idempotency key reused with another request")]
    IdempotencyMismatch,
    /// The first request with this `Idempotency-Key` is still being answered.
    #[error("idempotency key in flight")]
    IdempotencyInFlight,
    #[error("stale If-Match")]
    PreconditionFailed,
    /// The approver recommended this application: someone else must approve it.
    #[error("four eyes")]
    FourEyes,
    /// The amount is above what this approver may approve.
    #[error("over approval limit {limit}")]
    OverApprovalLimit { limit: entity::Money },
    /// Only the officer the application is assigned to may do this.
    #[error("not assigned")]
    NotAssigned,
    /// A repayment above everything owed on its date.
    #[error("overpayment: {outstanding} outstanding")]
    Overpayment { outstanding: entity::Money },
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("service unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// One invalid field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str) -> Self {
        FieldError {
            field: field.into(),
            code,
        }
    }
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; stable, like `code`.
    #[serde(rename = "type")]
    #[schema(example = "urn:rural-collateral:problem:validation_failed")]
    pub problem_type: String,
    /// Short summary in the language of `Accept-Language` (English or Chinese).
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Stable machine code; never changes with the language.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The `x-request-id` of the request, for support.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Per-field problems, for `validation_failed` and `invalid_query`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// When a locked account opens again, for `account_locked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<DateTime<Utc>>,
    /// The object's state, for `invalid_state`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_state: Option<String>,
    /// The asset already pledged, for `asset_encumbered`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<uuid::Uuid>,
    /// The approver's limit, for `over_approval_limit`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_limit: Option<entity::Money>,
    /// Everything owed on the repayment's date, for `overpayment`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outstanding: Option<entity::Money>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    /// The field, as a path into the request body (`approval_limit`, `items[2].name`).
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation(_) => "validation_failed",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::InvalidQuery(_) => "invalid_query",
            ApiError::InvalidCursor => "invalid_cursor",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::InvalidToken => "invalid_token",
            ApiError::TokenExpired => "token_expired",
            ApiError::SessionRevoked => "session_revoked",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::InvalidRefreshToken => "invalid_refresh_token",
            ApiError::AccountLocked { .. } => "account_locked",
            ApiError::AccountDisabled => "account_disabled",
            ApiError::Forbidden => "forbidden",
            ApiError::PasswordChangeRequired => "password_change_required",
            ApiError::OwnPasswordReset => "own_password_reset",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::RequestTimeout => "request_timeout",
            ApiError::NotFound => "not_found",
            ApiError::Conflict(code) => code,
            ApiError::InvalidState(_) => "invalid_state",
            ApiError::AssetEncumbered(_) => "asset_encumbered",
            ApiError::IdempotencyMismatch => "idempotency_key_reused",
            ApiError::IdempotencyInFlight => "idempotency_key_in_flight",
            ApiError::PreconditionFailed => "precondition_failed",
            ApiError::FourEyes => "four_eyes",
            ApiError::OverApprovalLimit { .. } => "over_approval_limit",
            ApiError::NotAssigned => "not_assigned",
            ApiError::Overpayment { .. } => "overpayment",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::Unavailable(_) => "service_unavailable",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn problem(&self, lang: Lang) -> Problem {
        let code = self.code();
        let detail = match self {
            ApiError::MalformedJson(detail) => Some(detail.clone()),
            _ => None,
        };
        let errors = match self {
            ApiError::Validation(fields) | ApiError::InvalidQuery(fields) => fields
                .iter()
                .map(|f| ProblemField {
                    field: f.field.clone(),
                    code: f.code.to_owned(),
                    message: i18n::field_message(f.code, lang).to_owned(),
                })
                .collect(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: format!("urn:rural-collateral:problem:{code}"),
            title: i18n::problem_title(code, lang).to_owned(),
            status: self.status_code().as_u16(),
            detail,
            instance: None,
            code: code.to_owned(),
            request_id: None,
            errors,
            locked_until: match self {
                ApiError::AccountLocked { until } => Some(*until),
                _ => None,
            },
            current_state: match self {
                ApiError::InvalidState(state) => Some((*state).to_owned()),
                _ => None,
            },
            asset_id: match self {
                ApiError::AssetEncumbered(id) => Some(*id),
                _ => None,
            },
            approval_limit: match self {
                ApiError::OverApprovalLimit { limit } => Some(*limit),
                _ => None,
            },
            outstanding: match self {
                ApiError::Overpayment { outstanding } => Some(*outstanding),
                _ => None,
            },
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        // A database that does not answer is the platform being unavailable (503, worth a
        // retry), not a fault in the request (500).
        if crate::db::is_unavailable(&err) {
            ApiError::Unavailable(err.into())
        } else {
            ApiError::Internal(err.into())
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> Self {
        ApiError::Internal(err)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_) | ApiError::InvalidQuery(_) | ApiError::InvalidCursor => {
                StatusCode::BAD_REQUEST
            }
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unauthenticated
            | ApiError::InvalidToken
            | ApiError::TokenExpired
            | ApiError::SessionRevoked
            | ApiError::InvalidCredentials
            | ApiError::InvalidRefreshToken => StatusCode::UNAUTHORIZED,
            ApiError::AccountLocked { .. } => StatusCode::LOCKED,
            ApiError::AccountDisabled
            | ApiError::Forbidden
            | ApiError::PasswordChangeRequired
            | ApiError::OwnPasswordReset
            | ApiError::FourEyes
            | ApiError::OverApprovalLimit { .. }
            | ApiError::NotAssigned => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict(_)
            | ApiError::InvalidState(_)
            | ApiError::AssetEncumbered(_)
            | ApiError::IdempotencyInFlight => StatusCode::CONFLICT,
            ApiError::IdempotencyMismatch | ApiError::Overpayment { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
            ApiError::Unavailable(cause) => tracing::warn!(error = ?cause, "not ready"),
            _ => {}
        }
        let mut response = problem_response(&self.problem(Lang::En));
        if self.status_code() == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::Unavailable(_) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(1u32));
        }
        if let ApiError::AccountLocked { until } = self {
            // The per-mobile limit: the same back-off signal as the per-address 429.
            let seconds = (*until - Utc::now()).num_seconds().max(1);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let ApiError::RateLimited { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
        }
        if let ApiError::RequestTimeout = self {
            // The rest of the body will never be read: the connection must end.
            response
                .head_mut()
                .set_connection_type(actix_web::http::ConnectionType::Close);
        }
        response
    }
}

fn problem_response(problem: &Problem) -> HttpResponse {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .json(problem)
}

/// Problem code for an error that did not come from our handlers (the router, actix itself).
fn code_for_status(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::SERVICE_UNAVAILABLE => "service_unavailable",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        s if s.is_client_error() => "bad_request",
        _ => "internal_error",
    }
}

/// Middleware hook (`ErrorHandlers::default_handler`): every error response leaves as a problem
/// in the caller's language, carrying the request path and id, whatever produced it.
pub fn render_problem<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let lang = Lang::from_request(res.request());
    let mut problem = match res.response().error() {
        Some(err) => match err.as_error::<ApiError>() {
            Some(api_error) => api_error.problem(lang),
            None => generic_problem(res.status(), lang),
        },
        None => generic_problem(res.status(), lang),
    };
    problem.instance = Some(res.request().path().to_owned());
    problem.request_id = request_id(res.request());

    let (req, old) = res.into_parts();
    let mut response = problem_response(&problem);
    response
        .head_mut()
        .set_connection_type(old.head().connection_type());
    for (name, value) in old.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            response.headers_mut().insert(name.clone(), value.clone());
        }
    }
    let response: ServiceResponse<BoxBody> = ServiceResponse::new(req, response);
    Ok(ErrorHandlerResponse::Response(
        response.map_body(|_, body| EitherBody::right(body)),
    ))
}

fn generic_problem(status: StatusCode, lang: Lang) -> Problem {
    let code = code_for_status(status);
    Problem {
        problem_type: format!("urn:rural-collateral:problem:{code}"),
        title: i18n::problem_title(code, lang).to_owned(),
        status: status.as_u16(),
        detail: None,
        instance: None,
        code: code.to_owned(),
        request_id: None,
        errors: Vec::new(),
        locked_until: None,
        current_state: None,
        asset_id: None,
        approval_limit: None,
        outstanding: None,
    }
}

pub fn request_id(req: &HttpRequest) -> Option<String> {
    req.extensions()
        .get::<tracing_actix_web::RequestId>()
        .map(|id| id.to_string())
}

/// Parses several fields at once and reports every invalid one, not just the first:
/// `let (mobile, name) = validate!(mobile = Mobile::parse(&b.mobile), display_name = ...)?;`
/// Each expression is a `Result<T, &'static str>` whose error is a field code from `i18n`.
#[macro_export]
macro_rules! validate {
    ($($field:ident = $parsed:expr),+ $(,)?) => {{
        match ($($parsed,)+) {
            ($(Ok($field),)+) => Ok::<_, $crate::error::ApiError>(($($field,)+)),
            ($($field,)+) => {
                let mut errors = Vec::new();
                $(
                    if let Err(code) = $field {
                        errors.push($crate::error::FieldError::new(stringify!($field), code));
                    }
                )+
                Err($crate::error::ApiError::Validation(errors))
            }
        }
    }};
}
