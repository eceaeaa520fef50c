//! The bank's workflow over HTTP, and the village's resubmission: thin handlers over
//! [`super::ops`]. Every action reads the application as the caller may see it (another bank's
//! is 404), honours `If-Match` when sent (412), accepts an `Idempotency-Key` (a retry gets the
//! first answer), and answers with the application and its new `ETag`.

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use entity::{ApplicationStatus, loan_application, repayment};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::review::{
    ApproveRequest, RecommendRequest, RejectRequest, RequestInfoRequest, ResubmitRequest,
};
use super::servicing::{
    DisburseRequest, InstallmentView, RepaymentRequest, installment_views, periods_of,
};
use super::{ApplicationView, Viewer, find_visible, ops, view};
use crate::auth::permissions::{
    ApplyForLoans, ApproveApplications, ReadApplications, RejectApplications, ReviewApplications,
    ServiceLoans,
};
use crate::auth::{Authorized, Caller};
use crate::db;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{IfMatch, Query, parse_json};
use crate::i18n::Lang;
use crate::idempotency::{self, Answer};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// An action that takes no body.
#[derive(Deserialize)]
struct Nothing {}

/// A body, or `{}` when none was sent (so that a missing field is named as such).
fn body_of<B: DeserializeOwned>(body: &[u8]) -> Result<B, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        parse_json(b"{}")
    } else {
        parse_json(body)
    }
}

/// Runs one action: read (404), `If-Match` (412), body (422), the operation, the answer with
/// the application as the caller may see it; once per `Idempotency-Key`.
#[allow(clippy::too_many_arguments)]
async fn act<B, F>(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    if_match: IfMatch,
    request: &HttpRequest,
    body: &[u8],
    action: &str,
    op: F,
) -> ApiResult<HttpResponse>
where
    B: DeserializeOwned,
    F: AsyncFnOnce(
        &DatabaseTransaction,
        loan_application::Model,
        B,
    ) -> Result<loan_application::Model, ApiError>,
{
    let key = idempotency::key_of(request)?;
    let viewer = Viewer::of(caller, Lang::from_request(request));
    idempotency::run(
        &state.db,
        caller.id(),
        key,
        format!("POST /applications/{id}/{action}"),
        body,
        async |txn: &DatabaseTransaction| {
            let current = find_visible(txn, caller, id).await?;
            if_match.check(current.version)?;
            let parsed: B = body_of(body)?;
            let moved = op(txn, current, parsed).await?;
            let shown = view(txn, viewer, moved).await?;
            Ok(
                Answer::json(StatusCode::OK, &shown)?
                    .header(ETAG, format!("\"{}\"", shown.version)),
            )
        },
    )
    .await
}

/// Claim a submitted application of your bank: it becomes `under_review`, assigned to you. Of
/// two officers claiming at once, one wins; the other gets 409 with `current_state`.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/claim")]
pub async fn claim(
    state: web::Data<AppState>,
    caller: Authorized<ReviewApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &[],
        "claim",
        async |txn, current, _: Nothing| ops::claim(txn, &caller, current).await,
    )
    .await
}

/// Hand a claimed application back to the bank's queue (`submitted`, nobody assigned). Only the
/// assigned officer (403 `not_assigned`).
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 403, description = "`not_assigned`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/release")]
pub async fn release(
    state: web::Data<AppState>,
    caller: Authorized<ReviewApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &[],
        "release",
        async |txn, current, _: Nothing| ops::release(txn, &caller, current).await,
    )
    .await
}

/// Ask the village for more information (`info_requested`); the message shows on its phone.
/// Only the assigned officer.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RequestInfoRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 403, description = "`not_assigned`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/request-info")]
pub async fn request_info(
    state: web::Data<AppState>,
    caller: Authorized<ReviewApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "request-info",
        async |txn, current, r: RequestInfoRequest| {
            ops::request_info(txn, &caller, current, r).await
        },
    )
    .await
}

/// Answer the bank's request for information, optionally changing amount, term, purpose or
/// collateral: everything is checked again as at submission, and the liens follow the
/// collateral in the same transaction (an asset pledged elsewhere: 409 `asset_encumbered`
/// naming it, nothing changed). Back to `under_review`, with the same officer.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ResubmitRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` (with `current_state`) or `asset_encumbered` (with `asset_id`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What no longer matches, field by field", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/resubmit")]
pub async fn resubmit(
    state: web::Data<AppState>,
    caller: Authorized<ApplyForLoans>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "resubmit",
        async |txn, current, r: ResubmitRequest| ops::resubmit(txn, &caller, current, r).await,
    )
    .await
}

/// Recommend the loan's terms to the approvers (`recommended`): amount at most the requested
/// one and within the product's range, rate at most the product's, term and method the
/// product's. Only the assigned officer.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RecommendRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 403, description = "`not_assigned`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`above_requested`, `out_of_product_range`, `method_not_offered`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/recommend")]
pub async fn recommend(
    state: web::Data<AppState>,
    caller: Authorized<ReviewApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "recommend",
        async |txn, current, r: RecommendRequest| ops::recommend(txn, &caller, current, r).await,
    )
    .await
}

/// Approve a recommended application (`approved`): never the user who recommended it (403
/// `four_eyes`), only up to your approval limit (403 `over_approval_limit` with
/// `approval_limit`), at most the recommended amount.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ApproveRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 403, description = "`four_eyes` or `over_approval_limit`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`above_recommended`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Authorized<ApproveApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "approve",
        async |txn, current, r: ApproveRequest| ops::approve(txn, &caller, current, r).await,
    )
    .await
}

/// Reject an application (from `submitted`, `under_review` or `recommended`) with a reason
/// code and text; its liens are released. The assigned officer or an approver.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RejectRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 403, description = "`not_assigned`", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/reject")]
pub async fn reject(
    state: web::Data<AppState>,
    caller: Authorized<RejectApplications>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "reject",
        async |txn, current, r: RejectRequest| ops::reject(txn, &caller, current, r).await,
    )
    .await
}

/// Pay out an approved loan (`disbursed`): the liens become active and the repayment schedule
/// is generated from `date` and stored. The lien registration number is unique within the bank
/// (409 `lien_registration_taken`).
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = DisburseRequest,
    responses(
        (status = 200, body = ApplicationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` (with `current_state`) or `lien_registration_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`above_approved`, `in_future`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/disburse")]
pub async fn disburse(
    state: web::Data<AppState>,
    caller: Authorized<ServiceLoans>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    act(
        &state,
        &caller,
        *id,
        if_match,
        &request,
        &body,
        "disburse",
        async |txn, current, r: DisburseRequest| ops::disburse(txn, &caller, current, r).await,
    )
    .await
}

/// A recorded repayment, split into the interest and principal it paid.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepaymentView {
    pub id: Uuid,
    pub date: chrono::NaiveDate,
    pub amount: entity::Money,
    pub principal: entity::Money,
    pub interest: entity::Money,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<repayment::Model> for RepaymentView {
    fn from(r: repayment::Model) -> Self {
        RepaymentView {
            id: r.id,
            date: r.paid_on,
            amount: r.amount,
            principal: r.principal,
            interest: r.interest,
            created_at: r.created_at,
        }
    }
}

/// Record a repayment of a disbursed loan: allocated to the due periods oldest first, interest
/// before principal; the rest prepays principal and shortens the schedule (docs/repayment.md).
/// More than everything owed is 422 `overpayment` with `outstanding`. When nothing is owed any
/// more the loan is `settled` and its liens released.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header), ("Idempotency-Key" = Option<String>, Header)),
    request_body = RepaymentRequest,
    responses(
        (status = 201, body = RepaymentView, headers(("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state` (not disbursed, or settled meanwhile)", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`overpayment` (with `outstanding`), `before_disbursement`, `before_previous_repayment`, `in_future`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/applications/{id}/repayments")]
pub async fn record_repayment(
    state: web::Data<AppState>,
    caller: Authorized<ServiceLoans>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    request: HttpRequest,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key_of(&request)?;
    let id = *id;
    idempotency::run(
        &state.db,
        caller.id(),
        key,
        format!("POST /applications/{id}/repayments"),
        &body,
        async |txn: &DatabaseTransaction| {
            let current = find_visible(txn, &caller, id).await?;
            if_match.check(current.version)?;
            let r: RepaymentRequest = body_of(&body)?;
            let paid = RepaymentView::from(ops::record_repayment(txn, &caller, current, r).await?);
            Ok(Answer::json(StatusCode::CREATED, &paid)?.header(
                actix_web::http::header::LOCATION,
                format!("/api/v1/applications/{id}/repayments/{}", paid.id),
            ))
        },
    )
    .await
}

/// The repayments of a loan, oldest first.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = Page<RepaymentView>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/repayments")]
pub async fn list_repayments(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<RepaymentView>>> {
    let application = find_visible(&state.db, &caller, *id).await?;
    let limit = page.limit()?;
    let mut query = repayment::Entity::find()
        .filter(repayment::Column::ApplicationId.eq(application.id))
        .order_by_asc(repayment::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(repayment::Column::Id.gt(after));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.id,
        RepaymentView::from,
    )))
}

/// A loan's repayment schedule as stored: every period's due date, principal, interest,
/// installment, what was paid and what is still owed, and whether it is paid, partly paid,
/// overdue or upcoming.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleView {
    pub application_id: Uuid,
    pub status: ApplicationStatus,
    pub outstanding_principal: entity::Money,
    pub periods: Vec<InstallmentView>,
}

/// The stored repayment schedule of a disbursed (or settled) loan; empty before disbursement.
#[utoipa::path(
    tag = "bank review",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ScheduleView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/applications/{id}/schedule")]
pub async fn schedule(
    state: web::Data<AppState>,
    caller: Authorized<ReadApplications>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ScheduleView>> {
    let application = find_visible(&state.db, &caller, *id).await?;
    let periods = periods_of(&state.db, application.id).await?;
    Ok(web::Json(ScheduleView {
        application_id: application.id,
        status: application.status,
        outstanding_principal: application
            .outstanding_principal
            .unwrap_or(entity::Money::ZERO),
        periods: installment_views(&periods, db::today()),
    }))
}
