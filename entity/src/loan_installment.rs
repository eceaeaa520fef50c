use sea_orm::entity::prelude::*;

use crate::Money;

/// One period of a disbursed loan's repayment schedule, with what has been paid against it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_installments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub application_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period: i32,
    pub due_date: Date,
    pub principal: Money,
    pub interest: Money,
    pub paid_principal: Money,
    pub paid_interest: Money,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
