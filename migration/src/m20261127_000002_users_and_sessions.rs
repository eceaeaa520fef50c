use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_tenants::{BankBranches, Banks, Organizations};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len_uniq(Users::Mobile, 11))
                    .col(string_len(Users::DisplayName, 64))
                    .col(string_len(Users::PasswordHash, 255))
                    .col(
                        string_len(Users::Role, 20).check(Expr::col(Users::Role).is_in([
                            "admin",
                            "supervisor",
                            "org_operator",
                            "bank_officer",
                            "bank_approver",
                        ])),
                    )
                    .col(uuid_null(Users::OrganizationId))
                    .col(uuid_null(Users::BankId))
                    .col(uuid_null(Users::BranchId))
                    .col(
                        big_integer_null(Users::ApprovalLimit).check(
                            Expr::col(Users::ApprovalLimit)
                                .is_null()
                                .or(Expr::col(Users::ApprovalLimit).gte(0)),
                        ),
                    )
                    .col(
                        string_len(Users::Status, 16)
                            .check(Expr::col(Users::Status).is_in(["active", "disabled"])),
                    )
                    .col(integer(Users::FailedLogins).default(0))
                    .col(timestamp_with_time_zone_null(Users::LockedUntil))
                    .col(integer(Users::Version).default(1))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Users::Table, Users::BankId)
                            .to(Banks::Table, Banks::Id),
                    )
                    // A branch of the user's own bank.
                    .foreign_key(
                        ForeignKey::create()
                            .from_tbl(Users::Table)
                            .from_col(Users::BranchId)
                            .from_col(Users::BankId)
                            .to_tbl(BankBranches::Table)
                            .to_col(BankBranches::Id)
                            .to_col(BankBranches::BankId),
                    )
                    // The tenant binding matches the role: operators to an organization, bank staff
                    // to a bank, everyone else to nothing.
                    .check(
                        Expr::col(Users::Role)
                            .eq("org_operator")
                            .and(Expr::col(Users::OrganizationId).is_not_null())
                            .and(Expr::col(Users::BankId).is_null())
                            .or(Expr::col(Users::Role)
                                .is_in(["bank_officer", "bank_approver"])
                                .and(Expr::col(Users::BankId).is_not_null())
                                .and(Expr::col(Users::OrganizationId).is_null()))
                            .or(Expr::col(Users::Role)
                                .is_in(["admin", "supervisor"])
                                .and(Expr::col(Users::BankId).is_null())
                                .and(Expr::col(Users::OrganizationId).is_null())),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_users_role_id")
                    .table(Users::Table)
                    .col(Users::Role)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string_len_uniq(RefreshTokens::TokenHash, 64))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Mobile,
    DisplayName,
    PasswordHash,
    Role,
    OrganizationId,
    BankId,
    BranchId,
    ApprovalLimit,
    Status,
    FailedLogins,
    LockedUntil,
    MustChangePassword,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    RotatedAt,
}
