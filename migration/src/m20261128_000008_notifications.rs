//! Notifications: who must act next on an application, told in the transaction of the change.
//! Stored as a code with parameters and rendered in the reader's language when read.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(pk_uuid(Notifications::Id))
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Code, 64))
                    .col(text(Notifications::Params))
                    .col(uuid_null(Notifications::ApplicationId))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                    .col(string_len_null(Notifications::DedupKey, 128))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Notifications::Table, Notifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A user's feed, newest first, and the unread ones.
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_user")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::Id)
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE INDEX idx_notifications_unread ON notifications (user_id, id) \
             WHERE read_at IS NULL",
        )
        .await?;
        // A notice a job may send more than once (an overdue period) is told once per user,
        // however many instances run the job.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_notifications_dedup ON notifications (user_id, dedup_key) \
             WHERE dedup_key IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Code,
    Params,
    ApplicationId,
    CreatedAt,
    ReadAt,
    DedupKey,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}
