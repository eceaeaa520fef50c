//! Database entities (sea-orm) and the domain value types they store.
//!
//! Money never touches a float: [`Money`] is stored as integer fen (`BIGINT`) on every backend
//! and speaks `rust_decimal::Decimal` and two-place decimal strings at the edges.

pub mod application_asset;
pub mod asset;
pub mod asset_document;
pub mod asset_valuation;
pub mod audit_chain;
pub mod audit_event;
pub mod audit_seal;
pub mod bank;
pub mod bank_branch;
pub mod bank_region;
pub mod enums;
pub mod equity_entity;
pub mod fixed;
pub mod idempotency_key;
pub mod lien;
pub mod lifecycle;
pub mod loan_application;
pub mod loan_installment;
pub mod loan_product;
pub mod money;
pub mod notification;
pub mod organization;
pub mod organization_income;
pub mod product_collateral;
pub mod reference_counter;
pub mod refresh_token;
pub mod region;
pub mod repayment;
pub mod session;
pub mod shareholding;
pub mod throttle;
pub mod user;

pub use enums::{
    ApplicationStatus, AssetKind, DocumentKind, EquityKind, HolderType, LienStatus, LoanPurpose,
    OrganizationStatus, ProductStatus, RegionLevel, RejectReason, RepaymentMethod, Role,
    UserStatus, ValuationMethod, Verification,
};
pub use fixed::{Percentage, Quantity, Rate, Ratio};
pub use lifecycle::{ApplicationAction, ProductAction};
pub use money::{Money, MoneyError};
