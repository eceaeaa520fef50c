//! What a village can pledge: equity entities with their shareholdings, assets with their
//! valuations and documents.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261127_000001_tenants::{Organizations, Regions};
use crate::m20261127_000002_users_and_sessions::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EquityEntities::Table)
                    .col(pk_uuid(EquityEntities::Id))
                    .col(uuid(EquityEntities::OrganizationId))
                    .col(string_len(EquityEntities::Kind, 16).check(
                        Expr::col(EquityEntities::Kind).is_in([
                            "cooperative",
                            "company",
                            "project",
                        ]),
                    ))
                    .col(string_len(EquityEntities::Name, 128))
                    .col(string_len_null(EquityEntities::Uscc, 18))
                    // Basis points (1/100 of a percent) already held; never above 100.00 %.
                    .col(
                        integer(EquityEntities::AllocatedBp).default(0).check(
                            Expr::col(EquityEntities::AllocatedBp)
                                .gte(0)
                                .and(Expr::col(EquityEntities::AllocatedBp).lte(10_000)),
                        ),
                    )
                    .col(integer(EquityEntities::Version).default(1))
                    .col(timestamp_with_time_zone(EquityEntities::CreatedAt))
                    .col(timestamp_with_time_zone(EquityEntities::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(EquityEntities::Table, EquityEntities::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_equity_entities_organization")
                    .table(EquityEntities::Table)
                    .col(EquityEntities::OrganizationId)
                    .col(EquityEntities::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Shareholdings::Table)
                    .col(pk_uuid(Shareholdings::Id))
                    .col(uuid(Shareholdings::EntityId))
                    .col(string_len(Shareholdings::HolderName, 128))
                    .col(string_len(Shareholdings::HolderType, 16).check(
                        Expr::col(Shareholdings::HolderType).is_in([
                            "collective",
                            "enterprise",
                            "households",
                            "individual",
                        ]),
                    ))
                    .col(
                        integer(Shareholdings::PercentageBp).check(
                            Expr::col(Shareholdings::PercentageBp)
                                .gt(0)
                                .and(Expr::col(Shareholdings::PercentageBp).lte(10_000)),
                        ),
                    )
                    .col(timestamp_with_time_zone(Shareholdings::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Shareholdings::Table, Shareholdings::EntityId)
                            .to(EquityEntities::Table, EquityEntities::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_shareholdings_entity")
                    .table(Shareholdings::Table)
                    .col(Shareholdings::EntityId)
                    .col(Shareholdings::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Assets::Table)
                    .col(pk_uuid(Assets::Id))
                    .col(uuid(Assets::OrganizationId))
                    .col(
                        string_len(Assets::Kind, 32).check(Expr::col(Assets::Kind).is_in([
                            "land_management_right",
                            "forest_right",
                            "construction_land_use_right",
                            "production_facility",
                            "machinery",
                            "building",
                            "livestock",
                            "equity",
                        ])),
                    )
                    .col(string_len(Assets::Name, 128))
                    .col(string_len(Assets::RegionCode, 12))
                    .col(string_len(Assets::Address, 256))
                    // Hundredths of the unit (50.5 亩 is 5050).
                    .col(big_integer(Assets::Quantity).check(Expr::col(Assets::Quantity).gt(0)))
                    .col(string_len(Assets::Unit, 8))
                    .col(string_len_null(Assets::CertificateNo, 64))
                    .col(integer_null(Assets::HeadCount))
                    .col(text_null(Assets::EarTags))
                    .col(date_null(Assets::RightStart))
                    .col(date_null(Assets::RightEnd))
                    .col(big_integer_null(Assets::AcquisitionCost))
                    .col(text(Assets::Description).default(""))
                    .col(uuid_null(Assets::ShareholdingId))
                    .col(string_len(Assets::Verification, 16).check(
                        Expr::col(Assets::Verification).is_in(["pending", "verified", "rejected"]),
                    ))
                    .col(text_null(Assets::VerificationNote))
                    .col(uuid_null(Assets::VerifiedBy))
                    .col(timestamp_with_time_zone_null(Assets::VerifiedAt))
                    .col(integer(Assets::Version).default(1))
                    .col(timestamp_with_time_zone(Assets::CreatedAt))
                    .col(timestamp_with_time_zone(Assets::UpdatedAt))
                    .check(
                        Expr::col(Assets::RightEnd)
                            .is_null()
                            .or(Expr::col(Assets::RightStart).is_null())
                            .or(Expr::col(Assets::RightEnd).gt(Expr::col(Assets::RightStart))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assets::Table, Assets::OrganizationId)
                            .to(Organizations::Table, Organizations::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assets::Table, Assets::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assets::Table, Assets::ShareholdingId)
                            .to(Shareholdings::Table, Shareholdings::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Assets::Table, Assets::VerifiedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // Lists: by organization (the mobile app), by verification state (the county's queue).
        for (name, cols) in [
            (
                "idx_assets_organization",
                vec![Assets::OrganizationId, Assets::Id],
            ),
            (
                "idx_assets_verification",
                vec![Assets::Verification, Assets::Id],
            ),
            ("idx_assets_kind", vec![Assets::Kind, Assets::Id]),
        ] {
            let mut index = Index::create();
            index.name(name).table(Assets::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // A shareholding is registered as at most one asset.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_assets_shareholding ON assets (shareholding_id) \
                 WHERE shareholding_id IS NOT NULL",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AssetValuations::Table)
                    .col(pk_uuid(AssetValuations::Id))
                    .col(uuid(AssetValuations::AssetId))
                    .col(
                        big_integer(AssetValuations::Value)
                            .check(Expr::col(AssetValuations::Value).gt(0)),
                    )
                    .col(string_len(AssetValuations::Method, 16).check(
                        Expr::col(AssetValuations::Method).is_in(["market", "income", "cost"]),
                    ))
                    .col(string_len(AssetValuations::Appraiser, 128))
                    .col(date(AssetValuations::AppraisalDate))
                    .col(date(AssetValuations::ValidUntil))
                    .col(uuid(AssetValuations::CreatedBy))
                    .col(timestamp_with_time_zone(AssetValuations::CreatedAt))
                    .check(
                        Expr::col(AssetValuations::ValidUntil)
                            .gt(Expr::col(AssetValuations::AppraisalDate)),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetValuations::Table, AssetValuations::AssetId)
                            .to(Assets::Table, Assets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetValuations::Table, AssetValuations::CreatedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_asset_valuations_asset")
                    .table(AssetValuations::Table)
                    .col(AssetValuations::AssetId)
                    .col(AssetValuations::AppraisalDate)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AssetDocuments::Table)
                    .col(pk_uuid(AssetDocuments::Id))
                    .col(uuid(AssetDocuments::AssetId))
                    .col(string_len(AssetDocuments::Kind, 32).check(
                        Expr::col(AssetDocuments::Kind).is_in([
                            "certificate_photo",
                            "appraisal_report",
                            "assembly_resolution",
                        ]),
                    ))
                    .col(string_len(AssetDocuments::FileName, 255))
                    .col(string_len(AssetDocuments::ContentType, 64))
                    .col(big_integer(AssetDocuments::Size))
                    .col(string_len(AssetDocuments::Sha256, 64))
                    .col(string_len(AssetDocuments::StorageKey, 255))
                    .col(uuid(AssetDocuments::UploadedBy))
                    .col(timestamp_with_time_zone(AssetDocuments::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetDocuments::Table, AssetDocuments::AssetId)
                            .to(Assets::Table, Assets::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AssetDocuments::Table, AssetDocuments::UploadedBy)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_asset_documents_asset")
                    .table(AssetDocuments::Table)
                    .col(AssetDocuments::AssetId)
                    .col(AssetDocuments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AssetDocuments::Table.into_iden(),
            AssetValuations::Table.into_iden(),
            Assets::Table.into_iden(),
            Shareholdings::Table.into_iden(),
            EquityEntities::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum EquityEntities {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    Uscc,
    AllocatedBp,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Shareholdings {
    Table,
    Id,
    EntityId,
    HolderName,
    HolderType,
    PercentageBp,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Assets {
    Table,
    Id,
    OrganizationId,
    Kind,
    Name,
    RegionCode,
    Address,
    Quantity,
    Unit,
    CertificateNo,
    HeadCount,
    EarTags,
    RightStart,
    RightEnd,
    AcquisitionCost,
    Description,
    ShareholdingId,
    Verification,
    VerificationNote,
    VerifiedBy,
    VerifiedAt,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AssetValuations {
    Table,
    Id,
    AssetId,
    Value,
    Method,
    Appraiser,
    AppraisalDate,
    ValidUntil,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum AssetDocuments {
    Table,
    Id,
    AssetId,
    Kind,
    FileName,
    ContentType,
    Size,
    Sha256,
    StorageKey,
    UploadedBy,
    CreatedAt,
}
