//! The tenants: regions, collective organizations with their incomes, banks with their branches
//! and the regions they serve.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Regions::Table)
                    .col(
                        string_len(Regions::Code, 12)
                            .primary_key()
                            .check(Expr::cust("length(code) = 12")),
                    )
                    .col(string_len(Regions::Name, 64))
                    .col(
                        string_len(Regions::Level, 16).check(
                            Expr::col(Regions::Level)
                                .is_in(["province", "city", "county", "township", "village"]),
                        ),
                    )
                    .col(string_len_null(Regions::ParentCode, 12))
                    .col(timestamp_with_time_zone(Regions::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Regions::Table, Regions::ParentCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_regions_parent")
                    .table(Regions::Table)
                    .col(Regions::ParentCode)
                    .col(Regions::Code)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Organizations::Table)
                    .col(pk_uuid(Organizations::Id))
                    .col(string_len(Organizations::Name, 128))
                    .col(string_len_uniq(Organizations::Uscc, 18))
                    .col(string_len(Organizations::RegionCode, 12))
                    .col(string_len(Organizations::LegalRepName, 64))
                    .col(string_len(Organizations::LegalRepMobile, 11))
                    .col(
                        integer(Organizations::MemberHouseholds)
                            .check(Expr::col(Organizations::MemberHouseholds).gte(0)),
                    )
                    .col(
                        string_len(Organizations::Status, 16)
                            .check(Expr::col(Organizations::Status).is_in(["active", "suspended"])),
                    )
                    .col(boolean(Organizations::SharesVillage).default(false))
                    .col(integer(Organizations::Version).default(1))
                    .col(timestamp_with_time_zone(Organizations::CreatedAt))
                    .col(timestamp_with_time_zone(Organizations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organizations::Table, Organizations::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organizations_region")
                    .table(Organizations::Table)
                    .col(Organizations::RegionCode)
                    .col(Organizations::Id)
                    .to_owned(),
            )
            .await?;
        // One organization per village, unless the admin marked it as sharing its village.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX uq_organizations_village ON organizations (region_code) \
                 WHERE shares_village = FALSE",
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganizationIncomes::Table)
                    .col(uuid(OrganizationIncomes::OrganizationId))
                    .col(
                        integer(OrganizationIncomes::Year)
                            .check(Expr::col(OrganizationIncomes::Year).between(1949, 2200)),
                    )
                    .col(
                        big_integer(OrganizationIncomes::Amount)
                            .check(Expr::col(OrganizationIncomes::Amount).gte(0)),
                    )
                    .col(timestamp_with_time_zone(OrganizationIncomes::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(OrganizationIncomes::OrganizationId)
                            .col(OrganizationIncomes::Year),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                OrganizationIncomes::Table,
                                OrganizationIncomes::OrganizationId,
                            )
                            .to(Organizations::Table, Organizations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organization_incomes_year")
                    .table(OrganizationIncomes::Table)
                    .col(OrganizationIncomes::Year)
                    .col(OrganizationIncomes::OrganizationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Banks::Table)
                    .col(pk_uuid(Banks::Id))
                    .col(string_len(Banks::Name, 128))
                    .col(string_len_uniq(Banks::Code, 32))
                    .col(integer(Banks::Version).default(1))
                    .col(timestamp_with_time_zone(Banks::CreatedAt))
                    .col(timestamp_with_time_zone(Banks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankBranches::Table)
                    .col(pk_uuid(BankBranches::Id))
                    .col(uuid(BankBranches::BankId))
                    .col(string_len(BankBranches::Name, 128))
                    .col(string_len_null(BankBranches::RegionCode, 12))
                    .col(timestamp_with_time_zone(BankBranches::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankBranches::Table, BankBranches::BankId)
                            .to(Banks::Table, Banks::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankBranches::Table, BankBranches::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await?;
        // (bank_id, name) is unique; (id, bank_id) lets users reference a branch *of their bank*.
        manager
            .create_index(
                Index::create()
                    .name("uq_bank_branches_name")
                    .table(BankBranches::Table)
                    .col(BankBranches::BankId)
                    .col(BankBranches::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_bank_branches_id_bank")
                    .table(BankBranches::Table)
                    .col(BankBranches::Id)
                    .col(BankBranches::BankId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BankRegions::Table)
                    .col(uuid(BankRegions::BankId))
                    .col(string_len(BankRegions::RegionCode, 12))
                    .primary_key(
                        Index::create()
                            .col(BankRegions::BankId)
                            .col(BankRegions::RegionCode),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankRegions::Table, BankRegions::BankId)
                            .to(Banks::Table, Banks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(BankRegions::Table, BankRegions::RegionCode)
                            .to(Regions::Table, Regions::Code),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            BankRegions::Table.into_iden(),
            BankBranches::Table.into_iden(),
            Banks::Table.into_iden(),
            OrganizationIncomes::Table.into_iden(),
            Organizations::Table.into_iden(),
            Regions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Regions {
    Table,
    Code,
    Name,
    Level,
    ParentCode,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum Organizations {
    Table,
    Id,
    Name,
    Uscc,
    RegionCode,
    LegalRepName,
    LegalRepMobile,
    MemberHouseholds,
    Status,
    SharesVillage,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrganizationIncomes {
    Table,
    OrganizationId,
    Year,
    Amount,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum Banks {
    Table,
    Id,
    Name,
    Code,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum BankBranches {
    Table,
    Id,
    BankId,
    Name,
    RegionCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum BankRegions {
    Table,
    BankId,
    RegionCode,
}
