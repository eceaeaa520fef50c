use sea_orm::entity::prelude::*;

use crate::{Money, ProductStatus, Rate};

/// A bank's loan product.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bank_id: Uuid,
    pub name: String,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min: i32,
    pub term_max: i32,
    pub annual_rate: Rate,
    /// JSON array of repayment methods, in the bank's order of preference.
    pub repayment_methods: String,
    /// JSON array of accepted purposes.
    pub purposes: String,
    pub status: ProductStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
