use sea_orm::entity::prelude::*;

use crate::{ApplicationStatus, LoanPurpose, Money, RepaymentMethod};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Human reference, e.g. `JX-2026-000123`.
    #[sea_orm(unique)]
    pub reference: String,
    pub organization_id: Uuid,
    pub product_id: Option<Uuid>,
    /// The product's bank, once a product is chosen.
    pub bank_id: Option<Uuid>,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: LoanPurpose,
    pub repayment_method: RepaymentMethod,
    pub status: ApplicationStatus,
    /// Date of the villagers' (representative) assembly resolution consenting to the pledge.
    pub resolution_date: Option<Date>,
    /// The resolution's uploaded document (an `assembly_resolution` document).
    pub resolution_document_id: Option<Uuid>,
    pub created_by: Uuid,
    pub version: i32,
    pub submitted_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
