//! Assets a collective may pledge: registration by the mobile app, verification by the county,
//! valuations, documents. Operators see and change only their own organization's assets.

mod documents;
pub mod rules;
pub mod valuations;

use std::collections::{HashMap, HashSet};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AssetKind, HolderType, Money, Quantity, Verification, asset, asset_valuation, equity_entity,
    lien, shareholding,
};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Order, Query as Select};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use documents::{document_routes, remove_orphan_objects};
use rules::{KindFields, check_kind, needs_reverification};

use crate::auth::Authorized;
use crate::auth::permissions::{ManageAssets, ReadAssets, VerifyAssets};
use crate::domain::{RegionCode, parse_name};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{IfMatch, Json, Query, created, with_etag};
use crate::pagination::{Page, PageParams};
use crate::scope::AssetScope;
use crate::state::AppState;
use crate::{db, liens};

pub mod ops;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_asset)
        .service(list_assets)
        .service(get_asset)
        .service(update_asset)
        .service(delete_asset)
        .service(verify_asset)
        .service(valuations::add_valuation)
        .service(valuations::list_valuations)
        .service(valuations::get_valuation)
        .service(documents::upload)
        .service(documents::list_documents);
}

/// The newest valuation valid today.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentValue {
    pub valuation_id: Uuid,
    pub value: Money,
    pub appraisal_date: NaiveDate,
    pub valid_until: NaiveDate,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AssetView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: AssetKind,
    #[schema(example = "北庄村韭菜种植基地土地经营权")]
    pub name: String,
    pub region_code: String,
    pub address: String,
    pub quantity: Quantity,
    #[schema(example = "亩")]
    pub unit: String,
    pub certificate_no: Option<String>,
    pub head_count: Option<i32>,
    pub ear_tags: Option<Vec<String>>,
    pub right_start: Option<NaiveDate>,
    pub right_end: Option<NaiveDate>,
    pub acquisition_cost: Option<Money>,
    pub description: String,
    pub shareholding_id: Option<Uuid>,
    pub verification: Verification,
    pub verification_note: Option<String>,
    pub verified_at: Option<DateTime<Utc>>,
    /// The newest valuation valid today (Beijing date), if any.
    pub current_value: Option<CurrentValue>,
    /// Under a reserved or active lien.
    pub encumbered: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Assets as the API shows them, with their current values and liens (one extra query for all).
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<asset::Model>,
) -> Result<Vec<AssetView>, ApiError> {
    let (current, encumbered) = standing(db, rows.iter().map(|a| a.id).collect(), None).await?;
    Ok(rows
        .into_iter()
        .map(|a| AssetView {
            current_value: current.get(&a.id).cloned(),
            encumbered: encumbered.contains(&a.id),
            ear_tags: a
                .ear_tags
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            id: a.id,
            organization_id: a.organization_id,
            kind: a.kind,
            name: a.name,
            region_code: a.region_code,
            address: a.address,
            quantity: a.quantity,
            unit: a.unit,
            certificate_no: a.certificate_no,
            head_count: a.head_count,
            right_start: a.right_start,
            right_end: a.right_end,
            acquisition_cost: a.acquisition_cost,
            description: a.description,
            shareholding_id: a.shareholding_id,
            verification: a.verification,
            verification_note: a.verification_note,
            verified_at: a.verified_at,
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        })
        .collect())
}

async fn view(db: &impl ConnectionTrait, row: asset::Model) -> Result<AssetView, ApiError> {
    views(db, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

/// 409 `asset_encumbered` when the asset is under a reserved or active lien.
async fn refuse_if_encumbered(db: &impl ConnectionTrait, asset_id: Uuid) -> Result<(), ApiError> {
    if liens::encumbered_among(db, [asset_id], None)
        .await?
        .is_empty()
    {
        Ok(())
    } else {
        Err(ApiError::AssetEncumbered(asset_id))
    }
}

/// Joins an asset's valuations valid today (Beijing date) to a query that has `asset_id`:
/// ordered by appraisal date and then id, both descending, its first row per asset is the
/// asset's current value. The one statement of that rule.
pub fn join_valid_valuations(
    select: &mut sea_orm::sea_query::SelectStatement,
    asset_id: (asset::Entity, asset::Column),
) {
    use asset_valuation::Column as V;
    let today = db::today();
    let valuation = |c: V| Expr::col((asset_valuation::Entity, c));
    select.join(
        JoinType::LeftJoin,
        asset_valuation::Entity,
        valuation(V::AssetId)
            .equals(asset_id)
            .and(valuation(V::AppraisalDate).lte(today))
            .and(valuation(V::ValidUntil).gte(today)),
    );
}

#[derive(Debug, FromQueryResult)]
struct Standing {
    asset_id: Uuid,
    encumbered: bool,
    valuation_id: Option<Uuid>,
    value: Option<Money>,
    appraisal_date: Option<NaiveDate>,
    valid_until: Option<NaiveDate>,
}

/// Each asset's current value and whether an open lien holds it — one not held by `except`
/// (the application being evaluated) — in one statement: an asset read is then the session
/// check, the asset and this.
pub async fn standing(
    db: &impl ConnectionTrait,
    asset_ids: Vec<Uuid>,
    except: Option<Uuid>,
) -> Result<(HashMap<Uuid, CurrentValue>, HashSet<Uuid>), ApiError> {
    use asset_valuation::Column as V;
    let valuation = |c: V| Expr::col((asset_valuation::Entity, c));
    let asset_id = Expr::col((asset::Entity, asset::Column::Id));
    let mut open_lien = Select::select()
        .expr(Expr::val(1))
        .from(lien::Entity)
        .and_where(
            Expr::col((lien::Entity, lien::Column::AssetId))
                .equals((asset::Entity, asset::Column::Id)),
        )
        .and_where(
            Expr::col((lien::Entity, lien::Column::Status)).is_in(liens::OPEN.map(|s| s.as_str())),
        )
        .to_owned();
    if let Some(application) = except {
        open_lien.and_where(Expr::col((lien::Entity, lien::Column::ApplicationId)).ne(application));
    }
    let mut select = Select::select()
        .expr_as(asset_id.clone(), "asset_id")
        .expr_as(Expr::exists(open_lien), "encumbered")
        .expr_as(valuation(V::Id), "valuation_id")
        .column((asset_valuation::Entity, V::Value))
        .column((asset_valuation::Entity, V::AppraisalDate))
        .column((asset_valuation::Entity, V::ValidUntil))
        .from(asset::Entity)
        .to_owned();
    join_valid_valuations(&mut select, (asset::Entity, asset::Column::Id));
    select
        .and_where(asset_id.is_in(asset_ids))
        .order_by((asset::Entity, asset::Column::Id), Order::Asc)
        .order_by((asset_valuation::Entity, V::AppraisalDate), Order::Desc)
        .order_by((asset_valuation::Entity, V::Id), Order::Desc);
    let rows = Standing::find_by_statement(db.get_database_backend().build(&select))
        .all(db)
        .await?;
    let mut current = HashMap::new();
    let mut encumbered = HashSet::new();
    for row in rows {
        if row.encumbered {
            encumbered.insert(row.asset_id);
        }
        // Newest first: the first valuation row of an asset is its current value.
        if let (Some(valuation_id), Some(value), Some(appraisal_date), Some(valid_until)) = (
            row.valuation_id,
            row.value,
            row.appraisal_date,
            row.valid_until,
        ) {
            current.entry(row.asset_id).or_insert(CurrentValue {
                valuation_id,
                value,
                appraisal_date,
                valid_until,
            });
        }
    }
    Ok((current, encumbered))
}

/// An asset the caller may see; anything else is 404.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    scope: AssetScope,
    id: Uuid,
) -> Result<asset::Model, ApiError> {
    asset::Entity::find_by_id(id)
        .filter(scope.assets())
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// An asset the caller may change (its own organization's, or any for the county).
async fn find_manageable(
    db: &impl ConnectionTrait,
    scope: AssetScope,
    id: Uuid,
) -> Result<asset::Model, ApiError> {
    let found = find_visible(db, scope, id).await?;
    if scope.may_manage(found.organization_id) {
        Ok(found)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Whether any application names the asset or one of its documents as its resolution
/// (that history must stay readable).
async fn in_any_application(db: &impl ConnectionTrait, asset_id: Uuid) -> Result<bool, ApiError> {
    let as_collateral = entity::application_asset::Entity::find()
        .filter(entity::application_asset::Column::AssetId.eq(asset_id))
        .one(db)
        .await?
        .is_some();
    let documents: Vec<Uuid> = entity::asset_document::Entity::find()
        .select_only()
        .column(entity::asset_document::Column::Id)
        .filter(entity::asset_document::Column::AssetId.eq(asset_id))
        .into_tuple()
        .all(db)
        .await?;
    let as_resolution = entity::loan_application::Entity::find()
        .filter(entity::loan_application::Column::ResolutionDocumentId.is_in(documents))
        .one(db)
        .await?
        .is_some();
    Ok(as_collateral || as_resolution)
}

fn kind_fields(a: &asset::Model) -> KindFields {
    KindFields {
        quantity: a.quantity,
        unit: a.unit.clone(),
        certificate_no: a.certificate_no.clone(),
        head_count: a.head_count,
        ear_tags: a
            .ear_tags
            .as_deref()
            .and_then(|json| serde_json::from_str(json).ok()),
        right_start: a.right_start,
        right_end: a.right_end,
        has_shareholding: a.shareholding_id.is_some(),
    }
}

fn tags_json(tags: &Option<Vec<String>>) -> Option<String> {
    tags.as_ref().map(|t| {
        let trimmed: Vec<&str> = t.iter().map(|s| s.trim()).collect();
        serde_json::to_string(&trimmed).unwrap_or_default()
    })
}

fn parse_address(raw: &str) -> Result<String, &'static str> {
    parse_name(raw, 256)
}

fn parse_cost(cost: Option<Money>) -> Result<Option<Money>, &'static str> {
    match cost {
        Some(c) if c.is_negative() => Err("negative"),
        other => Ok(other),
    }
}

/// An equity asset must be a collective's shareholding in an entity of the same organization.
async fn check_shareholding(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    shareholding_id: Uuid,
) -> Result<(), ApiError> {
    let found = shareholding::Entity::find_by_id(shareholding_id)
        .one(db)
        .await?;
    let owner = match &found {
        Some(s) => {
            equity_entity::Entity::find_by_id(s.entity_id)
                .one(db)
                .await?
        }
        None => None,
    };
    match (found, owner) {
        (Some(s), Some(e)) if e.organization_id == organization_id => {
            if s.holder_type == HolderType::Collective {
                Ok(())
            } else {
                Err(ApiError::Validation(vec![FieldError::new(
                    "shareholding_id",
                    "not_a_collective_shareholding",
                )]))
            }
        }
        _ => Err(ApiError::Validation(vec![FieldError::new(
            "shareholding_id",
            "unknown_shareholding",
        )])),
    }
}

fn conflict(err: sea_orm::DbErr) -> ApiError {
    if db::is_unique_violation(&err) {
        ApiError::Conflict("shareholding_registered")
    } else {
        err.into()
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateAssetRequest {
    /// The owning collective; an operator may leave it out (its own).
    pub organization_id: Option<Uuid>,
    pub kind: AssetKind,
    pub name: String,
    /// Where it is: any region code (usually the village).
    #[schema(pattern = r"^\d{12}$")]
    pub region_code: String,
    pub address: String,
    pub quantity: Quantity,
    /// One of the units allowed for the kind (亩, 公顷, ㎡, 座, 台, 头, % …).
    pub unit: String,
    /// Required except for production facilities and livestock.
    pub certificate_no: Option<String>,
    /// Livestock only, required there.
    pub head_count: Option<i32>,
    /// Livestock only.
    pub ear_tags: Option<Vec<String>>,
    /// Required for land, forest and construction-land rights.
    pub right_start: Option<NaiveDate>,
    /// Required for land, forest and construction-land rights; after `right_start`.
    pub right_end: Option<NaiveDate>,
    pub acquisition_cost: Option<Money>,
    #[serde(default)]
    pub description: String,
    /// Equity only, required there: the collective's shareholding this asset is.
    pub shareholding_id: Option<Uuid>,
}

/// Register an asset. It starts `pending` until the county verifies it.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    request_body = CreateAssetRequest,
    responses(
        (status = 201, body = AssetView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "`shareholding_registered`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assets")]
async fn create_asset(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    body: Json<CreateAssetRequest>,
) -> ApiResult<HttpResponse> {
    let shown = ops::create(&state.db, &caller, body.into_inner()?).await?;
    Ok(created("assets", shown.id, shown.version, &shown))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetFilter {
    pub organization_id: Option<Uuid>,
    pub kind: Option<AssetKind>,
    pub verification: Option<Verification>,
    /// Only assets under (true) or free of (false) a reserved or active lien.
    pub encumbered: Option<bool>,
}

/// List the assets the caller may see, oldest first.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(AssetFilter, PageParams),
    responses(
        (status = 200, body = Page<AssetView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assets")]
async fn list_assets(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    filter: Query<AssetFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<AssetView>>> {
    let limit = page.limit()?;
    let mut query = asset::Entity::find()
        .filter(AssetScope::of(&caller).assets())
        .order_by_asc(asset::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(asset::Column::Id.gt(after));
    }
    if let Some(org) = filter.organization_id {
        query = query.filter(asset::Column::OrganizationId.eq(org));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(asset::Column::Kind.eq(kind));
    }
    if let Some(verification) = filter.verification {
        query = query.filter(asset::Column::Verification.eq(verification));
    }
    if let Some(encumbered) = filter.encumbered {
        let open = liens::encumbered_assets();
        query = query.filter(if encumbered {
            asset::Column::Id.in_subquery(open)
        } else {
            asset::Column::Id.not_in_subquery(open)
        });
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |a| a.id, |a| a)
        .map_items(|items| views(&state.db, items))
        .await?;
    Ok(web::Json(page))
}

/// One asset, with its current value.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AssetView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/assets/{id}")]
async fn get_asset(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let version = found.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, found).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct UpdateAssetRequest {
    pub name: Option<String>,
    #[schema(pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
    pub address: Option<String>,
    pub quantity: Option<Quantity>,
    pub unit: Option<String>,
    pub certificate_no: Option<String>,
    pub head_count: Option<i32>,
    pub ear_tags: Option<Vec<String>>,
    pub right_start: Option<NaiveDate>,
    pub right_end: Option<NaiveDate>,
    pub acquisition_cost: Option<Money>,
    pub description: Option<String>,
}

/// Edit an asset (`If-Match` with the ETag you read). Changing a verified asset's certificate,
/// dates or quantity sends it back to `pending`.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateAssetRequest,
    responses(
        (status = 200, body = AssetView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`asset_encumbered`: certificate, dates or quantity under a lien", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/assets/{id}")]
async fn update_asset(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateAssetRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let current = find_manageable(&state.db, AssetScope::of(&caller), *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update(&state.db, &caller, current, request).await?;
    Ok(with_etag(StatusCode::OK, updated.version, &updated))
}

/// Remove an asset with its valuations and documents.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`asset_encumbered` or `asset_in_application`", body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/assets/{id}")]
async fn delete_asset(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let current = find_manageable(&state.db, AssetScope::of(&caller), *id).await?;
    if_match.check(current.version)?;
    ops::delete(&state.db, &state.store, &caller, current).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Verified,
    Rejected,
}

#[derive(Deserialize, ToSchema)]
pub struct VerificationRequest {
    pub decision: Decision,
    /// Required when rejecting: tells the village what to fix.
    pub note: Option<String>,
}

/// The county verifies or rejects an asset.
#[utoipa::path(
    tag = "assets",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = VerificationRequest,
    responses(
        (status = 200, body = AssetView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A rejection needs a note", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/assets/{id}/verification")]
async fn verify_asset(
    state: web::Data<AppState>,
    caller: Authorized<VerifyAssets>,
    id: web::Path<Uuid>,
    body: Json<VerificationRequest>,
) -> ApiResult<web::Json<AssetView>> {
    let request = body.into_inner()?;
    let current = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let updated = ops::verify(&state.db, &caller, current, request).await?;
    Ok(web::Json(view(&state.db, updated).await?))
}
