//! Equity entities (collective cooperatives, companies, projects) and their shareholdings.
//! The shares of one entity never add up to more than 100.00 %: the entity row carries the
//! allocated total, raised by a conditional update (and bounded by a CHECK) in the same
//! transaction that inserts the shareholding, so concurrent additions cannot both pass.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::{EquityKind, HolderType, Percentage, equity_entity, shareholding};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Authorized;
use crate::auth::permissions::{ManageAssets, ReadAssets};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{IfMatch, Json, Query, created, created_at, with_etag};
use crate::pagination::{Page, PageParams};
use crate::scope::AssetScope;
use crate::state::AppState;

pub mod ops;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_entity)
        .service(list_entities)
        .service(get_entity)
        .service(update_entity)
        .service(add_shareholding)
        .service(list_shareholdings)
        .service(get_shareholding)
        .service(delete_shareholding);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EquityEntityView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub kind: EquityKind,
    #[schema(example = "南永青村蔬菜大棚项目")]
    pub name: String,
    pub uscc: Option<String>,
    /// Sum of the shareholdings, at most 100.00.
    pub allocated_percentage: Percentage,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<equity_entity::Model> for EquityEntityView {
    fn from(e: equity_entity::Model) -> Self {
        EquityEntityView {
            id: e.id,
            organization_id: e.organization_id,
            kind: e.kind,
            name: e.name,
            uscc: e.uscc,
            allocated_percentage: Percentage::from_scaled(e.allocated_bp),
            version: e.version,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareholdingView {
    pub id: Uuid,
    pub entity_id: Uuid,
    pub holder_name: String,
    pub holder_type: HolderType,
    pub percentage: Percentage,
    pub created_at: DateTime<Utc>,
}

impl From<shareholding::Model> for ShareholdingView {
    fn from(s: shareholding::Model) -> Self {
        ShareholdingView {
            id: s.id,
            entity_id: s.entity_id,
            holder_name: s.holder_name,
            holder_type: s.holder_type,
            percentage: s.percentage,
            created_at: s.created_at,
        }
    }
}

/// An entity the caller may see; anything else is 404.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    scope: AssetScope,
    id: Uuid,
) -> Result<equity_entity::Model, ApiError> {
    equity_entity::Entity::find_by_id(id)
        .filter(scope.condition(equity_entity::Column::OrganizationId))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

#[derive(Deserialize, ToSchema)]
pub struct CreateEntityRequest {
    /// The owning or participating collective; an operator may leave it out (its own).
    pub organization_id: Option<Uuid>,
    pub kind: EquityKind,
    pub name: String,
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$")]
    pub uscc: Option<String>,
}

/// Register an equity entity.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    request_body = CreateEntityRequest,
    responses(
        (status = 201, body = EquityEntityView, headers(("ETag" = String), ("Location" = String))),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/equity-entities")]
async fn create_entity(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    body: Json<CreateEntityRequest>,
) -> ApiResult<HttpResponse> {
    let model = ops::create_entity(&state.db, &caller, body.into_inner()?).await?;
    Ok(created(
        "equity-entities",
        model.id,
        model.version,
        &EquityEntityView::from(model),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntityFilter {
    pub organization_id: Option<Uuid>,
}

/// List the equity entities the caller may see.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(EntityFilter, PageParams),
    responses((status = 200, body = Page<EquityEntityView>))
)]
#[get("/equity-entities")]
async fn list_entities(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    filter: Query<EntityFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<EquityEntityView>>> {
    let limit = page.limit()?;
    let mut query = equity_entity::Entity::find()
        .filter(AssetScope::of(&caller).condition(equity_entity::Column::OrganizationId))
        .order_by_asc(equity_entity::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(equity_entity::Column::Id.gt(after));
    }
    if let Some(org) = filter.organization_id {
        query = query.filter(equity_entity::Column::OrganizationId.eq(org));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |e| e.id,
        EquityEntityView::from,
    )))
}

/// One equity entity.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = EquityEntityView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/equity-entities/{id}")]
async fn get_entity(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    Ok(with_etag(
        StatusCode::OK,
        found.version,
        &EquityEntityView::from(found.clone()),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateEntityRequest {
    pub kind: Option<EquityKind>,
    pub name: Option<String>,
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$")]
    pub uscc: Option<String>,
}

/// Edit an equity entity (`If-Match` with the ETag you read).
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateEntityRequest,
    responses(
        (status = 200, body = EquityEntityView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/equity-entities/{id}")]
async fn update_entity(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateEntityRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let current = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update_entity(&state.db, &caller, current, request).await?;
    Ok(with_etag(
        StatusCode::OK,
        updated.version,
        &EquityEntityView::from(updated),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct ShareholdingRequest {
    #[schema(example = "南永青村股份经济合作社")]
    pub holder_name: String,
    pub holder_type: HolderType,
    /// Percent with at most two places, above 0.
    pub percentage: Percentage,
}

/// Add a shareholding. 409 `shares_exceed_100` when the entity's shares would pass 100.00 %.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ShareholdingRequest,
    responses(
        (status = 201, body = ShareholdingView, headers(("ETag" = String), ("Location" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`shares_exceed_100`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/equity-entities/{id}/shareholdings")]
async fn add_shareholding(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    id: web::Path<Uuid>,
    body: Json<ShareholdingRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let entity = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let created = ops::add_shareholding(&state.db, &caller, &entity, request).await?;
    Ok(created_at(
        &format!(
            "/api/v1/equity-entities/{}/shareholdings/{}",
            created.entity_id, created.id
        ),
        1,
        &ShareholdingView::from(created),
    ))
}

/// One shareholding of an entity.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("sid" = Uuid, Path)),
    responses(
        (status = 200, body = ShareholdingView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/equity-entities/{id}/shareholdings/{sid}")]
async fn get_shareholding(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (entity_id, shareholding_id) = path.into_inner();
    let entity = find_visible(&state.db, AssetScope::of(&caller), entity_id).await?;
    let share = shareholding::Entity::find_by_id(shareholding_id)
        .filter(shareholding::Column::EntityId.eq(entity.id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(with_etag(
        actix_web::http::StatusCode::OK,
        1,
        &ShareholdingView::from(share),
    ))
}

pub fn parse_share(percentage: Percentage) -> Result<Percentage, &'static str> {
    if percentage.scaled() > 0 && percentage <= Percentage::HUNDRED {
        Ok(percentage)
    } else {
        Err("out_of_range")
    }
}

/// The shareholdings of an entity, oldest first.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = Page<ShareholdingView>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/equity-entities/{id}/shareholdings")]
async fn list_shareholdings(
    state: web::Data<AppState>,
    caller: Authorized<ReadAssets>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<ShareholdingView>>> {
    let entity = find_visible(&state.db, AssetScope::of(&caller), *id).await?;
    let limit = page.limit()?;
    let mut query = shareholding::Entity::find()
        .filter(shareholding::Column::EntityId.eq(entity.id))
        .order_by_asc(shareholding::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(shareholding::Column::Id.gt(after));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |s| s.id,
        ShareholdingView::from,
    )))
}

/// Remove a shareholding. 409 `shareholding_registered` while it is registered as an asset.
#[utoipa::path(
    tag = "equity",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("sid" = Uuid, Path)),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/equity-entities/{id}/shareholdings/{sid}")]
async fn delete_shareholding(
    state: web::Data<AppState>,
    caller: Authorized<ManageAssets>,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, sid) = path.into_inner();
    let entity = find_visible(&state.db, AssetScope::of(&caller), id).await?;
    ops::remove_shareholding(&state.db, &caller, &entity, sid).await?;
    Ok(HttpResponse::NoContent().finish())
}
