use sea_orm::entity::prelude::*;

use crate::{ApplicationStatus, LoanPurpose, Money, Rate, RejectReason, RepaymentMethod};

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
    /// The bank officer who claimed it.
    pub assigned_to: Option<Uuid>,
    /// The officer's last request for information.
    pub info_request: Option<String>,
    pub recommended_by: Option<Uuid>,
    pub recommended_amount: Option<Money>,
    pub recommended_rate: Option<Rate>,
    pub recommended_term: Option<i32>,
    pub recommended_method: Option<RepaymentMethod>,
    pub recommendation_opinion: Option<String>,
    pub approved_by: Option<Uuid>,
    pub approved_amount: Option<Money>,
    pub approval_opinion: Option<String>,
    /// When it was approved or rejected.
    pub decided_at: Option<DateTimeUtc>,
    pub reject_reason: Option<RejectReason>,
    pub reject_text: Option<String>,
    pub contract_no: Option<String>,
    /// The mortgage's registration number: unique within the bank.
    pub lien_registration_no: Option<String>,
    pub disbursed_amount: Option<Money>,
    pub disbursed_on: Option<Date>,
    /// Principal still owed, kept with every repayment (`None` before disbursement).
    pub outstanding_principal: Option<Money>,
    /// Set while the collateral's lendable value is below the outstanding principal.
    pub shortfall_since: Option<DateTimeUtc>,
    pub settled_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
