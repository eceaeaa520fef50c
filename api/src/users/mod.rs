//! User accounts, managed by the county bureau (admin); supervisors may read them.

pub mod ops;
mod rules;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::{Money, Role, UserStatus, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use rules::{Binding, check_binding, rebind};

use crate::auth::permissions::{ManageUsers, ReadUsers};
use crate::auth::{Authorized, guard};
use crate::db;
use crate::domain::Mobile;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{IfMatch, Json, Query, created, parse_json, with_etag};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_user)
        .service(list_users)
        .service(get_user)
        .service(update_user)
        .service(reset_password);
}

/// A user as the API shows it (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub mobile: String,
    pub display_name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub approval_limit: Option<Money>,
    pub status: UserStatus,
    /// Set while sign-in is locked after repeated failures.
    pub locked_until: Option<DateTime<Utc>>,
    /// The password was set by an admin: the user must change it (`/me/password`) before
    /// anything else.
    pub must_change_password: bool,
    /// Send back as `If-Match` when updating.
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        UserView {
            id: u.id,
            mobile: u.mobile.clone(),
            display_name: u.display_name.clone(),
            role: u.role,
            organization_id: u.organization_id,
            bank_id: u.bank_id,
            branch_id: u.branch_id,
            approval_limit: u.approval_limit,
            status: u.status,
            locked_until: None,
            must_change_password: u.must_change_password,
            version: u.version,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Views of users with their sign-in locks, read for all of them at once.
pub async fn views(
    db: &impl sea_orm::ConnectionTrait,
    users: Vec<user::Model>,
) -> Result<Vec<UserView>, ApiError> {
    let locks: std::collections::HashMap<String, DateTime<Utc>> =
        guard::locks(db, users.iter().map(|u| u.mobile.clone()))
            .await?
            .into_iter()
            .collect();
    Ok(users
        .iter()
        .map(|u| UserView {
            locked_until: locks.get(&u.mobile).copied(),
            ..UserView::from(u)
        })
        .collect())
}

async fn view(db: &impl sea_orm::ConnectionTrait, user: user::Model) -> Result<UserView, ApiError> {
    views(db, vec![user])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user view missing")))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(example = "13912345678", pattern = r"^1[3-9]\d{9}$")]
    pub mobile: String,
    #[schema(example = "王芳")]
    pub display_name: String,
    pub role: Role,
    /// Initial password: 8–128 characters with a letter and a digit. The user must change it
    /// at first sign-in.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
    /// Required for `org_operator`, not allowed otherwise.
    pub organization_id: Option<Uuid>,
    /// Required for bank roles, not allowed otherwise.
    pub bank_id: Option<Uuid>,
    /// Optional for bank roles.
    pub branch_id: Option<Uuid>,
    /// Required for `bank_approver`, not allowed otherwise.
    pub approval_limit: Option<Money>,
}

/// Create a user.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    request_body = CreateUserRequest,
    responses(
        (status = 201, body = UserView, headers(("ETag" = String), ("Location" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Mobile already registered (`mobile_taken`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users")]
async fn create_user(
    state: web::Data<AppState>,
    caller: Authorized<ManageUsers>,
    body: Json<CreateUserRequest>,
) -> ApiResult<HttpResponse> {
    let user = ops::create(&state.db, &caller, body.into_inner()?).await?;
    Ok(created(
        "users",
        user.id,
        user.version,
        &UserView::from(&user),
    ))
}

pub struct NewUser {
    pub mobile: Mobile,
    pub display_name: String,
    pub role: Role,
    pub binding: Binding,
    pub password_hash: String,
    /// True when someone other than the user chose the password.
    pub must_change_password: bool,
}

/// Inserts a user; a taken mobile is a 409 `mobile_taken`, decided by the unique index.
async fn insert(db: &impl sea_orm::ConnectionTrait, new: NewUser) -> Result<user::Model, ApiError> {
    let now = db::now();
    let model = user::Model {
        id: Uuid::now_v7(),
        mobile: new.mobile.into_inner(),
        display_name: new.display_name,
        password_hash: new.password_hash,
        role: new.role,
        organization_id: new.binding.organization_id,
        bank_id: new.binding.bank_id,
        branch_id: new.binding.branch_id,
        approval_limit: new.binding.approval_limit,
        status: UserStatus::Active,
        must_change_password: new.must_change_password,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let active: user::ActiveModel = model.clone().into();
    match user::Entity::insert(active)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(model),
        Err(err) if db::is_unique_violation(&err) => Err(ApiError::Conflict("mobile_taken")),
        Err(err) => Err(err.into()),
    }
}

/// Everything wrong with a binding: the role's rules first, then, for the fields those rules
/// accept, whether the referenced tenant exists.
async fn binding_errors(
    db: &impl sea_orm::ConnectionTrait,
    role: Role,
    binding: &Binding,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = check_binding(role, binding);
    let missing = check_binding_targets(db, binding).await?;
    let already: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
    errors.extend(missing.into_iter().filter(|e| !already.contains(&e.field)));
    Ok(errors)
}

/// The organization, bank and branch a user is bound to must exist, and the branch must be
/// one of that bank's (the database's foreign keys say so too; this names the field).
pub async fn check_binding_targets(
    db: &impl sea_orm::ConnectionTrait,
    binding: &Binding,
) -> Result<Vec<FieldError>, ApiError> {
    let mut errors = Vec::new();
    if let Some(id) = binding.organization_id
        && entity::organization::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new("organization_id", "unknown_organization"));
    }
    if let Some(id) = binding.bank_id
        && entity::bank::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_none()
    {
        errors.push(FieldError::new("bank_id", "unknown_bank"));
    }
    if let Some(id) = binding.branch_id {
        let branch = entity::bank_branch::Entity::find_by_id(id).one(db).await?;
        if branch.is_none_or(|b| Some(b.bank_id) != binding.bank_id) {
            errors.push(FieldError::new("branch_id", "unknown_branch"));
        }
    }
    Ok(errors)
}

pub fn with_more_errors<T>(
    parsed: Result<T, ApiError>,
    more: Vec<FieldError>,
) -> Result<T, ApiError> {
    match parsed {
        Ok(value) if more.is_empty() => Ok(value),
        Ok(_) => Err(ApiError::Validation(more)),
        Err(ApiError::Validation(mut errors)) => {
            errors.extend(more);
            Err(ApiError::Validation(errors))
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Part of the mobile number or display name.
    pub q: Option<String>,
}

/// List users, oldest first.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(UserFilter, PageParams),
    responses(
        (status = 200, body = Page<UserView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    _caller: Authorized<ReadUsers>,
    filter: Query<UserFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<UserView>>> {
    let limit = page.limit()?;
    let mut query = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(user::Column::Id.gt(after));
    }
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role));
    }
    if let Some(status) = filter.status {
        query = query.filter(user::Column::Status.eq(status));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = db::contains_pattern(q);
        query = query.filter(
            Condition::any()
                .add(Expr::col(user::Column::Mobile).like(pattern.clone()))
                .add(Expr::expr(Func::lower(Expr::col(user::Column::DisplayName))).like(pattern)),
        );
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |u| u.id, |u| u)
        .map_items(|users| views(&state.db, users))
        .await?;
    Ok(web::Json(page))
}

/// One user.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/users/{id}")]
async fn get_user(
    state: web::Data<AppState>,
    _caller: Authorized<ReadUsers>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = find(&state.db, *id).await?;
    let version = found.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, found).await?,
    ))
}

async fn find(db: &impl sea_orm::ConnectionTrait, id: Uuid) -> Result<user::Model, ApiError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

#[derive(Deserialize, ToSchema, Default)]
pub struct UpdateUserRequest {
    pub display_name: Option<String>,
    /// Changing the role drops the bindings the new role may not have.
    pub role: Option<Role>,
    /// `disabled` signs the user out everywhere and stops sign-in.
    pub status: Option<UserStatus>,
    pub organization_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub approval_limit: Option<Money>,
}

/// Change a user's name, role, status, binding or approval limit.
///
/// Send the `ETag` you read as `If-Match`; a stale one gets 412. A change of role, binding or
/// status signs the user out everywhere.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateUserRequest,
    responses(
        (status = 200, body = UserView, headers(("ETag" = String))),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`cannot_modify_self`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/users/{id}")]
async fn update_user(
    state: web::Data<AppState>,
    caller: Authorized<ManageUsers>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateUserRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let current = find(&state.db, *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update(&state.db, &caller, current, request).await?;
    let version = updated.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, updated).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ResetPasswordRequest {
    /// The new password; leave out to have one generated and returned once.
    #[schema(value_type = Option<String>, format = Password)]
    pub new_password: Option<SecretString>,
}

#[derive(Serialize, ToSchema)]
pub struct ResetPasswordResponse {
    /// The generated password, shown this once; absent when you chose one.
    pub temporary_password: Option<String>,
}

/// Reset another user's password: unlocks the account, signs the user out everywhere, and makes
/// the user choose a new password at the next sign-in. One's own password changes only through
/// `/me/password`, with the current one (403 `own_password_reset`).
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body(content = Option<ResetPasswordRequest>, description = "Optional; empty body generates a password"),
    responses(
        (status = 200, body = ResetPasswordResponse),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/users/{id}/reset-password")]
async fn reset_password(
    state: web::Data<AppState>,
    caller: Authorized<ManageUsers>,
    id: web::Path<Uuid>,
    body: web::Bytes,
) -> ApiResult<web::Json<ResetPasswordResponse>> {
    if *id == caller.id() {
        return Err(ApiError::OwnPasswordReset);
    }
    let request: ResetPasswordRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ResetPasswordRequest::default()
    } else {
        parse_json(&body)?
    };
    let target = find(&state.db, *id).await?;
    let temporary_password = ops::reset_password(&state.db, &caller, target, request).await?;
    Ok(web::Json(ResetPasswordResponse { temporary_password }))
}
