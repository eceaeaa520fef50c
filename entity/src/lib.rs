//! Database entities (sea-orm) and the domain value types they store.
//!
//! Money never touches a float: [`Money`] is stored as integer fen (`BIGINT`) on every backend
//! and speaks `rust_decimal::Decimal` and two-place decimal strings at the edges.

pub mod bank;
pub mod bank_branch;
pub mod bank_region;
pub mod enums;
pub mod money;
pub mod organization;
pub mod organization_income;
pub mod refresh_token;
pub mod region;
pub mod session;
pub mod user;

pub use enums::{OrganizationStatus, RegionLevel, Role, UserStatus};
pub use money::{Money, MoneyError};
