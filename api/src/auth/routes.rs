//! `/auth/*` and `/me*`: thin handlers over `sessions` and `password`.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use entity::{UserStatus, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::permissions::UseOwnAccount;
use super::tokens::ACCESS_TOKEN_TTL;
use super::{Authorized, guard, password, sessions};
use crate::db;
use crate::domain::{Mobile, NewPassword};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Json;
use crate::state::AppState;
use crate::users::UserView;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(me)
        .service(change_password);
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    #[schema(example = "13800000000", pattern = r"^1[3-9]\d{9}$")]
    pub mobile: String,
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque; exchange it at `/auth/refresh` for a new pair. Each one works once.
    pub refresh_token: String,
    pub user: UserView,
}

impl LoginResponse {
    fn new(tokens: sessions::IssuedTokens, user: &user::Model) -> Self {
        LoginResponse {
            access_token: tokens.access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.num_seconds(),
            refresh_token: tokens.refresh_token,
            user: UserView::from(user),
        }
    }
}

/// Sign in with mobile number and password.
///
/// At most five wrong passwords are checked per mobile number; the fifth locks it for 15
/// minutes (423, also for the right password). Unknown and known numbers answer alike, in the
/// same time. Each client address may try a limited number of sign-ins a minute (429).
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong mobile or password", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Account disabled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a mobile number, or control characters", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Too many wrong passwords for this mobile: locked until `locked_until`; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds until the lock ends"))),
        (status = 429, description = "Too many sign-ins from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds until the next try is counted"))),
    )
)]
#[post("/auth/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let LoginRequest { mobile, password } = body.into_inner()?;
    let mobile = Mobile::parse(&mobile)
        .map_err(|code| ApiError::Validation(vec![FieldError::new("mobile", code)]))?;
    let mobile = mobile.as_str();
    let client = state.limits.client_address(&req);
    guard::count_address(&state.db, "login", &client, state.limits.login).await?;
    guard::reserve_guess(&state.db, mobile).await?;
    let found = user::Entity::find()
        .filter(user::Column::Mobile.eq(mobile))
        .one(&state.db)
        .await?;
    // An unknown mobile is checked against a dummy hash: the same work, the same answer.
    let stored_hash = found
        .as_ref()
        .map_or_else(|| state.dummy_hash.to_string(), |u| u.password_hash.clone());
    let matches = password::verify(password, stored_hash).await?;
    let Some(user) = found.filter(|_| matches) else {
        return Err(guard::guess_was_wrong(&state.db, mobile, &client).await?);
    };
    guard::guess_was_right(&state.db, mobile).await?;
    if user.status != UserStatus::Active {
        return Err(ApiError::AccountDisabled);
    }
    let tokens = sessions::open(&state.db, &state.tokens, &user).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(web::Json(LoginResponse::new(tokens, &user)))
}

#[derive(Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchange a refresh token for a new access token and refresh token.
///
/// Each refresh token works once. Presenting one that was already exchanged revokes the whole
/// sign-in (someone else has a copy).
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Unknown, reused, revoked or expired refresh token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Account disabled", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many refreshes from this address; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds until the next try is counted"))),
    )
)]
#[post("/auth/refresh")]
async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> ApiResult<web::Json<LoginResponse>> {
    let client = state.limits.client_address(&req);
    guard::count_address(&state.db, "refresh", &client, state.limits.refresh).await?;
    let (tokens, user) =
        sessions::rotate(&state.db, &state.tokens, &body.into_inner()?.refresh_token).await?;
    Ok(web::Json(LoginResponse::new(tokens, &user)))
}

/// Sign out: the session ends, its access and refresh tokens stop working.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
) -> ApiResult<HttpResponse> {
    sessions::revoke(&state.db, caller.session_id, db::now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn me(caller: Authorized<UseOwnAccount>) -> web::Json<UserView> {
    web::Json(UserView::from(&caller.user))
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    /// 8–128 characters with at least one letter and one digit.
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

/// Change one's own password. Every other session of the user is signed out. This is also how
/// a user whose password an admin set (new account, reset) ends `password_change_required`.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password or weak new one", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "Too many wrong current passwords: locked like sign-in; see `Retry-After`", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u32, description = "Seconds until the lock ends"))),
    )
)]
#[post("/me/password")]
async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    caller: Authorized<UseOwnAccount>,
    body: Json<ChangePasswordRequest>,
) -> ApiResult<HttpResponse> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.into_inner()?;
    let new_password = NewPassword::parse(&new_password)
        .map_err(|code| ApiError::Validation(vec![FieldError::new("new_password", code)]))?;
    // The current password is guessed against the same counter as sign-in: a stolen access
    // token gives no unlimited guesses.
    let mobile = caller.user.mobile.as_str();
    guard::reserve_guess(&state.db, mobile).await?;
    if !password::verify(current_password, caller.user.password_hash.clone()).await? {
        let client = state.limits.client_address(&req);
        return Err(
            match guard::guess_was_wrong(&state.db, mobile, &client).await? {
                locked @ ApiError::AccountLocked { .. } => locked,
                _ => ApiError::Validation(vec![FieldError::new("current_password", "incorrect")]),
            },
        );
    }
    guard::guess_was_right(&state.db, mobile).await?;
    if password::verify(
        new_password.secret().clone(),
        caller.user.password_hash.clone(),
    )
    .await?
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "new_password",
            "same_as_current",
        )]));
    }
    crate::users::ops::change_own_password(&state.db, &caller, new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}
