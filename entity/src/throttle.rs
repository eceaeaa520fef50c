//! A fixed-window counter shared by every API instance: sign-in attempts per mobile number and
//! requests per client address. See `api::throttle`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "throttles")]
pub struct Model {
    /// What is counted, e.g. `login:13800000000` or `login-addr:203.0.113.7`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Slots taken in the current window (attempts under way or counted).
    pub hits: i32,
    /// Of those, the ones that failed since the last success (sign-in: wrong passwords).
    pub misses: i32,
    pub window_start: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
