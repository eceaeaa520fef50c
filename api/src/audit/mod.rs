//! The audit trail: every state change writes an event in the transaction that makes it,
//! chained to the object's previous event (`chain` seals and verifies the chains).

pub mod chain;
pub mod routes;

use entity::{audit_chain, audit_event};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;

/// Records `action` on an object, with a JSON summary of what changed, as the next link of the
/// object's chain. The chain's head row is advanced first (one upsert that returns the previous
/// head): a concurrent writer on the same object waits for this transaction, writers on other
/// objects do not.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<Uuid>,
    action: &str,
    object_type: &str,
    object_id: Uuid,
    summary: serde_json::Value,
) -> Result<(), ApiError> {
    let head = audit_chain::Entity::insert(audit_chain::ActiveModel {
        object_type: Set(object_type.to_owned()),
        object_id: Set(object_id),
        head_seq: Set(1),
        head_hash: Set(audit_event::GENESIS.to_owned()),
    })
    .on_conflict(
        OnConflict::columns([
            audit_chain::Column::ObjectType,
            audit_chain::Column::ObjectId,
        ])
        .value(
            audit_chain::Column::HeadSeq,
            Expr::col((audit_chain::Entity, audit_chain::Column::HeadSeq)).add(1),
        )
        .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    let mut event = audit_event::Model {
        id: Uuid::now_v7(),
        actor_id: actor,
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id,
        summary: summary.to_string(),
        at: db::now(),
        // The upsert raised the position and left the hash: it is the previous event's.
        seq: head.head_seq,
        prev_hash: head.head_hash,
        hash: String::new(),
    };
    event.hash = event.chain_hash();
    audit_chain::Entity::update_many()
        .col_expr(
            audit_chain::Column::HeadHash,
            Expr::value(event.hash.clone()),
        )
        .filter(audit_chain::Column::ObjectType.eq(object_type))
        .filter(audit_chain::Column::ObjectId.eq(object_id))
        .exec(db)
        .await?;
    audit_event::Entity::insert(audit_event::ActiveModel::from(event))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// `{"before": {...}, "after": {...}}` with only the fields whose value differs between two
/// serialisable views of an object (views never hold secrets).
pub fn diff(before: &impl serde::Serialize, after: &impl serde::Serialize) -> serde_json::Value {
    let (Ok(serde_json::Value::Object(before)), Ok(serde_json::Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return serde_json::json!({});
    };
    let mut from = serde_json::Map::new();
    let mut to = serde_json::Map::new();
    for (field, new) in &after {
        // The bookkeeping of every write says nothing about what changed.
        if matches!(field.as_str(), "version" | "updated_at") {
            continue;
        }
        let old = before.get(field).cloned().unwrap_or_default();
        if &old != new {
            from.insert(field.clone(), old);
            to.insert(field.clone(), new.clone());
        }
    }
    serde_json::json!({"before": from, "after": to})
}

/// A serialisable object as an event summary.
pub fn snapshot(object: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(object).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_keeps_only_changed_fields() {
        let before = serde_json::json!({"name": "a", "status": "active", "version": 1});
        let after = serde_json::json!({"name": "b", "status": "active", "version": 2});
        assert_eq!(
            diff(&before, &after),
            serde_json::json!({"before": {"name": "a"}, "after": {"name": "b"}})
        );
    }
}
