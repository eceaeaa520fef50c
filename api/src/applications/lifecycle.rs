//! The lifecycle's HTTP handlers: thin wrappers over [`super::ops`].

use actix_web::http::StatusCode;
use actix_web::http::header::ETAG;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use sea_orm::DatabaseTransaction;
use uuid::Uuid;

use super::{Viewer, asset_ids_of, find_visible, ops, view};
use crate::auth::Authorized;
use crate::auth::permissions::{ApplyForLoans, ReadApplications};
use crate::error::{ApiResult, Problem};
use crate::i18n::Lang;
use crate::idempotency::{self, Answer};
use crate::matching::{self, Matches};
use crate::state::AppState;

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
    lang: Lang,
) -> ApiResult<HttpResponse> {
    let key = idempotency::key_of(&request)?;
    let id = *id;
    let db = &state.db;
    let scope = format!("POST /applications/{id}/submit");
    // A submit has no body: the key is bound to the path alone.
    idempotency::run(
        db,
        caller.id(),
        key,
        scope,
        &[],
        async |txn: &DatabaseTransaction| {
            let submitted = ops::submit(txn, &caller, id).await?;
            let submitted = view(txn, Viewer::of(&caller, lang), submitted).await?;
            Ok(Answer::json(StatusCode::OK, &submitted)?
                .header(ETAG, format!("\"{}\"", submitted.version)))
        },
    )
    .await
}

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
    lang: Lang,
) -> ApiResult<web::Json<super::ApplicationView>> {
    let withdrawn = ops::withdraw(&state.db, &caller, *id).await?;
    Ok(web::Json(
        view(&state.db, Viewer::of(&caller, lang), withdrawn).await?,
    ))
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
    let loan = ops::loan_request(&state.db, &application, &asset_ids).await?;
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
