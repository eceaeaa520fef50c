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

/// A string enum stored as its snake_case name, the same in the database and in JSON.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident, { $($variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
        )]
        // The column's width and allowed values are the migration's CHECK, not this type.
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $(
                #[sea_orm(string_value = $value)]
                $variant,
            )+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }
        }
    };
}

string_enum!(
    /// What kind of thing an asset is; decides its units, whether it needs a certificate and
    /// whether its right has a term.
    AssetKind, {
        LandManagementRight = "land_management_right",
        ForestRight = "forest_right",
        ConstructionLandUseRight = "construction_land_use_right",
        ProductionFacility = "production_facility",
        Machinery = "machinery",
        Building = "building",
        Livestock = "livestock",
        Equity = "equity",
    }
);

string_enum!(
    /// The county's check of an asset: `pending` until verified or rejected; an edit of a
    /// verified asset's certificate, dates or quantity sends it back to `pending`.
    Verification, {
        Pending = "pending",
        Verified = "verified",
        Rejected = "rejected",
    }
);

string_enum!(ValuationMethod, { Market = "market", Income = "income", Cost = "cost" });

string_enum!(DocumentKind, {
    CertificatePhoto = "certificate_photo",
    AppraisalReport = "appraisal_report",
    AssemblyResolution = "assembly_resolution",
});

string_enum!(EquityKind, { Cooperative = "cooperative", Company = "company", Project = "project" });

string_enum!(HolderType, {
    Collective = "collective",
    Enterprise = "enterprise",
    Households = "households",
    Individual = "individual",
});

string_enum!(
    /// `draft` → `active` → `retired`; only active products are matched.
    ProductStatus, {
        Draft = "draft",
        Active = "active",
        Retired = "retired",
    }
);

string_enum!(
    /// 等额本息 / 等额本金 / 先息后本.
    RepaymentMethod, {
        Annuity = "annuity",
        EqualPrincipal = "equal_principal",
        InterestOnly = "interest_only",
    }
);

string_enum!(
    /// What a loan is for; products list the purposes they accept.
    LoanPurpose, {
        Planting = "planting",
        Breeding = "breeding",
        FacilityConstruction = "facility_construction",
        Processing = "processing",
        WorkingCapital = "working_capital",
        Infrastructure = "infrastructure",
    }
);

string_enum!(
    /// The loan application lifecycle (DESIGN.md section 5).
    ApplicationStatus, {
        Draft = "draft",
        Submitted = "submitted",
        UnderReview = "under_review",
        InfoRequested = "info_requested",
        Recommended = "recommended",
        Approved = "approved",
        Disbursed = "disbursed",
        Settled = "settled",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
);

impl ApplicationStatus {
    /// The states in which the application is with its bank (DESIGN.md section 3): from
    /// submission to disbursement. Only then do the bank's staff see its collateral.
    pub const WITH_BANK: [ApplicationStatus; 6] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::UnderReview,
        ApplicationStatus::InfoRequested,
        ApplicationStatus::Recommended,
        ApplicationStatus::Approved,
        ApplicationStatus::Disbursed,
    ];
}

string_enum!(
    /// `reserved` at submit, `active` at disbursement, `released` when it ends.
    LienStatus, {
        Reserved = "reserved",
        Active = "active",
        Released = "released",
    }
);

string_enum!(
    /// Why a bank turned an application down (localized on display).
    RejectReason, {
        InsufficientCollateral = "insufficient_collateral",
        CollateralTitleDefect = "collateral_title_defect",
        RepaymentCapacity = "repayment_capacity",
        IncompleteInformation = "incomplete_information",
        Policy = "policy",
        Other = "other",
    }
);
