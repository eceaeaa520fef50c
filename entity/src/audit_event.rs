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
    /// SHA-256 (hex) over a canonical binary encoding of `prev_hash` and every other field, in a
    /// fixed order: texts length-prefixed, ids as their 16 bytes, numbers big-endian, the time
    /// as microseconds since the epoch (what both backends store). Unambiguous, and cheap enough
    /// to verify millions of events in seconds.
    pub fn chain_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let mut text = |value: &str| {
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_bytes());
        };
        text(&self.prev_hash);
        text(&self.action);
        text(&self.object_type);
        text(&self.summary);
        hasher.update(self.id.as_bytes());
        hasher.update(self.seq.to_be_bytes());
        match self.actor_id {
            Some(actor) => {
                hasher.update([1]);
                hasher.update(actor.as_bytes());
            }
            None => hasher.update([0]),
        }
        hasher.update(self.object_id.as_bytes());
        hasher.update(self.at.timestamp_micros().to_be_bytes());
        hex(&hasher.finalize())
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
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
