use sea_orm::entity::prelude::*;
use sha2::{Digest, Sha256};

/// A state change, written in the same transaction as the change itself, and chained: each
/// event of an object carries the hash of the object's previous event (`prev_hash`) and its own
/// (`hash`), so an edit, a deletion from the middle or a reordering breaks the chain.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub object_type: String,
    pub object_id: Uuid,
    /// JSON: what changed (before and after).
    pub summary: String,
    pub at: DateTimeUtc,
    /// Position in the object's chain, from 1.
    pub seq: i64,
    /// The hash of the object's previous event; [`GENESIS`] for the first.
    pub prev_hash: String,
    /// [`Model::chain_hash`] of this event.
    pub hash: String,
}

/// The `prev_hash` of an object's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Model {
    /// SHA-256 (hex) over a canonical encoding of `prev_hash` and every other field: a compact
    /// JSON array in a fixed order, the time in RFC 3339 with microseconds (what both backends
    /// store).
    pub fn chain_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.prev_hash,
            self.id,
            self.seq,
            self.actor_id,
            self.action,
            self.object_type,
            self.object_id,
            self.summary,
            self.at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        ]);
        hex(&Sha256::digest(canonical.to_string().as_bytes()))
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Model {
        Model {
            id: Uuid::nil(),
            actor_id: None,
            action: "asset.create".into(),
            object_type: "asset".into(),
            object_id: Uuid::nil(),
            summary: "{}".into(),
            at: chrono::DateTime::from_timestamp(1_764_288_000, 123_456_000).unwrap_or_default(),
            seq: 1,
            prev_hash: GENESIS.into(),
            hash: String::new(),
        }
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = event().chain_hash();
        assert_eq!(base.len(), 64);
        let changed = [
            Model { seq: 2, ..event() },
            Model {
                action: "asset.update".into(),
                ..event()
            },
            Model {
                summary: "{\"a\":1}".into(),
                ..event()
            },
            Model {
                actor_id: Some(Uuid::max()),
                ..event()
            },
            Model {
                object_id: Uuid::max(),
                ..event()
            },
            Model {
                object_type: "bank".into(),
                ..event()
            },
            Model {
                prev_hash: "1".repeat(64),
                ..event()
            },
            Model {
                at: event().at + chrono::TimeDelta::microseconds(1),
                ..event()
            },
        ];
        for other in changed {
            assert_ne!(other.chain_hash(), base, "{other:?}");
        }
        // The stored hash itself is not an input.
        assert_eq!(
            Model {
                hash: "x".into(),
                ..event()
            }
            .chain_hash(),
            base
        );
    }
}
