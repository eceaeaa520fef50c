use sea_orm::entity::prelude::*;

use crate::Money;

/// A repayment recorded by the bank, split into the principal and interest it paid.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "repayments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub application_id: Uuid,
    pub paid_on: Date,
    pub amount: Money,
    pub principal: Money,
    pub interest: Money,
    pub recorded_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
