//! The operations on user accounts: plain functions over a connection and an acting user,
//! called by the HTTP handlers, the start-up bootstrap and the demo loader alike. Each one
//! checks, writes, signs out where needed and records its audit event in one transaction.

use entity::user;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

use super::{
    Binding, CreateUserRequest, NewUser, ResetPasswordRequest, UpdateUserRequest, UserView,
    binding_errors, find, insert, rebind, with_more_errors,
};
use crate::auth::{Caller, guard, password, sessions};
use crate::domain::{Mobile, NewPassword, parse_name};
use crate::error::{ApiError, FieldError};
use crate::{audit, db, validate};

/// Inserts a user and its `user.create` event; `actor` is `None` when the platform itself
/// creates the user (the first admin at start-up).
pub async fn register(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: Option<Uuid>,
    new: NewUser,
) -> Result<user::Model, ApiError> {
    let txn = db.begin().await?;
    let user = insert(&txn, new).await?;
    audit::record(
        &txn,
        actor,
        "user.create",
        "user",
        user.id,
        serde_json::json!({
            "mobile": user.mobile,
            "role": user.role,
            "organization_id": user.organization_id,
            "bank_id": user.bank_id,
            "branch_id": user.branch_id,
            "approval_limit": user.approval_limit,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// An admin creates a user, who must change the chosen password at first sign-in.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    request: CreateUserRequest,
) -> Result<user::Model, ApiError> {
    let binding = Binding {
        organization_id: request.organization_id,
        bank_id: request.bank_id,
        branch_id: request.branch_id,
        approval_limit: request.approval_limit,
    };
    let parsed = validate!(
        mobile = Mobile::parse(&request.mobile),
        display_name = parse_name(&request.display_name, 64),
        password = NewPassword::parse(&request.password),
    );
    let binding_errors = binding_errors(db, request.role, &binding).await?;
    let (mobile, display_name, password) = with_more_errors(parsed, binding_errors)?;
    let password_hash = password::hash(password.secret().clone()).await?;
    let new = NewUser {
        mobile,
        display_name,
        role: request.role,
        binding,
        password_hash,
        must_change_password: true,
    };
    register(db, Some(actor.id()), new).await
}

/// Changes a user's name, role, status or binding (the caller checked `If-Match` against
/// `current`); a change of role, status or binding signs the user out everywhere.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: user::Model,
    request: UpdateUserRequest,
) -> Result<user::Model, ApiError> {
    let role = request.role.unwrap_or(current.role);
    let status = request.status.unwrap_or(current.status);
    if current.id == actor.id() && (role != current.role || status != current.status) {
        return Err(ApiError::Conflict("cannot_modify_self"));
    }
    let current_binding = Binding {
        organization_id: current.organization_id,
        bank_id: current.bank_id,
        branch_id: current.branch_id,
        approval_limit: current.approval_limit,
    };
    let requested = Binding {
        organization_id: request.organization_id,
        bank_id: request.bank_id,
        branch_id: request.branch_id,
        approval_limit: request.approval_limit,
    };
    let binding = rebind(role, &current_binding, &requested);
    let display_name = match request.display_name.as_deref() {
        Some(name) => parse_name(name, 64)
            .map_err(|code| FieldError::new("display_name", code))
            .map(Some),
        None => Ok(None),
    };
    let mut errors = binding_errors(db, role, &binding).await?;
    if let Err(e) = &display_name {
        errors.insert(0, e.clone());
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let display_name = display_name
        .ok()
        .flatten()
        .unwrap_or(current.display_name.clone());

    let sign_out = role != current.role || status != current.status || binding != current_binding;
    let txn = db.begin().await?;
    let changed = user::Entity::update_many()
        .set(user::ActiveModel {
            display_name: Set(display_name),
            role: Set(role),
            status: Set(status),
            organization_id: Set(binding.organization_id),
            bank_id: Set(binding.bank_id),
            branch_id: Set(binding.branch_id),
            approval_limit: Set(binding.approval_limit),
            updated_at: Set(db::now()),
            ..Default::default()
        })
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(current.id))
        .filter(user::Column::Version.eq(current.version))
        .exec(&txn)
        .await?
        .rows_affected;
    if changed == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    if sign_out {
        sessions::revoke_all(&txn, current.id, None).await?;
    }
    let updated = find(&txn, current.id).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "user.update",
        "user",
        current.id,
        audit::diff(&UserView::from(&current), &UserView::from(&updated)),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// An admin sets another user's password (chosen, or generated and returned once): the account
/// is unlocked, signed out everywhere, and must change the password at the next sign-in.
pub async fn reset_password(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    target: user::Model,
    request: ResetPasswordRequest,
) -> Result<Option<String>, ApiError> {
    if target.id == actor.id() {
        return Err(ApiError::OwnPasswordReset);
    }
    let (secret, generated) = match request.new_password {
        Some(chosen) => (chosen, None),
        None => {
            let generated = password::generate();
            (SecretString::from(generated.clone()), Some(generated))
        }
    };
    let new_password = NewPassword::parse(&secret)
        .map_err(|code| ApiError::Validation(vec![FieldError::new("new_password", code)]))?;
    let hash = password::hash(new_password.secret().clone()).await?;
    let txn = db.begin().await?;
    set_password(&txn, target.id, hash, true).await?;
    sessions::revoke_all(&txn, target.id, None).await?;
    guard::unlock(&txn, &target.mobile).await?;
    // Never the password: only that it was reset, and whether it was generated.
    audit::record(
        &txn,
        Some(actor.id()),
        "user.reset_password",
        "user",
        target.id,
        serde_json::json!({"generated": generated.is_some()}),
    )
    .await?;
    txn.commit().await?;
    Ok(generated)
}

/// A user replaces their own password (the caller proved the current one): every other session
/// of theirs is signed out.
pub async fn change_own_password(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    new_password: NewPassword,
) -> Result<(), ApiError> {
    let hash = password::hash(new_password.secret().clone()).await?;
    let txn = db.begin().await?;
    set_password(&txn, actor.id(), hash, false).await?;
    sessions::revoke_all(&txn, actor.id(), Some(actor.session_id)).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "user.change_password",
        "user",
        actor.id(),
        serde_json::json!({"must_change_password": {"before": actor.user.must_change_password, "after": false}}),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn set_password(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    hash: String,
    must_change: bool,
) -> Result<(), ApiError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash))
        .col_expr(user::Column::MustChangePassword, Expr::value(must_change))
        .col_expr(user::Column::UpdatedAt, Expr::value(db::now()))
        .col_expr(
            user::Column::Version,
            Expr::col(user::Column::Version).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}
