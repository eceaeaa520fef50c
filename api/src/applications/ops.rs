//! The operations on an application: plain functions over a connection and an acting user,
//! called by the HTTP handlers, the demo loader and background jobs alike. The village's own are
//! here; the bank's review (`review.rs`) and the loan's servicing (`servicing.rs`) are
//! re-exported, so that every operation on an application is `ops::<name>`. Each one checks,
//! moves the state through `transition::move_application` (the lifecycle table, a conditional
//! update, the audit event), and moves liens through `liens`, in one transaction.

pub use super::review::{approve, claim, recommend, reject, release, request_info, resubmit};
pub use super::servicing::{
    disburse, evaluate_shortfall, periods_of, record_repayment, sweep_shortfalls,
};

use chrono::Months;
use entity::{
    ApplicationAction, ApplicationStatus, ProductStatus, asset, loan_application, loan_product,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    TransactionSession, TransactionTrait,
};
use uuid::Uuid;

use super::{
    DraftRequest, asset_ids_of, check_draft, find_visible, next_reference, replace_assets,
};
use crate::auth::Caller;
use crate::error::{ApiError, FieldError};
use crate::matching::{self, LoanRequest, ReasonCode};
use crate::transition::move_application;
use crate::{audit, db, liens};

/// Starts a draft for `organization_id` (the handler decides which organization the caller may
/// act for).
pub async fn create_draft(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    organization_id: Uuid,
    request: DraftRequest,
) -> Result<loan_application::Model, ApiError> {
    let draft = check_draft(db, organization_id, request, None, Vec::new()).await?;
    let reference = next_reference(db).await?;
    let now = db::now();
    let model = loan_application::Model {
        id: Uuid::now_v7(),
        reference,
        organization_id,
        bank_id: draft.product.as_ref().map(|p| p.bank_id),
        product_id: draft.product.as_ref().map(|p| p.id),
        amount: draft.amount,
        term_months: draft.term_months,
        purpose: draft.purpose,
        repayment_method: draft.repayment_method,
        status: ApplicationStatus::Draft,
        resolution_date: draft.resolution_date,
        resolution_document_id: draft.resolution_document_id,
        created_by: actor.id(),
        version: 1,
        submitted_at: None,
        created_at: now,
        updated_at: now,
        assigned_to: None,
        info_request: None,
        recommended_by: None,
        recommended_amount: None,
        recommended_rate: None,
        recommended_term: None,
        recommended_method: None,
        recommendation_opinion: None,
        approved_by: None,
        approved_amount: None,
        approval_opinion: None,
        decided_at: None,
        reject_reason: None,
        reject_text: None,
        contract_no: None,
        lien_registration_no: None,
        disbursed_amount: None,
        disbursed_on: None,
        outstanding_principal: None,
        shortfall_since: None,
        settled_at: None,
    };
    let txn = db.begin().await?;
    loan_application::Entity::insert(loan_application::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    replace_assets(&txn, model.id, &draft.asset_ids).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "application.create",
        "application",
        model.id,
        serde_json::json!({"reference": model.reference, "status": "draft"}),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Edits a draft (the caller checked `If-Match` against `current`): the fields and the
/// collateral list change, and the event is recorded, in one transaction.
pub async fn edit_draft(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_application::Model,
    request: DraftRequest,
) -> Result<loan_application::Model, ApiError> {
    if current.status != ApplicationStatus::Draft {
        return Err(ApiError::InvalidState(current.status.as_str()));
    }
    let current_assets = asset_ids_of(db, current.id).await?;
    let draft = check_draft(
        db,
        current.organization_id,
        request,
        Some(&current),
        current_assets,
    )
    .await?;
    let txn = db.begin().await?;
    let changed = loan_application::Entity::update_many()
        .set(loan_application::ActiveModel {
            amount: Set(draft.amount),
            term_months: Set(draft.term_months),
            purpose: Set(draft.purpose),
            repayment_method: Set(draft.repayment_method),
            product_id: Set(draft.product.as_ref().map(|p| p.id)),
            bank_id: Set(draft.product.as_ref().map(|p| p.bank_id)),
            resolution_date: Set(draft.resolution_date),
            resolution_document_id: Set(draft.resolution_document_id),
            updated_at: Set(db::now()),
            ..Default::default()
        })
        .col_expr(
            loan_application::Column::Version,
            Expr::col(loan_application::Column::Version).add(1),
        )
        .filter(loan_application::Column::Id.eq(current.id))
        .filter(loan_application::Column::Version.eq(current.version))
        .filter(loan_application::Column::Status.eq(ApplicationStatus::Draft))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    replace_assets(&txn, current.id, &draft.asset_ids).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "application.edit",
        "application",
        current.id,
        serde_json::json!({
            "amount": draft.amount,
            "term_months": draft.term_months,
            "purpose": draft.purpose,
            "repayment_method": draft.repayment_method,
            "product_id": draft.product.as_ref().map(|p| p.id),
            "asset_ids": draft.asset_ids,
            "resolution_date": draft.resolution_date,
            "resolution_document_id": draft.resolution_document_id,
        }),
    )
    .await?;
    txn.commit().await?;
    find_visible(db, actor, current.id).await
}

/// Submits a draft: checks everything again, then in one transaction moves it to `submitted`,
/// reserves a lien on every collateral asset and records the event. An asset already pledged
/// elsewhere is 409 `asset_encumbered` naming it.
pub async fn submit(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    id: Uuid,
) -> Result<loan_application::Model, ApiError> {
    let current = find_visible(db, actor, id).await?;
    if current.status.may_move(ApplicationAction::Submit).is_none() {
        return Err(ApiError::InvalidState(current.status.as_str()));
    }
    let asset_ids = asset_ids_of(db, current.id).await?;
    // The versions the checks saw: the reservation proves the assets are still those.
    let checked: Vec<(Uuid, i32)> = asset::Entity::find()
        .select_only()
        .column(asset::Column::Id)
        .column(asset::Column::Version)
        .filter(asset::Column::Id.is_in(asset_ids.clone()))
        .into_tuple()
        .all(db)
        .await?;
    check_submission(db, &current, &asset_ids).await?;

    let txn = db.begin().await?;
    // The state move comes first: it takes the write lock, and names the state it expects.
    move_application(
        &txn,
        actor.id(),
        &current,
        ApplicationAction::Submit,
        |update| {
            update.col_expr(
                loan_application::Column::SubmittedAt,
                Expr::value(db::now()),
            )
        },
        serde_json::json!({"liens": asset_ids}),
    )
    .await?;
    if let Err(liens::NotReserved) = liens::reserve(&txn, current.id, &checked).await? {
        drop(txn);
        return Err(liens::explain(db, &asset_ids, current.id).await);
    }
    txn.commit().await?;
    find_visible(db, actor, id).await
}

/// Withdraws an application (from draft, submitted, under review or info requested); its
/// reserved liens are released.
pub async fn withdraw(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    id: Uuid,
) -> Result<loan_application::Model, ApiError> {
    let current = find_visible(db, actor, id).await?;
    let txn = db.begin().await?;
    move_application(
        &txn,
        actor.id(),
        &current,
        ApplicationAction::Withdraw,
        |update| update,
        serde_json::json!({}),
    )
    .await?;
    liens::release_reserved(&txn, current.id).await?;
    txn.commit().await?;
    find_visible(db, actor, id).await
}

/// The facts of an application, ready for matching; its own liens are not encumbrance.
pub(super) async fn loan_request(
    db: &impl sea_orm::ConnectionTrait,
    application: &loan_application::Model,
    asset_ids: &[Uuid],
) -> Result<LoanRequest, ApiError> {
    Ok(LoanRequest {
        region: matching::organization_region(db, application.organization_id).await?,
        amount: application.amount,
        term_months: application.term_months,
        purpose: application.purpose,
        repayment_method: Some(application.repayment_method),
        assets: matching::asset_facts(
            db,
            application.organization_id,
            asset_ids,
            Some(application.id),
        )
        .await?,
        today: db::today(),
    })
}

/// The field a matching reason is about, for a submit refused as `validation_failed`.
fn field_of(code: ReasonCode, asset_id: Option<Uuid>, asset_ids: &[Uuid]) -> String {
    match (
        code,
        asset_id.and_then(|id| asset_ids.iter().position(|a| *a == id)),
    ) {
        (_, Some(i)) => format!("asset_ids[{i}]"),
        (ReasonCode::AmountOutOfRange | ReasonCode::InsufficientCollateral, _) => "amount".into(),
        (ReasonCode::TermOutOfRange, _) => "term_months".into(),
        (ReasonCode::PurposeNotAccepted, _) => "purpose".into(),
        _ => "product_id".into(),
    }
}

/// Everything a submission needs, checked again now: a product that matches, collateral,
/// and a resolution document dated within the last 12 months.
pub(super) async fn check_submission(
    db: &impl sea_orm::ConnectionTrait,
    application: &loan_application::Model,
    asset_ids: &[Uuid],
) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let today = db::today();
    if asset_ids.is_empty() {
        errors.push(FieldError::new("asset_ids", "required"));
    }
    match application.resolution_date {
        None => errors.push(FieldError::new("resolution_date", "required")),
        Some(date) if date > today => errors.push(FieldError::new("resolution_date", "in_future")),
        Some(date)
            if today
                .checked_sub_months(Months::new(12))
                .is_some_and(|limit| date < limit) =>
        {
            errors.push(FieldError::new("resolution_date", "resolution_too_old"))
        }
        Some(_) => {}
    }
    if application.resolution_document_id.is_none() {
        errors.push(FieldError::new("resolution_document_id", "required"));
    }
    match application.product_id {
        None => errors.push(FieldError::new("product_id", "required")),
        Some(product_id) if !asset_ids.is_empty() => {
            // Chosen while on offer is not enough: it must still be on offer, on these terms.
            let chosen = loan_product::Entity::find_by_id(product_id).one(db).await?;
            match &chosen {
                Some(p) if p.status == ProductStatus::Active => {
                    if !p.repayment_methods.contains(&application.repayment_method) {
                        errors.push(FieldError::new("repayment_method", "method_not_offered"));
                    }
                }
                _ => errors.push(FieldError::new("product_id", "unknown_product")),
            }
            let products = matching::product_facts(db, Some(product_id)).await?;
            let request = loan_request(db, application, asset_ids).await?;
            if let Some(product) = products.first() {
                let evaluation = matching::evaluate(&request, product);
                // Pledged elsewhere is a conflict, answered as the lien race would be.
                if let Some(taken) = evaluation
                    .reasons
                    .iter()
                    .find(|r| r.code == ReasonCode::AssetEncumbered)
                    .and_then(|r| r.asset_id)
                {
                    return Err(ApiError::AssetEncumbered(taken));
                }
                for reason in evaluation.reasons {
                    errors.push(FieldError::new(
                        field_of(reason.code, reason.asset_id, asset_ids),
                        reason.code.as_str(),
                    ));
                }
            }
        }
        Some(_) => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
