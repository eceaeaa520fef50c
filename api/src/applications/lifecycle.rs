//! Moving an application along its lifecycle. Every move is a conditional update naming the
//! state it expects, so two racing requests cannot both win; liens are reserved and released in
//! the same transaction, and the partial unique index on open liens decides which of two
//! applications gets an asset.

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::Months;
use entity::{
    ApplicationStatus, LienStatus, ProductStatus, asset, lien, loan_application, loan_product,
};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait};
use uuid::Uuid;

use super::{asset_ids_of, find_visible, view};
use crate::auth::Authorized;
use crate::auth::permissions::{ApplyForLoans, ReadApplications};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::i18n::Lang;
use crate::idempotency::{self, Answer};
use crate::matching::{self, LoanRequest, Matches, ReasonCode};
use crate::state::AppState;
use crate::{audit, db};

/// The facts of an application, ready for matching; its own liens are not encumbrance.
async fn loan_request(
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
async fn check_submission(
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
                    let methods: Vec<entity::RepaymentMethod> =
                        serde_json::from_str(&p.repayment_methods).unwrap_or_default();
                    if !methods.contains(&application.repayment_method) {
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

/// Submit a draft: checks everything again, then in one transaction moves it to `submitted`,
/// reserves a lien on every collateral asset and records the event. An asset already pledged
/// elsewhere answers 409 `asset_encumbered` naming it. Send an `Idempotency-Key`: a retry gets
/// the first answer and changes nothing.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = super::ApplicationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` (with `current_state`), `asset_encumbered` (with `asset_id`), or the key's first request still running", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What is missing or does not match, field by field (matching reason codes included)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Authorized<ApplyForLoans>,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key_of(&request)?;
    let id = *id;
    let db = &state.db;
    let scope = format!("POST /applications/{id}/submit");
    // A submit has no body: the key is bound to the path alone.
    idempotency::run(db, caller.id(), key, scope, &[], || async {
        let current = find_visible(db, &caller, id).await?;
        if current.status != ApplicationStatus::Draft {
            return Err(ApiError::InvalidState(current.status.as_str()));
        }
        let asset_ids = asset_ids_of(db, current.id).await?;
        // The versions the checks saw: the transaction proves the assets are still those.
        let checked: Vec<(Uuid, i32)> = asset::Entity::find()
            .select_only()
            .column(asset::Column::Id)
            .column(asset::Column::Version)
            .filter(asset::Column::Id.is_in(asset_ids.clone()))
            .into_tuple()
            .all(db)
            .await?;
        check_submission(db, &current, &asset_ids).await?;

        let now = db::now();
        let txn = db.begin().await?;
        // The state move comes first: it takes the write lock, and names the state it expects.
        let moved = loan_application::Entity::update_many()
            .col_expr(
                loan_application::Column::Status,
                Expr::value(ApplicationStatus::Submitted),
            )
            .col_expr(loan_application::Column::SubmittedAt, Expr::value(now))
            .col_expr(loan_application::Column::UpdatedAt, Expr::value(now))
            .col_expr(
                loan_application::Column::Version,
                Expr::col(loan_application::Column::Version).add(1),
            )
            .filter(loan_application::Column::Id.eq(current.id))
            .filter(loan_application::Column::Status.eq(ApplicationStatus::Draft))
            .filter(loan_application::Column::Version.eq(current.version))
            .exec(&txn)
            .await?;
        if moved.rows_affected == 0 {
            drop(txn);
            let now = find_visible(db, &caller, id).await?;
            return Err(match now.status {
                // Still a draft, but edited since it was checked.
                ApplicationStatus::Draft => ApiError::PreconditionFailed,
                other => ApiError::InvalidState(other.as_str()),
            });
        }
        // Each asset must be as checked; raising its version also makes a concurrent edit of
        // it fail its own version check.
        for (asset_id, version) in &checked {
            let unchanged = asset::Entity::update_many()
                .col_expr(
                    asset::Column::Version,
                    Expr::col(asset::Column::Version).add(1),
                )
                .filter(asset::Column::Id.eq(*asset_id))
                .filter(asset::Column::Version.eq(*version))
                .exec(&txn)
                .await?;
            if unchanged.rows_affected == 0 {
                drop(txn);
                // Most often another submission pledged it first; otherwise it was edited.
                return Err(match first_encumbered(db, &asset_ids, current.id).await {
                    Ok(taken) => ApiError::AssetEncumbered(taken),
                    Err(_) => ApiError::Conflict("asset_changed"),
                });
            }
        }
        let reserved = lien::Entity::insert_many(asset_ids.iter().map(|asset_id| {
            lien::ActiveModel::from(lien::Model {
                id: Uuid::now_v7(),
                asset_id: *asset_id,
                application_id: current.id,
                status: LienStatus::Reserved,
                created_at: now,
                updated_at: now,
            })
        }))
        .exec_without_returning(&txn)
        .await;
        if let Err(err) = reserved {
            drop(txn);
            if db::is_unique_violation(&err) {
                return Err(ApiError::AssetEncumbered(
                    first_encumbered(db, &asset_ids, current.id).await?,
                ));
            }
            return Err(err.into());
        }
        audit::record(
            &txn,
            Some(caller.id()),
            "application.submit",
            "application",
            current.id,
            serde_json::json!({"from": "draft", "to": "submitted", "liens": asset_ids}),
        )
        .await?;
        txn.commit().await?;
        let submitted = view(db, find_visible(db, &caller, id).await?).await?;
        Ok(Answer::json(StatusCode::OK, &submitted)?
            .header(ETAG, format!("\"{}\"", submitted.version)))
    })
    .await
}

/// The first of `asset_ids` that another application holds an open lien on.
async fn first_encumbered(
    db: &impl sea_orm::ConnectionTrait,
    asset_ids: &[Uuid],
    application_id: Uuid,
) -> Result<Uuid, ApiError> {
    let open = lien::Entity::find()
        .filter(lien::Column::AssetId.is_in(asset_ids.iter().copied()))
        .filter(lien::Column::Status.is_in([LienStatus::Reserved, LienStatus::Active]))
        .filter(lien::Column::ApplicationId.ne(application_id))
        .all(db)
        .await?;
    asset_ids
        .iter()
        .find(|id| open.iter().any(|l| l.asset_id == **id))
        .copied()
        // The other lien was released in the meantime: a retry may succeed.
        .ok_or(ApiError::Conflict("asset_encumbered"))
}

/// States an application may be withdrawn from.
pub const WITHDRAWABLE: [ApplicationStatus; 4] = [
    ApplicationStatus::Draft,
    ApplicationStatus::Submitted,
    ApplicationStatus::UnderReview,
    ApplicationStatus::InfoRequested,
];

/// Withdraw an application (from draft, submitted, under review or info requested); its
/// reserved liens are released.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = super::ApplicationView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Authorized<ApplyForLoans>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<super::ApplicationView>> {
    let current = find_visible(&state.db, &caller, *id).await?;
    if !WITHDRAWABLE.contains(&current.status) {
        return Err(ApiError::InvalidState(current.status.as_str()));
    }
    let now = db::now();
    let txn = state.db.begin().await?;
    let moved = loan_application::Entity::update_many()
        .col_expr(
            loan_application::Column::Status,
            Expr::value(ApplicationStatus::Withdrawn),
        )
        .col_expr(loan_application::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            loan_application::Column::Version,
            Expr::col(loan_application::Column::Version).add(1),
        )
        .filter(loan_application::Column::Id.eq(current.id))
        // The state read is the state recorded as "from".
        .filter(loan_application::Column::Status.eq(current.status))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        drop(txn);
        let now = find_visible(&state.db, &caller, current.id).await?;
        return Err(ApiError::InvalidState(now.status.as_str()));
    }
    lien::Entity::update_many()
        .col_expr(lien::Column::Status, Expr::value(LienStatus::Released))
        .col_expr(lien::Column::UpdatedAt, Expr::value(now))
        .filter(lien::Column::ApplicationId.eq(current.id))
        .filter(lien::Column::Status.eq(LienStatus::Reserved))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Some(caller.id()),
        "application.withdraw",
        "application",
        current.id,
        serde_json::json!({"from": current.status.as_str(), "to": "withdrawn"}),
    )
    .await?;
    txn.commit().await?;
    let withdrawn = find_visible(&state.db, &caller, current.id).await?;
    Ok(web::Json(view(&state.db, withdrawn).await?))
}

/// Every active product evaluated for this application, ranked, with reasons.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Matches),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/matches")]
pub async fn matches(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    id: web::Path<Uuid>,
    request: HttpRequest,
) -> ApiResult<web::Json<Matches>> {
    let application = find_visible(&state.db, &caller, *id).await?;
    let asset_ids = asset_ids_of(&state.db, application.id).await?;
    let loan = loan_request(&state.db, &application, &asset_ids).await?;
    let products = matching::product_facts(&state.db, None).await?;
    let evaluations = products
        .iter()
        .map(|p| matching::evaluate(&loan, p))
        .collect();
    Ok(web::Json(matching::present(
        evaluations,
        Lang::from_request(&request),
    )))
}
