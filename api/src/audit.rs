//! The audit trail: every state change writes an event in the transaction that makes it.

use entity::audit_event;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;

/// Records `action` on an object, with a JSON summary of what changed.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    action: &str,
    object_type: &str,
    object_id: Uuid,
    summary: serde_json::Value,
) -> Result<(), ApiError> {
    audit_event::Entity::insert(audit_event::ActiveModel::from(audit_event::Model {
        id: Uuid::now_v7(),
        actor_id: actor,
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id,
        summary: summary.to_string(),
        at: db::now(),
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}
