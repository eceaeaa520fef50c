//! Database entities (sea-orm) and the domain value types they store.
//!
//! Money never touches a float: [`Money`] is stored as integer fen (`BIGINT`) on every backend
//! and speaks `rust_decimal::Decimal` and two-place decimal strings at the edges.

pub mod enums;
pub mod money;
pub mod refresh_token;
pub mod session;
pub mod user;

pub use enums::{Role, UserStatus};
pub use money::{Money, MoneyError};
