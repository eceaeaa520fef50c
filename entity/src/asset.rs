use sea_orm::entity::prelude::*;

use crate::{AssetKind, Money, Quantity, Verification};

/// Something a collective owns and may pledge.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "assets")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: AssetKind,
    pub name: String,
    pub region_code: String,
    pub address: String,
    pub quantity: Quantity,
    pub unit: String,
    pub certificate_no: Option<String>,
    /// Livestock only.
    pub head_count: Option<i32>,
    /// Livestock only: a JSON array of ear-tag numbers.
    pub ear_tags: Option<String>,
    pub right_start: Option<Date>,
    pub right_end: Option<Date>,
    pub acquisition_cost: Option<Money>,
    pub description: String,
    /// Equity only: the collective's shareholding this asset is.
    pub shareholding_id: Option<Uuid>,
    pub verification: Verification,
    pub verification_note: Option<String>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
