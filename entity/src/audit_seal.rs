use sea_orm::entity::prelude::*;

/// A periodic seal over every audit chain: the root over each chain's last event written before
/// `covers_until`, so that deleting the newest events of a chain (and its head) is detected too.
/// Seals are chained themselves.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_seals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sealed_at: DateTimeUtc,
    /// Events with `at` up to this instant are covered.
    pub covers_until: DateTimeUtc,
    /// Chains and events covered.
    pub chains: i64,
    pub events: i64,
    /// SHA-256 over every covered chain's `object_type|object_id|seq|hash` line, in the
    /// database's order of (object_type, object_id).
    pub root: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
