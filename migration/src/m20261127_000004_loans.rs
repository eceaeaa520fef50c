//! Loan products, applications with their collateral, liens, reference numbers, idempotency
//! keys and the audit trail.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_tenants::{Banks, Organizations};
use crate::m20261127_000002_users_and_sessions::Users;
use crate::m20261127_000003_assets_and_equity::{AssetDocuments, Assets};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LoanProducts::Table)
                    .col(pk_uuid(LoanProducts::Id))
                    .col(uuid(LoanProducts::BankId))
                    .col(string_len(LoanProducts::Name, 128))
                    .col(
                        big_integer(LoanProducts::AmountMin)
                            .check(Expr::col(LoanProducts::AmountMin).gt(0)),
                    )
                    .col(big_integer(LoanProducts::AmountMax))
                    .col(
                        integer(LoanProducts::TermMin)
                            .check(Expr::col(LoanProducts::TermMin).gt(0)),
                    )
                    .col(integer(LoanProducts::TermMax))
                    // Percent per year at scale 4 (4.35 % is 43500).
                    .col(
                        integer(LoanProducts::AnnualRate)
                            .check(Expr::col(LoanProducts::AnnualRate).gte(0)),
                    )
                    .col(text(LoanProducts::RepaymentMethods))
                    .col(text(LoanProducts::Purposes))
                    .col(string_len(LoanProducts::Status, 16).check(
                        Expr::col(LoanProducts::Status).is_in(["draft", "active", "retired"]),
                    ))
                    .col(integer(LoanProducts::Version).default(1))
                    .col(timestamp_with_time_zone(LoanProducts::CreatedAt))
                    .col(timestamp_with_time_zone(LoanProducts::UpdatedAt))
                    .check(
                        Expr::col(LoanProducts::AmountMax).gte(Expr::col(LoanProducts::AmountMin)),
                    )
                    .check(Expr::col(LoanProducts::TermMax).gte(Expr::col(LoanProducts::TermMin)))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanProducts::Table, LoanProducts::BankId)
                            .to(Banks::Table, Banks::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_loan_products_status")
                    .table(LoanProducts::Table)
                    .col(LoanProducts::Status)
                    .col(LoanProducts::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProductCollateral::Table)
                    .col(uuid(ProductCollateral::ProductId))
                    .col(string_len(ProductCollateral::Kind, 32))
                    // Loan-to-value cap at scale 4 (0.7 is 7000); 0 < ltv <= 1.
                    .col(
                        integer(ProductCollateral::MaxLtv).check(
                            Expr::col(ProductCollateral::MaxLtv)
                                .gt(0)
                                .and(Expr::col(ProductCollateral::MaxLtv).lte(10_000)),
                        ),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProductCollateral::ProductId)
                            .col(ProductCollateral::Kind),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ProductCollateral::Table, ProductCollateral::ProductId)
                            .to(LoanProducts::Table, LoanProducts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReferenceCounters::Table)
                    .col(integer(ReferenceCounters::Year).primary_key())
                    .col(integer(ReferenceCounters::Last).default(0))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoanApplications::Table)
                    .col(pk_uuid(LoanApplications::Id))
                    .col(string_len_uniq(LoanApplications::Reference, 32))
                    .col(uuid(LoanApplications::OrganizationId))
                    .col(uuid_null(LoanApplications::ProductId))
                    .col(uuid_null(LoanApplications::BankId))
                    .col(
                        big_integer(LoanApplications::Amount)
                            .check(Expr::col(LoanApplications::Amount).gt(0)),
                    )
                    .col(
                        integer(LoanApplications::TermMonths)
                            .check(Expr::col(LoanApplications::TermMonths).gt(0)),
                    )
                    .col(string_len(LoanApplications::Purpose, 32))
                    .col(string_len(LoanApplications::RepaymentMethod, 16))
                    .col(string_len(LoanApplications::Status, 16).check(
                        Expr::col(LoanApplications::Status).is_in([
                            "draft",
                            "submitted",
                            "under_review",
                            "info_requested",
                            "recommended",
                            "approved",
                            "disbursed",
                            "settled",
                            "rejected",
                            "withdrawn",
                        ]),
                    ))
                    .col(date_null(LoanApplications::ResolutionDate))
                    .col(uuid_null(LoanApplications::ResolutionDocumentId))
                    .col(uuid(LoanApplications::CreatedBy))
                    .col(integer(LoanApplications::Version).default(1))
                    .col(timestamp_with_time_zone_null(LoanApplications::SubmittedAt))
                    .col(timestamp_with_time_zone(LoanApplications::CreatedAt))
                    .col(timestamp_with_time_zone(LoanApplications::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanApplications::Table, LoanApplications::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanApplications::Table, LoanApplications::ProductId)
                            .to(LoanProducts::Table, LoanProducts::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanApplications::Table, LoanApplications::BankId)
                            .to(Banks::Table, Banks::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                LoanApplications::Table,
                                LoanApplications::ResolutionDocumentId,
                            )
                            .to(AssetDocuments::Table, AssetDocuments::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanApplications::Table, LoanApplications::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_loan_applications_organization",
                vec![LoanApplications::OrganizationId, LoanApplications::Id],
            ),
            (
                "idx_loan_applications_bank",
                vec![
                    LoanApplications::BankId,
                    LoanApplications::Status,
                    LoanApplications::Id,
                ],
            ),
            (
                "idx_loan_applications_status",
                vec![LoanApplications::Status, LoanApplications::Id],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(LoanApplications::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ApplicationAssets::Table)
                    .col(uuid(ApplicationAssets::ApplicationId))
                    .col(uuid(ApplicationAssets::AssetId))
                    .primary_key(
                        Index::create()
                            .col(ApplicationAssets::ApplicationId)
                            .col(ApplicationAssets::AssetId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApplicationAssets::Table, ApplicationAssets::ApplicationId)
                            .to(LoanApplications::Table, LoanApplications::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApplicationAssets::Table, ApplicationAssets::AssetId)
                            .to(Assets::Table, Assets::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_application_assets_asset")
                    .table(ApplicationAssets::Table)
                    .col(ApplicationAssets::AssetId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Liens::Table)
                    .col(pk_uuid(Liens::Id))
                    .col(uuid(Liens::AssetId))
                    .col(uuid(Liens::ApplicationId))
                    .col(
                        string_len(Liens::Status, 16).check(
                            Expr::col(Liens::Status).is_in(["reserved", "active", "released"]),
                        ),
                    )
                    .col(timestamp_with_time_zone(Liens::CreatedAt))
                    .col(timestamp_with_time_zone(Liens::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Liens::Table, Liens::AssetId)
                            .to(Assets::Table, Assets::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Liens::Table, Liens::ApplicationId)
                            .to(LoanApplications::Table, LoanApplications::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // The invariant: an asset has at most one lien that is reserved or active.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_liens_asset_open ON liens (asset_id) \
                 WHERE status IN ('reserved', 'active')",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_liens_application")
                    .table(Liens::Table)
                    .col(Liens::ApplicationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(uuid(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::Key, 128))
                    .col(string_len(IdempotencyKeys::Scope, 128))
                    .col(string_len(IdempotencyKeys::RequestHash, 64))
                    .col(integer_null(IdempotencyKeys::ResponseStatus))
                    .col(text_null(IdempotencyKeys::ResponseHeaders))
                    .col(blob_null(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(IdempotencyKeys::UserId)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len(AuditEvents::ObjectType, 32))
                    .col(uuid(AuditEvents::ObjectId))
                    .col(text(AuditEvents::Summary))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_object")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ObjectId)
                    .col(AuditEvents::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEvents::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            Liens::Table.into_iden(),
            ApplicationAssets::Table.into_iden(),
            LoanApplications::Table.into_iden(),
            ReferenceCounters::Table.into_iden(),
            ProductCollateral::Table.into_iden(),
            LoanProducts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LoanProducts {
    Table,
    Id,
    BankId,
    Name,
    AmountMin,
    AmountMax,
    TermMin,
    TermMax,
    AnnualRate,
    RepaymentMethods,
    Purposes,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProductCollateral {
    Table,
    ProductId,
    Kind,
    MaxLtv,
}

#[derive(DeriveIden)]
enum ReferenceCounters {
    Table,
    Year,
    Last,
}

#[derive(DeriveIden)]
enum LoanApplications {
    Table,
    Id,
    Reference,
    OrganizationId,
    ProductId,
    BankId,
    Amount,
    TermMonths,
    Purpose,
    RepaymentMethod,
    Status,
    ResolutionDate,
    ResolutionDocumentId,
    CreatedBy,
    Version,
    SubmittedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationAssets {
    Table,
    ApplicationId,
    AssetId,
}

#[derive(DeriveIden)]
enum Liens {
    Table,
    Id,
    AssetId,
    ApplicationId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    UserId,
    Key,
    Scope,
    RequestHash,
    ResponseStatus,
    ResponseHeaders,
    ResponseBody,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    ActorId,
    Action,
    ObjectType,
    ObjectId,
    Summary,
    At,
}
