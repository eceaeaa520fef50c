//! Sign-in guards that hold on every instance: `throttles` counts attempts per key (a mobile
//! number, known or not, or a client address) in fixed windows; the per-user failure columns it
//! replaces could not count unknown mobiles. Users set up by an admin must change their password.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000002_users_and_sessions::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Throttles::Table)
                    .col(string_len(Throttles::Key, 160).primary_key())
                    .col(integer(Throttles::Hits).check(Expr::col(Throttles::Hits).gte(0)))
                    .col(integer(Throttles::Misses).default(0))
                    .col(timestamp_with_time_zone(Throttles::WindowStart))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_throttles_window_start")
                    .table(Throttles::Table)
                    .col(Throttles::WindowStart)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // One column per statement: SQLite alters one thing at a time.
        db.execute_unprepared("ALTER TABLE users DROP COLUMN failed_logins")
            .await?;
        db.execute_unprepared("ALTER TABLE users DROP COLUMN locked_until")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(boolean(Users::MustChangePassword).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Throttles::Table).to_owned())
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared("ALTER TABLE users DROP COLUMN must_change_password")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(integer(Users::FailedLogins).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(timestamp_with_time_zone_null(Users::LockedUntil))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Throttles {
    Table,
    Key,
    Hits,
    Misses,
    WindowStart,
}
