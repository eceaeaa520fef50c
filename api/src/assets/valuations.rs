//! Appraisals of an asset. The county adds them (and, once applications exist, a bank officer
//! for an asset pledged to that bank).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{Money, ValuationMethod, asset_valuation};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::find_visible;
use crate::auth::Authorized;
use crate::auth::permissions::{AppraiseAssets, ReadAssets};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Query, created, with_etag};
use crate::pagination::{Page, PageParams};
use crate::scope::AssetScope;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct ValuationView {
    pub id: Uuid,
    pub asset_id: Uuid,
    pub value: Money,
    pub method: ValuationMethod,
    pub appraiser: String,
    pub appraisal_date: NaiveDate,
    pub valid_until: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl From<asset_valuation::Model> for ValuationView {
    fn from(v: asset_valuation::Model) -> Self {
        ValuationView {
            id: v.id,
            asset_id: v.asset_id,
            value: v.value,
            method: v.method,
            appraiser: v.appraiser,
            appraisal_date: v.appraisal_date,
            valid_until: v.valid_until,
            created_at: v.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ValuationRequest {
    /// Appraised value, above 0.
    pub value: Money,
    pub method: ValuationMethod,
    #[schema(example = "山西晋审资产评估有限公司")]
    pub appraiser: String,
    /// Not in the future.
    pub appraisal_date: NaiveDate,
    /// After the appraisal date.
    pub valid_until: NaiveDate,
}

pub(super) fn parse_value(value: Money) -> Result<Money, &'static str> {
    if value.fen() > 0 {
        Ok(value)
    } else {
        Err("out_of_range")
    }
}

/// Add an appraisal of an asset: the county for any asset, a bank officer for an asset pledged
/// in an application to that bank (others are 404 to the officer).
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ValuationRequest,
    responses(
        (status = 201, body = ValuationView, headers(("ETag" = String), ("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assets/{id}/valuations")]
pub async fn add_valuation(
    state: web::Data<AppState>,
    caller: Authorized<AppraiseAssets>,
    id: web::Path<Uuid>,
    body: Json<ValuationRequest>,
) -> ApiResult<HttpResponse> {
    let r = body.into_inner()?;
    let scope = AssetScope::of(&caller);
    let asset = find_visible(&state.db, scope, *id).await?;
    // An officer appraises only what is pledged to the bank now.
    if let AssetScope::Bank(bank) = scope
        && !pledged_to(&state.db, asset.id, bank).await?
    {
        return Err(ApiError::NotFound);
    }
    let model = super::ops::add_valuation(&state.db, &caller, &asset, r).await?;
    Ok(created(
        &format!("assets/{}/valuations", model.asset_id),
        model.id,
        1,
        &ValuationView::from(model),
    ))
}

/// One appraisal of an asset.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("valuation_id" = Uuid, Path)),
    responses(
        (status = 200, body = ValuationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assets/{id}/valuations/{valuation_id}")]
pub async fn get_valuation(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (asset_id, valuation_id) = path.into_inner();
    let asset = find_visible(&state.db, AssetScope::of(&caller), asset_id).await?;
    let valuation = asset_valuation::Entity::find_by_id(valuation_id)
        .filter(asset_valuation::Column::AssetId.eq(asset.id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(
        StatusCode::OK,
        1,
        &ValuationView::from(valuation),
    ))
}

/// Whether the asset carries an open lien for an application to `bank`.
async fn pledged_to(
    db: &impl sea_orm::ConnectionTrait,
    asset_id: Uuid,
    bank: Uuid,
) -> Result<bool, ApiError> {
    let applications = crate::liens::holders_of(db, asset_id).await?;
    Ok(entity::loan_application::Entity::find()
        .filter(entity::loan_application::Column::Id.is_in(applications))
        .filter(entity::loan_application::Column::BankId.eq(bank))
        .one(db)
        .await?
        .is_some())
}

/// An asset's appraisals, newest first.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = Page<ValuationView>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assets/{id}/valuations")]
pub async fn list_valuations(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<ValuationView>>> {
    let asset = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let limit = page.limit()?;
    let mut query = asset_valuation::Entity::find()
        .filter(asset_valuation::Column::AssetId.eq(asset.id))
        .order_by_desc(asset_valuation::Column::Id);
    if let Some(before) = page.after::<Uuid>()? {
        query = query.filter(asset_valuation::Column::Id.lt(before));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |v| v.id,
        ValuationView::from,
    )))
}
