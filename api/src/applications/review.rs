//! The bank's review of an application, as operations (re-exported by [`super::ops`]): claim,
//! release, request information, the village's resubmission, recommend, approve, reject. Each
//! takes the application as the caller read it (its `If-Match` checked), checks who may act,
//! and moves the state through `transition::move_application` with its audit event, moving
//! liens through `liens`, in one transaction.

use std::collections::HashSet;

use entity::{
    ApplicationAction, LoanPurpose, Money, Rate, RejectReason, RepaymentMethod, Role, asset,
    loan_application, loan_product,
};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession,
    TransactionTrait,
};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::ops::check_submission;
use super::{DraftRequest, asset_ids_of, check_draft, find_visible, replace_assets};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::transition::move_application;
use crate::{db, liens, validate};

/// Longest message, opinion or reason text, in characters.
const TEXT_LIMIT: usize = 2000;

fn parse_text(raw: &str) -> Result<String, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        Err("required")
    } else if text.chars().count() > TEXT_LIMIT {
        Err("too_long")
    } else {
        Ok(text.to_owned())
    }
}

/// Refuses an action the state does not allow, before anything else is checked.
fn allowed(current: &loan_application::Model, action: ApplicationAction) -> Result<(), ApiError> {
    match current.status.may_move(action) {
        Some(_) => Ok(()),
        None => Err(ApiError::InvalidState(current.status.as_str())),
    }
}

fn assigned_to_actor(current: &loan_application::Model, actor: &Caller) -> Result<(), ApiError> {
    if current.assigned_to == Some(actor.id()) {
        Ok(())
    } else {
        Err(ApiError::NotAssigned)
    }
}

/// Moves `current` in its own transaction and reads it back.
async fn simple_move(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: &loan_application::Model,
    action: ApplicationAction,
    set: impl FnOnce(
        sea_orm::UpdateMany<loan_application::Entity>,
    ) -> sea_orm::UpdateMany<loan_application::Entity>,
    details: serde_json::Value,
) -> Result<loan_application::Model, ApiError> {
    let txn = db.begin().await?;
    move_application(&txn, actor.id(), current, action, set, details).await?;
    txn.commit().await?;
    find_visible(db, actor, current.id).await
}

/// An officer of the bank takes a submitted application; of two racing, one wins (409).
pub async fn claim(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Claim)?;
    let officer = actor.id();
    simple_move(
        db,
        actor,
        &current,
        ApplicationAction::Claim,
        |u| u.col_expr(loan_application::Column::AssignedTo, Expr::value(officer)),
        serde_json::json!({"assigned_to": officer}),
    )
    .await
}

/// The assigned officer hands the application back to the bank's queue.
pub async fn release(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Release)?;
    assigned_to_actor(&current, actor)?;
    simple_move(
        db,
        actor,
        &current,
        ApplicationAction::Release,
        |u| {
            u.col_expr(
                loan_application::Column::AssignedTo,
                Expr::value(None::<Uuid>),
            )
        },
        serde_json::json!({"released_by": actor.id()}),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct RequestInfoRequest {
    /// What the village must add or explain; shown on its phone.
    pub message: String,
}

/// The assigned officer asks the village for more information.
pub async fn request_info(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: RequestInfoRequest,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::RequestInfo)?;
    assigned_to_actor(&current, actor)?;
    let (message,) = validate!(message = parse_text(&request.message))?;
    simple_move(
        db,
        actor,
        &current,
        ApplicationAction::RequestInfo,
        |u| {
            u.col_expr(
                loan_application::Column::InfoRequest,
                Expr::value(message.clone()),
            )
        },
        serde_json::json!({"message": message}),
    )
    .await
}

#[derive(Deserialize, ToSchema, Default)]
pub struct ResubmitRequest {
    pub amount: Option<Money>,
    pub term_months: Option<i32>,
    pub purpose: Option<LoanPurpose>,
    /// The collateral, replacing the previous list: dropped assets are freed, added ones
    /// reserved, in the same transaction.
    pub asset_ids: Option<Vec<Uuid>>,
    /// The village's answer to the officer.
    pub message: String,
}

/// The village answers a request for information, optionally changing amount, term, purpose or
/// collateral; everything is checked again as at submission, and the liens follow the
/// collateral. The application goes back to the same officer.
pub async fn resubmit(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: ResubmitRequest,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Resubmit)?;
    let (message,) = validate!(message = parse_text(&request.message))?;
    let before = asset_ids_of(db, current.id).await?;
    let draft = check_draft(
        db,
        current.organization_id,
        DraftRequest {
            amount: request.amount,
            term_months: request.term_months,
            purpose: request.purpose,
            asset_ids: request.asset_ids,
            ..DraftRequest::default()
        },
        Some(&current),
        before.clone(),
    )
    .await?;
    let changed = loan_application::Model {
        amount: draft.amount,
        term_months: draft.term_months,
        purpose: draft.purpose,
        ..current.clone()
    };
    check_submission(db, &changed, &draft.asset_ids).await?;
    let kept: HashSet<Uuid> = before.iter().copied().collect();
    let added: Vec<Uuid> = draft
        .asset_ids
        .iter()
        .copied()
        .filter(|a| !kept.contains(a))
        .collect();
    let dropped: Vec<Uuid> = before
        .iter()
        .copied()
        .filter(|a| !draft.asset_ids.contains(a))
        .collect();
    // The versions the checks saw: reserving proves the added assets are still those.
    let checked: Vec<(Uuid, i32)> = asset::Entity::find()
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::Version)
        .filter(asset::Column::Id.is_in(added.clone()))
        .into_tuple()
        .all(db)
        .await?;

    let txn = db.begin().await?;
    move_application(
        &txn,
        actor.id(),
        &current,
        ApplicationAction::Resubmit,
        |u| {
            u.col_expr(loan_application::Column::Amount, Expr::value(draft.amount))
                .col_expr(
                    loan_application::Column::TermMonths,
                    Expr::value(draft.term_months),
                )
                .col_expr(
                    loan_application::Column::Purpose,
                    Expr::value(draft.purpose),
                )
                .col_expr(
                    loan_application::Column::InfoRequest,
                    Expr::value(None::<String>),
                )
        },
        serde_json::json!({
            "message": message,
            "amount": draft.amount,
            "term_months": draft.term_months,
            "purpose": draft.purpose,
            "liens_added": added,
            "liens_released": dropped,
        }),
    )
    .await?;
    replace_assets(&txn, current.id, &draft.asset_ids).await?;
    liens::release_reserved_on(&txn, current.id, &dropped).await?;
    if let Err(liens::NotReserved) = liens::reserve(&txn, current.id, &checked).await? {
        drop(txn);
        return Err(liens::explain(db, &added, current.id).await);
    }
    txn.commit().await?;
    find_visible(db, actor, current.id).await
}

#[derive(Deserialize, ToSchema)]
pub struct RecommendRequest {
    /// At most the amount asked for, within the product's range.
    pub amount: Money,
    /// Annual rate in percent, at most the product's published rate.
    pub rate: Rate,
    /// Within the product's term range.
    pub term_months: i32,
    /// One the product offers.
    pub repayment_method: RepaymentMethod,
    pub opinion: String,
}

/// The assigned officer proposes the loan's terms to the approvers.
pub async fn recommend(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: RecommendRequest,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Recommend)?;
    assigned_to_actor(&current, actor)?;
    let product = match current.product_id {
        Some(id) => loan_product::Entity::find_by_id(id).one(db).await?,
        None => None,
    }
    .ok_or_else(|| ApiError::Validation(vec![FieldError::new("product_id", "unknown_product")]))?;
    let (amount, rate, term_months, repayment_method, opinion) = validate!(
        amount = if request.amount.fen() <= 0 {
            Err("out_of_range")
        } else if request.amount > current.amount {
            Err("above_requested")
        } else if request.amount < product.amount_min || request.amount > product.amount_max {
            Err("out_of_product_range")
        } else {
            Ok(request.amount)
        },
        rate = if request.rate.scaled() < 0 || request.rate > product.annual_rate {
            Err("out_of_product_range")
        } else {
            Ok(request.rate)
        },
        term_months = if (product.term_min..=product.term_max).contains(&request.term_months) {
            Ok(request.term_months)
        } else {
            Err("out_of_product_range")
        },
        repayment_method = if product
            .repayment_methods
            .contains(&request.repayment_method)
        {
            Ok(request.repayment_method)
        } else {
            Err("method_not_offered")
        },
        opinion = parse_text(&request.opinion),
    )?;
    let officer = actor.id();
    simple_move(
        db,
        actor,
        &current,
        ApplicationAction::Recommend,
        |u| {
            u.col_expr(
                loan_application::Column::RecommendedBy,
                Expr::value(officer),
            )
            .col_expr(
                loan_application::Column::RecommendedAmount,
                Expr::value(amount),
            )
            .col_expr(loan_application::Column::RecommendedRate, Expr::value(rate))
            .col_expr(
                loan_application::Column::RecommendedTerm,
                Expr::value(term_months),
            )
            .col_expr(
                loan_application::Column::RecommendedMethod,
                Expr::value(repayment_method),
            )
            .col_expr(
                loan_application::Column::RecommendationOpinion,
                Expr::value(opinion.clone()),
            )
        },
        serde_json::json!({
            "amount": amount, "rate": rate, "term_months": term_months,
            "repayment_method": repayment_method, "opinion": opinion,
        }),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct ApproveRequest {
    /// At most the recommended amount; the recommended amount when left out.
    pub amount: Option<Money>,
    pub opinion: String,
}

/// An approver of the bank approves: never the user who recommended it (four eyes), and only
/// up to the approver's limit.
pub async fn approve(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: ApproveRequest,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Approve)?;
    if current.recommended_by == Some(actor.id()) {
        return Err(ApiError::FourEyes);
    }
    let recommended = current.recommended_amount.unwrap_or(Money::ZERO);
    let (amount, opinion) = validate!(
        amount = match request.amount.unwrap_or(recommended) {
            a if a.fen() <= 0 => Err("out_of_range"),
            a if a > recommended => Err("above_recommended"),
            a => Ok(a),
        },
        opinion = parse_text(&request.opinion),
    )?;
    let limit = actor.user.approval_limit.unwrap_or(Money::ZERO);
    if actor.role() != Role::BankApprover || amount > limit {
        return Err(ApiError::OverApprovalLimit { limit });
    }
    let approver = actor.id();
    simple_move(
        db,
        actor,
        &current,
        ApplicationAction::Approve,
        |u| {
            u.col_expr(loan_application::Column::ApprovedBy, Expr::value(approver))
                .col_expr(
                    loan_application::Column::ApprovedAmount,
                    Expr::value(amount),
                )
                .col_expr(
                    loan_application::Column::ApprovalOpinion,
                    Expr::value(opinion.clone()),
                )
                .col_expr(loan_application::Column::DecidedAt, Expr::value(db::now()))
        },
        serde_json::json!({"amount": amount, "opinion": opinion}),
    )
    .await
}

#[derive(Deserialize, ToSchema)]
pub struct RejectRequest {
    pub reason_code: RejectReason,
    /// The explanation shown to the village.
    pub text: String,
}

/// The assigned officer or an approver turns the application down; its liens are released.
pub async fn reject(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: RejectRequest,
) -> Result<loan_application::Model, ApiError> {
    allowed(&current, ApplicationAction::Reject)?;
    if actor.role() != Role::BankApprover {
        assigned_to_actor(&current, actor)?;
    }
    let (text,) = validate!(text = parse_text(&request.text))?;
    let reason = request.reason_code;
    let txn = db.begin().await?;
    move_application(
        &txn,
        actor.id(),
        &current,
        ApplicationAction::Reject,
        |u| {
            u.col_expr(loan_application::Column::RejectReason, Expr::value(reason))
                .col_expr(
                    loan_application::Column::RejectText,
                    Expr::value(text.clone()),
                )
                .col_expr(loan_application::Column::DecidedAt, Expr::value(db::now()))
        },
        serde_json::json!({"reason_code": reason, "text": text}),
    )
    .await?;
    liens::release_reserved(&txn, current.id).await?;
    txn.commit().await?;
    find_visible(db, actor, current.id).await
}
