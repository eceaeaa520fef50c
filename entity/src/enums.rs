//! Domain enums stored as short strings, identical on every backend.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a user is allowed to do; see the permission matrix in `api::auth::permissions`.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// County bureau: onboarding, verification, statistics, user management.
    #[sea_orm(string_value = "admin")]
    Admin,
    /// Read-only oversight.
    #[sea_orm(string_value = "supervisor")]
    Supervisor,
    /// Village collective operator, bound to one organization.
    #[sea_orm(string_value = "org_operator")]
    OrgOperator,
    /// Bank loan officer, bound to one bank.
    #[sea_orm(string_value = "bank_officer")]
    BankOfficer,
    /// Bank approver, bound to one bank, with an approval limit.
    #[sea_orm(string_value = "bank_approver")]
    BankApprover,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Supervisor,
        Role::OrgOperator,
        Role::BankOfficer,
        Role::BankApprover,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::OrgOperator => "org_operator",
            Role::BankOfficer => "bank_officer",
            Role::BankApprover => "bank_approver",
        }
    }

    pub fn is_bank_staff(self) -> bool {
        matches!(self, Role::BankOfficer | Role::BankApprover)
    }
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    #[sea_orm(string_value = "active")]
    Active,
    /// Cannot sign in or refresh; existing sessions are revoked when a user is disabled.
    #[sea_orm(string_value = "disabled")]
    Disabled,
}

/// Level of an administrative division; fixed by which 12-digit code segments are non-zero.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    #[sea_orm(string_value = "province")]
    Province,
    #[sea_orm(string_value = "city")]
    City,
    #[sea_orm(string_value = "county")]
    County,
    #[sea_orm(string_value = "township")]
    Township,
    #[sea_orm(string_value = "village")]
    Village,
}

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
#[serde(rename_all = "snake_case")]
pub enum OrganizationStatus {
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "suspended")]
    Suspended,
}
