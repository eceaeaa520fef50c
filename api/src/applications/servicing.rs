//! A loan after approval, as operations (re-exported by [`super::ops`]): disbursement with its
//! stored schedule, repayments (allocated by `crate::repayment`) up to settlement, and the
//! shortfall flag, set and cleared by writes and by a periodic sweep.

use chrono::NaiveDate;
use entity::{
    ApplicationAction, ApplicationStatus, Money, loan_application, loan_installment, repayment,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::collateral;
use super::find_visible;
use crate::auth::Caller;
use crate::domain::parse_name;
use crate::error::ApiError;
use crate::repayment::{Period, allocate};
use crate::schedule::schedule;
use crate::transition::move_application;
use crate::{audit, db, liens, validate};

#[derive(Deserialize, ToSchema)]
pub struct DisburseRequest {
    pub contract_no: String,
    /// The mortgage's registration number: a mortgage is effective on registration. Unique
    /// within the bank.
    pub lien_registration_no: String,
    /// At most the approved amount.
    pub amount: Money,
    /// The day the money was paid out (the contract's date): not in the future.
    pub date: NaiveDate,
}

/// The bank pays an approved loan out: the liens become active and the repayment schedule is
/// generated (the recommended rate, term and method, from `date`) and stored.
pub async fn disburse(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: DisburseRequest,
) -> Result<loan_application::Model, ApiError> {
    if current
        .status
        .may_move(ApplicationAction::Disburse)
        .is_none()
    {
        return Err(ApiError::InvalidState(current.status.as_str()));
    }
    let approved = current.approved_amount.unwrap_or(Money::ZERO);
    let (contract_no, registration, amount, date) = validate!(
        contract_no = parse_name(&request.contract_no, 64),
        lien_registration_no = parse_name(&request.lien_registration_no, 64),
        amount = match request.amount {
            a if a.fen() <= 0 => Err("out_of_range"),
            a if a > approved => Err("above_approved"),
            a => Ok(a),
        },
        // The contract's date: a loan entered after the fact may predate its approval's
        // record here, never today.
        date = if request.date > db::today() {
            Err("in_future")
        } else {
            Ok(request.date)
        },
    )?;
    let (Some(rate), Some(term), Some(method)) = (
        current.recommended_rate,
        current.recommended_term,
        current.recommended_method,
    ) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "approved application {} has no recommended terms",
            current.id
        )));
    };
    let rows = schedule(amount, rate, Ord::max(term, 1) as u32, method, date);

    let txn = db.begin().await?;
    let moved = move_application(
        &txn,
        actor.id(),
        &current,
        ApplicationAction::Disburse,
        |u| {
            u.col_expr(
                loan_application::Column::ContractNo,
                Expr::value(contract_no.clone()),
            )
            .col_expr(
                loan_application::Column::LienRegistrationNo,
                Expr::value(registration.clone()),
            )
            .col_expr(
                loan_application::Column::DisbursedAmount,
                Expr::value(amount),
            )
            .col_expr(loan_application::Column::DisbursedOn, Expr::value(date))
            .col_expr(
                loan_application::Column::OutstandingPrincipal,
                Expr::value(amount),
            )
        },
        serde_json::json!({
            "contract_no": contract_no, "lien_registration_no": registration,
            "amount": amount, "date": date, "periods": rows.len(),
        }),
    )
    .await;
    match moved {
        Err(ApiError::Internal(cause))
            if cause
                .downcast_ref::<sea_orm::DbErr>()
                .is_some_and(db::is_unique_violation) =>
        {
            return Err(ApiError::Conflict("lien_registration_taken"));
        }
        other => other?,
    };
    liens::activate(&txn, current.id).await?;
    store_schedule(
        &txn,
        current.id,
        rows.iter().map(|r| Period {
            period: r.period as i32,
            due_date: r.due_date,
            principal: r.principal.fen(),
            interest: r.interest.fen(),
            paid_principal: 0,
            paid_interest: 0,
        }),
    )
    .await?;
    evaluate_shortfall(&txn, Some(actor.id()), current.id).await?;
    txn.commit().await?;
    find_visible(db, actor, current.id).await
}

/// Replaces the stored schedule of a loan.
async fn store_schedule(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
    periods: impl IntoIterator<Item = Period>,
) -> Result<(), ApiError> {
    loan_installment::Entity::delete_many()
        .filter(loan_installment::Column::ApplicationId.eq(application_id))
        .exec(txn)
        .await?;
    let rows: Vec<loan_installment::ActiveModel> = periods
        .into_iter()
        .map(|p| {
            loan_installment::ActiveModel::from(loan_installment::Model {
                application_id,
                period: p.period,
                due_date: p.due_date,
                principal: Money::from_fen(p.principal),
                interest: Money::from_fen(p.interest),
                paid_principal: Money::from_fen(p.paid_principal),
                paid_interest: Money::from_fen(p.paid_interest),
            })
        })
        .collect();
    for chunk in rows.chunks(200) {
        loan_installment::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// A loan's stored schedule, by period.
pub async fn periods_of(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<Period>, ApiError> {
    Ok(loan_installment::Entity::find()
        .filter(loan_installment::Column::ApplicationId.eq(application_id))
        .order_by_asc(loan_installment::Column::Period)
        .all(db)
        .await?
        .into_iter()
        .map(|i| Period {
            period: i.period,
            due_date: i.due_date,
            principal: i.principal.fen(),
            interest: i.interest.fen(),
            paid_principal: i.paid_principal.fen(),
            paid_interest: i.paid_interest.fen(),
        })
        .collect())
}

#[derive(Deserialize, ToSchema)]
pub struct RepaymentRequest {
    /// The day the money was received: not before disbursement or the previous repayment,
    /// not in the future.
    pub date: NaiveDate,
    pub amount: Money,
}

/// The bank records a repayment of a disbursed loan: allocated to the due periods oldest first,
/// interest before principal, the rest prepaying principal (the schedule recomputed). When
/// nothing is owed any more the loan is settled and its liens released, in the same
/// transaction. Racing repayments are serialized on the application's row: the second sees
/// what the first left.
pub async fn record_repayment(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: RepaymentRequest,
) -> Result<repayment::Model, ApiError> {
    if current.status != ApplicationStatus::Disbursed {
        return Err(ApiError::InvalidState(current.status.as_str()));
    }
    let txn = db.begin().await?;
    // Taking the row first: a concurrent repayment waits here, then reads what this one left.
    let taken = loan_application::Entity::update_many()
        .col_expr(
            loan_application::Column::Version,
            Expr::col(loan_application::Column::Version).add(1),
        )
        .col_expr(loan_application::Column::UpdatedAt, Expr::value(db::now()))
        .filter(loan_application::Column::Id.eq(current.id))
        .filter(loan_application::Column::Status.eq(ApplicationStatus::Disbursed))
        .exec(&txn)
        .await?;
    let loan = loan_application::Entity::find_by_id(current.id)
        .one(&txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if taken.rows_affected == 0 {
        return Err(ApiError::InvalidState(loan.status.as_str()));
    }
    let last: Option<NaiveDate> = repayment::Entity::find()
        .select_only()
        .column(repayment::Column::PaidOn)
        .filter(repayment::Column::ApplicationId.eq(loan.id))
        .order_by_desc(repayment::Column::PaidOn)
        .into_tuple()
        .one(&txn)
        .await?;
    let (date, amount) = validate!(
        date = if request.date > db::today() {
            Err("in_future")
        } else if loan.disbursed_on.is_some_and(|d| request.date < d) {
            Err("before_disbursement")
        } else if last.is_some_and(|d| request.date < d) {
            Err("before_previous_repayment")
        } else {
            Ok(request.date)
        },
        amount = if request.amount.fen() > 0 {
            Ok(request.amount)
        } else {
            Err("out_of_range")
        },
    )?;
    let (Some(rate), Some(method)) = (loan.recommended_rate, loan.recommended_method) else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "disbursed loan {} has no terms",
            loan.id
        )));
    };
    let periods = periods_of(&txn, loan.id).await?;
    let allocation = allocate(&periods, date, amount.fen(), rate, method).map_err(|over| {
        ApiError::Overpayment {
            outstanding: over.owed,
        }
    })?;
    store_schedule(&txn, loan.id, allocation.periods.iter().cloned()).await?;
    let outstanding = Money::from_fen(allocation.outstanding_principal());
    loan_application::Entity::update_many()
        .col_expr(
            loan_application::Column::OutstandingPrincipal,
            Expr::value(outstanding),
        )
        .filter(loan_application::Column::Id.eq(loan.id))
        .exec(&txn)
        .await?;
    let paid = repayment::Model {
        id: Uuid::now_v7(),
        application_id: loan.id,
        paid_on: date,
        amount,
        principal: Money::from_fen(allocation.principal),
        interest: Money::from_fen(allocation.interest),
        recorded_by: actor.id(),
        created_at: db::now(),
    };
    repayment::Entity::insert(repayment::ActiveModel::from(paid.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "application.repayment",
        "application",
        loan.id,
        serde_json::json!({
            "repayment_id": paid.id, "date": date, "amount": amount,
            "principal": paid.principal, "interest": paid.interest,
            "outstanding_principal": outstanding,
        }),
    )
    .await?;
    if allocation.settles() {
        let now = db::now();
        move_application(
            &txn,
            actor.id(),
            &loan,
            ApplicationAction::Settle,
            |u| u.col_expr(loan_application::Column::SettledAt, Expr::value(now)),
            serde_json::json!({"repayment_id": paid.id}),
        )
        .await?;
        liens::release_active(&txn, loan.id).await?;
    }
    evaluate_shortfall(&txn, Some(actor.id()), loan.id).await?;
    txn.commit().await?;
    Ok(paid)
}

/// Sets or clears a loan's shortfall flag from its collateral's lendable value today, with an
/// audit event when it changes. Conditional on the flag's current state, so evaluations racing
/// (the sweep on several instances, a valuation) change it once.
pub async fn evaluate_shortfall(
    txn: &impl ConnectionTrait,
    actor: Option<Uuid>,
    application_id: Uuid,
) -> Result<(), ApiError> {
    let Some(loan) = loan_application::Entity::find_by_id(application_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let cover = collateral::summaries(txn, &[&loan])
        .await?
        .pledged
        .remove(&loan.id)
        .map_or(Money::ZERO, |(_, s)| s.max_loanable);
    let outstanding = loan.outstanding_principal.unwrap_or(Money::ZERO);
    let short = loan.status == ApplicationStatus::Disbursed && outstanding > cover;
    let column = loan_application::Column::ShortfallSince;
    let (changed, action) = if short {
        let set = loan_application::Entity::update_many()
            .col_expr(column, Expr::value(db::now()))
            .filter(loan_application::Column::Id.eq(loan.id))
            .filter(column.is_null())
            .exec(txn)
            .await?;
        (set.rows_affected, "application.shortfall_set")
    } else {
        let cleared = loan_application::Entity::update_many()
            .col_expr(column, Expr::value(None::<chrono::DateTime<chrono::Utc>>))
            .filter(loan_application::Column::Id.eq(loan.id))
            .filter(column.is_not_null())
            .exec(txn)
            .await?;
        (cleared.rows_affected, "application.shortfall_cleared")
    };
    if changed == 1 {
        if short {
            crate::notifications::notify_shortfall(txn, &loan).await?;
        }
        audit::record(
            txn,
            actor,
            action,
            "application",
            loan.id,
            serde_json::json!({"outstanding_principal": outstanding, "coverage": cover}),
        )
        .await?;
    }
    Ok(())
}

/// Re-evaluates every disbursed loan's shortfall (valuations expire with the date) and tells the
/// village of its oldest overdue period: each loan in its own transaction, a page at a time.
/// Safe on every instance at once.
pub async fn sweep_shortfalls(db: &DatabaseConnection) -> Result<u64, ApiError> {
    let mut after = Uuid::nil();
    let mut checked = 0;
    loop {
        let ids: Vec<Uuid> = loan_application::Entity::find()
            .select_only()
            .column(loan_application::Column::Id)
            .filter(loan_application::Column::Status.eq(ApplicationStatus::Disbursed))
            .filter(loan_application::Column::Id.gt(after))
            .order_by_asc(loan_application::Column::Id)
            .limit(500)
            .into_tuple()
            .all(db)
            .await?;
        let Some(last) = ids.last().copied() else {
            return Ok(checked);
        };
        for id in ids {
            let txn = db::begin_writing(db).await?;
            evaluate_shortfall(&txn, None, id).await?;
            notify_overdue(&txn, id).await?;
            txn.commit().await?;
            checked += 1;
        }
        after = last;
    }
}

/// Tells the village of the loan's oldest overdue period (once per period).
async fn notify_overdue(txn: &impl ConnectionTrait, application_id: Uuid) -> Result<(), ApiError> {
    let today = db::today();
    let overdue = periods_of(txn, application_id)
        .await?
        .into_iter()
        .find(|p| p.due_date < today && p.unpaid() > 0);
    let Some(period) = overdue else {
        return Ok(());
    };
    let Some(loan) = loan_application::Entity::find_by_id(application_id)
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    crate::notifications::notify_overdue(txn, &loan, period.period).await
}

/// One period of a loan's schedule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstallmentView {
    pub period: i32,
    pub due_date: NaiveDate,
    pub principal: Money,
    pub interest: Money,
    /// principal + interest
    pub installment: Money,
    pub paid: Money,
    /// What is still owed on this period.
    pub outstanding: Money,
    pub status: InstallmentStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstallmentStatus {
    Paid,
    /// Due date past and not fully paid.
    Overdue,
    /// Some paid, not yet overdue.
    PartlyPaid,
    Upcoming,
}

pub fn installment_views(periods: &[Period], today: NaiveDate) -> Vec<InstallmentView> {
    periods
        .iter()
        .map(|p| {
            let paid = p.paid_principal + p.paid_interest;
            let status = if p.unpaid() == 0 {
                InstallmentStatus::Paid
            } else if p.due_date < today {
                InstallmentStatus::Overdue
            } else if paid > 0 {
                InstallmentStatus::PartlyPaid
            } else {
                InstallmentStatus::Upcoming
            };
            InstallmentView {
                period: p.period,
                due_date: p.due_date,
                principal: Money::from_fen(p.principal),
                interest: Money::from_fen(p.interest),
                installment: Money::from_fen(p.principal + p.interest),
                paid: Money::from_fen(paid),
                outstanding: Money::from_fen(p.unpaid()),
                status,
            }
        })
        .collect()
}
