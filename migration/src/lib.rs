//! Schema migrations, applied at start by `rural-collateral serve` and `rural-collateral migrate`.
//!
//! Every migration runs unchanged on SQLite and PostgreSQL; invariants live here as constraints.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_tenants;
mod m20261127_000002_users_and_sessions;
mod m20261127_000003_assets_and_equity;
mod m20261127_000004_loans;
mod m20261128_000005_sign_in_guards;
mod m20261128_000006_bank_review;
mod m20261128_000007_audit_chain;
mod m20261128_000008_notifications;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_tenants::Migration),
            Box::new(m20261127_000002_users_and_sessions::Migration),
            Box::new(m20261127_000003_assets_and_equity::Migration),
            Box::new(m20261127_000004_loans::Migration),
            Box::new(m20261128_000005_sign_in_guards::Migration),
            Box::new(m20261128_000006_bank_review::Migration),
            Box::new(m20261128_000007_audit_chain::Migration),
            Box::new(m20261128_000008_notifications::Migration),
        ]
    }
}
