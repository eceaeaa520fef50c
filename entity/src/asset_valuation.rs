use sea_orm::entity::prelude::*;

use crate::{Money, ValuationMethod};

/// An appraisal of an asset, valid from its date until `valid_until`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "asset_valuations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub asset_id: Uuid,
    pub value: Money,
    pub method: ValuationMethod,
    pub appraiser: String,
    pub appraisal_date: Date,
    pub valid_until: Date,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
