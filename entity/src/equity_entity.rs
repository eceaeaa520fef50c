use sea_orm::entity::prelude::*;

use crate::EquityKind;

/// A collective business (cooperative, company, project) whose shares are held by the
/// collective and others.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "equity_entities")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: EquityKind,
    pub name: String,
    pub uscc: Option<String>,
    /// Basis points already held by shareholdings; a CHECK keeps it within 0..=10000.
    pub allocated_bp: i32,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
