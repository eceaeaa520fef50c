//! The one way an application or a product changes state: the move the lifecycle table allows
//! (`ApplicationStatus::may_move`), made by a conditional update that names the state and version
//! read, with its audit event, in the caller's transaction. Two racing requests cannot both win:
//! the loser gets 409 with the state it lost to, or 412 when the object changed in another way.
//! An application's move also notifies whoever must act next, in the same transaction.

use entity::{
    ApplicationAction, ApplicationStatus, ProductAction, ProductStatus, loan_application,
    loan_product,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany};
use uuid::Uuid;

use crate::error::ApiError;
use crate::{audit, db, notifications};

/// Moves `current` by `action`. `set` adds the action's own columns (e.g. `submitted_at`);
/// `details` joins `from` and `to` in the audit event. Returns the new state.
pub async fn move_application(
    txn: &impl ConnectionTrait,
    actor: Uuid,
    current: &loan_application::Model,
    action: ApplicationAction,
    set: impl FnOnce(UpdateMany<loan_application::Entity>) -> UpdateMany<loan_application::Entity>,
    details: serde_json::Value,
) -> Result<ApplicationStatus, ApiError> {
    let from = current.status;
    let to = from
        .may_move(action)
        .ok_or(ApiError::InvalidState(from.as_str()))?;
    let update = loan_application::Entity::update_many()
        .col_expr(loan_application::Column::Status, Expr::value(to))
        .col_expr(loan_application::Column::UpdatedAt, Expr::value(db::now()))
        .col_expr(
            loan_application::Column::Version,
            Expr::col(loan_application::Column::Version).add(1),
        )
        .filter(loan_application::Column::Id.eq(current.id))
        .filter(loan_application::Column::Status.eq(from))
        .filter(loan_application::Column::Version.eq(current.version));
    if set(update).exec(txn).await?.rows_affected == 0 {
        let now = loan_application::Entity::find_by_id(current.id)
            .one(txn)
            .await?
            .ok_or(ApiError::NotFound)?;
        return Err(lost(now.status == from, now.status.as_str()));
    }
    let mut summary = serde_json::json!({"from": from.as_str(), "to": to.as_str()});
    if let (Some(summary), serde_json::Value::Object(extra)) = (summary.as_object_mut(), details) {
        summary.extend(extra);
    }
    audit::record(
        txn,
        Some(actor),
        &format!("application.{}", action.as_str()),
        "application",
        current.id,
        summary,
    )
    .await?;
    notifications::notify_move(txn, current, to, action == ApplicationAction::Resubmit).await?;
    Ok(to)
}

/// Moves a product by `action` (draft → active → retired), the same way.
pub async fn move_product(
    txn: &impl ConnectionTrait,
    actor: Uuid,
    current: &loan_product::Model,
    action: ProductAction,
) -> Result<ProductStatus, ApiError> {
    let from = current.status;
    let to = from
        .may_move(action)
        .ok_or(ApiError::InvalidState(from.as_str()))?;
    let moved = loan_product::Entity::update_many()
        .col_expr(loan_product::Column::Status, Expr::value(to))
        .col_expr(loan_product::Column::UpdatedAt, Expr::value(db::now()))
        .col_expr(
            loan_product::Column::Version,
            Expr::col(loan_product::Column::Version).add(1),
        )
        .filter(loan_product::Column::Id.eq(current.id))
        .filter(loan_product::Column::Status.eq(from))
        .filter(loan_product::Column::Version.eq(current.version))
        .exec(txn)
        .await?;
    if moved.rows_affected == 0 {
        let now = loan_product::Entity::find_by_id(current.id)
            .one(txn)
            .await?
            .ok_or(ApiError::NotFound)?;
        return Err(lost(now.status == from, now.status.as_str()));
    }
    audit::record(
        txn,
        Some(actor),
        &format!("product.{}", action.as_str()),
        "product",
        current.id,
        serde_json::json!({"from": from.as_str(), "to": to.as_str()}),
    )
    .await?;
    Ok(to)
}

/// A conditional move that changed no row: another request moved the object first (409 with
/// the state it is in now), or changed it otherwise (412).
fn lost(same_state: bool, now: &'static str) -> ApiError {
    if same_state {
        ApiError::PreconditionFailed
    } else {
        ApiError::InvalidState(now)
    }
}
