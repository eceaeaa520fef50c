use sea_orm::entity::prelude::*;

use crate::OrganizationStatus;

/// A village collective economic organization (村集体经济组织).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organizations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Unified social credit code, GB 32100 check character verified.
    #[sea_orm(unique)]
    pub uscc: String,
    /// The village it belongs to.
    pub region_code: String,
    pub legal_rep_name: String,
    pub legal_rep_mobile: String,
    pub member_households: i32,
    pub status: OrganizationStatus,
    /// Set by the admin to allow a second organization in the same village.
    pub shares_village: bool,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
