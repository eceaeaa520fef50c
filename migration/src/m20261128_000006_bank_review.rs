//! The bank's half of the lifecycle: the assigned officer, the recommendation, the decision, the
//! disbursement with its stored repayment schedule, repayments, and the shortfall flag; indexes
//! for the officer's queue.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LoanApplications as A;
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            uuid_null(A::AssignedTo),
            text_null(A::InfoRequest),
            uuid_null(A::RecommendedBy),
            big_integer_null(A::RecommendedAmount),
            integer_null(A::RecommendedRate),
            integer_null(A::RecommendedTerm),
            string_len_null(A::RecommendedMethod, 32),
            text_null(A::RecommendationOpinion),
            uuid_null(A::ApprovedBy),
            big_integer_null(A::ApprovedAmount),
            text_null(A::ApprovalOpinion),
            timestamp_with_time_zone_null(A::DecidedAt),
            string_len_null(A::RejectReason, 32),
            text_null(A::RejectText),
            string_len_null(A::ContractNo, 64),
            string_len_null(A::LienRegistrationNo, 64),
            big_integer_null(A::DisbursedAmount),
            date_null(A::DisbursedOn),
            big_integer_null(A::OutstandingPrincipal),
            timestamp_with_time_zone_null(A::ShortfallSince),
            timestamp_with_time_zone_null(A::SettledAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(A::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        // Both backends treat NULLs as distinct, so undisbursed loans do not collide; a
        // registration number is unique within its bank.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_loan_applications_lien_registration \
             ON loan_applications (bank_id, lien_registration_no)",
        )
        .await?;
        // The officer's queue: a bank's applications oldest submission first, by state, by
        // assignee, and the few in shortfall.
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_queue \
             ON loan_applications (bank_id, submitted_at, id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_queue_status \
             ON loan_applications (bank_id, status, submitted_at, id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_assignee \
             ON loan_applications (assigned_to, submitted_at, id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_assignee_status \
             ON loan_applications (assigned_to, status, submitted_at, id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_shortfall \
             ON loan_applications (bank_id, submitted_at, id) WHERE shortfall_since IS NOT NULL",
        )
        .await?;
        // The expiry job walks the disbursed loans.
        db.execute_unprepared(
            "CREATE INDEX idx_loan_applications_disbursed \
             ON loan_applications (id) WHERE status = 'disbursed'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(LoanInstallments::Table)
                    .col(uuid(LoanInstallments::ApplicationId))
                    .col(integer(LoanInstallments::Period))
                    .col(date(LoanInstallments::DueDate))
                    .col(
                        big_integer(LoanInstallments::Principal)
                            .check(Expr::col(LoanInstallments::Principal).gte(0)),
                    )
                    .col(
                        big_integer(LoanInstallments::Interest)
                            .check(Expr::col(LoanInstallments::Interest).gte(0)),
                    )
                    .col(big_integer(LoanInstallments::PaidPrincipal).default(0))
                    .col(big_integer(LoanInstallments::PaidInterest).default(0))
                    .primary_key(
                        Index::create()
                            .col(LoanInstallments::ApplicationId)
                            .col(LoanInstallments::Period),
                    )
                    // Nothing is ever paid twice, or below zero.
                    .check(
                        Expr::col(LoanInstallments::PaidPrincipal)
                            .gte(0)
                            .and(
                                Expr::col(LoanInstallments::PaidPrincipal)
                                    .lte(Expr::col(LoanInstallments::Principal)),
                            )
                            .and(Expr::col(LoanInstallments::PaidInterest).gte(0))
                            .and(
                                Expr::col(LoanInstallments::PaidInterest)
                                    .lte(Expr::col(LoanInstallments::Interest)),
                            ),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LoanInstallments::Table, LoanInstallments::ApplicationId)
                            .to(A::Table, A::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Repayments::Table)
                    .col(pk_uuid(Repayments::Id))
                    .col(uuid(Repayments::ApplicationId))
                    .col(date(Repayments::PaidOn))
                    .col(big_integer(Repayments::Amount).check(Expr::col(Repayments::Amount).gt(0)))
                    .col(big_integer(Repayments::Principal))
                    .col(big_integer(Repayments::Interest))
                    .col(uuid(Repayments::RecordedBy))
                    .col(timestamp_with_time_zone(Repayments::CreatedAt))
                    .check(
                        Expr::col(Repayments::Principal)
                            .add(Expr::col(Repayments::Interest))
                            .eq(Expr::col(Repayments::Amount)),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Repayments::Table, Repayments::ApplicationId)
                            .to(A::Table, A::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_repayments_application")
                    .table(Repayments::Table)
                    .col(Repayments::ApplicationId)
                    .col(Repayments::PaidOn)
                    .col(Repayments::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Repayments::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LoanInstallments::Table).to_owned())
            .await?;
        let db = manager.get_connection();
        for index in [
            "idx_loan_applications_lien_registration",
            "idx_loan_applications_queue",
            "idx_loan_applications_queue_status",
            "idx_loan_applications_assignee",
            "idx_loan_applications_assignee_status",
            "idx_loan_applications_shortfall",
            "idx_loan_applications_disbursed",
        ] {
            db.execute_unprepared(&format!("DROP INDEX {index}"))
                .await?;
        }
        for column in [
            "assigned_to",
            "info_request",
            "recommended_by",
            "recommended_amount",
            "recommended_rate",
            "recommended_term",
            "recommended_method",
            "recommendation_opinion",
            "approved_by",
            "approved_amount",
            "approval_opinion",
            "decided_at",
            "reject_reason",
            "reject_text",
            "contract_no",
            "lien_registration_no",
            "disbursed_amount",
            "disbursed_on",
            "outstanding_principal",
            "shortfall_since",
            "settled_at",
        ] {
            db.execute_unprepared(&format!(
                "ALTER TABLE loan_applications DROP COLUMN {column}"
            ))
            .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum LoanApplications {
    Table,
    Id,
    AssignedTo,
    InfoRequest,
    RecommendedBy,
    RecommendedAmount,
    RecommendedRate,
    RecommendedTerm,
    RecommendedMethod,
    RecommendationOpinion,
    ApprovedBy,
    ApprovedAmount,
    ApprovalOpinion,
    DecidedAt,
    RejectReason,
    RejectText,
    ContractNo,
    LienRegistrationNo,
    DisbursedAmount,
    DisbursedOn,
    OutstandingPrincipal,
    ShortfallSince,
    SettledAt,
}

#[derive(DeriveIden)]
enum LoanInstallments {
    Table,
    ApplicationId,
    Period,
    DueDate,
    Principal,
    Interest,
    PaidPrincipal,
    PaidInterest,
}

#[derive(DeriveIden)]
enum Repayments {
    Table,
    Id,
    ApplicationId,
    PaidOn,
    Amount,
    Principal,
    Interest,
    RecordedBy,
    CreatedAt,
}
