//! Village collective organizations: registration, tenant-scoped reads, edits with ETags,
//! annual incomes, and the all-or-nothing CSV import.

mod import;
mod incomes;
pub mod ops;

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::{OrganizationStatus, organization, region};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

pub use import::ImportSummary;
pub use incomes::IncomeRequest;

use crate::auth::permissions::{EditOrganization, ManageOrganizations, ReadOrganizations};
use crate::auth::{Authorized, Caller, Tenant, sees_nothing};
use crate::domain::{Mobile, RegionCode, Uscc};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{IfMatch, Json, Query, created, with_etag};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::{banks, db};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(import::import)
        .service(create_organization)
        .service(list_organizations)
        .service(get_organization)
        .service(update_organization)
        .service(incomes::put_income)
        .service(incomes::list_incomes);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationView {
    pub id: Uuid,
    #[schema(example = "北庄村股份经济合作社")]
    pub name: String,
    #[schema(example = "N2140826MA0K2B3C4D")]
    pub uscc: String,
    /// The village's division code.
    #[schema(example = "140826100001")]
    pub region_code: String,
    /// The village's name.
    pub region_name: String,
    pub legal_rep_name: String,
    pub legal_rep_mobile: String,
    pub member_households: i32,
    pub status: OrganizationStatus,
    /// The admin allowed this organization to share its village with another.
    pub shares_village: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Organizations as the API shows them, with their villages' names (one extra query).
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<organization::Model>,
) -> Result<Vec<OrganizationView>, ApiError> {
    let codes: Vec<String> = rows.iter().map(|o| o.region_code.clone()).collect();
    let names: HashMap<String, String> = region::Entity::find()
        .filter(region::Column::Code.is_in(codes))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|o| OrganizationView {
            region_name: names.get(&o.region_code).cloned().unwrap_or_default(),
            id: o.id,
            name: o.name,
            uscc: o.uscc,
            region_code: o.region_code,
            legal_rep_name: o.legal_rep_name,
            legal_rep_mobile: o.legal_rep_mobile,
            member_households: o.member_households,
            status: o.status,
            shares_village: o.shares_village,
            version: o.version,
            created_at: o.created_at,
            updated_at: o.updated_at,
        })
        .collect())
}

async fn view(
    db: &impl ConnectionTrait,
    row: organization::Model,
) -> Result<OrganizationView, ApiError> {
    views(db, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

/// Which organizations a caller may see: all for the county and supervisors, its own for an
/// operator, those in the regions its bank serves for bank staff.
pub async fn visible_to(db: &impl ConnectionTrait, caller: &Caller) -> Result<Condition, ApiError> {
    match caller.tenant() {
        Tenant::County | Tenant::Supervisor => Ok(Condition::all()),
        Tenant::Organization(id) => Ok(Condition::all().add(organization::Column::Id.eq(id))),
        Tenant::Unbound => Ok(sees_nothing()),
        Tenant::Bank(bank_id) => {
            let served = banks::served_codes(db, bank_id).await?;
            if served.is_empty() {
                return Ok(sees_nothing());
            }
            Ok(served.iter().fold(Condition::any(), |any, code| {
                let (low, high) = code.subtree_bounds();
                any.add(organization::Column::RegionCode.between(low, high))
            }))
        }
    }
}

/// An organization the caller may see; anything else is 404.
pub async fn find_visible(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<organization::Model, ApiError> {
    organization::Entity::find_by_id(id)
        .filter(visible_to(db, caller).await?)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// A new organization, every field parsed.
pub struct NewOrganization {
    pub name: String,
    pub uscc: Uscc,
    pub region_code: RegionCode,
    pub legal_rep_name: String,
    pub legal_rep_mobile: Mobile,
    pub member_households: i32,
    pub status: OrganizationStatus,
    pub shares_village: bool,
}

impl NewOrganization {
    pub fn into_model(self) -> organization::Model {
        let now = db::now();
        organization::Model {
            id: Uuid::now_v7(),
            name: self.name,
            uscc: self.uscc.into_inner(),
            region_code: self.region_code.to_string(),
            legal_rep_name: self.legal_rep_name,
            legal_rep_mobile: self.legal_rep_mobile.into_inner(),
            member_households: self.member_households,
            status: self.status,
            shares_village: self.shares_village,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn parse_households(value: i64) -> Result<i32, &'static str> {
    if value < 0 {
        Err("negative")
    } else {
        i32::try_from(value).map_err(|_| "out_of_range")
    }
}

/// Maps a unique violation on `organizations` to the rule it broke.
fn conflict(err: sea_orm::DbErr) -> ApiError {
    if db::unique_violation_on(&err, "uscc") {
        ApiError::Conflict("uscc_taken")
    } else if db::is_unique_violation(&err) {
        ApiError::Conflict("village_taken")
    } else {
        err.into()
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateOrganizationRequest {
    #[schema(example = "北庄村股份经济合作社")]
    pub name: String,
    /// 18 characters with a valid GB 32100 check character.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$")]
    pub uscc: String,
    /// A village's 12-digit code; the village must exist.
    #[schema(pattern = r"^\d{12}$")]
    pub region_code: String,
    pub legal_rep_name: String,
    #[schema(pattern = r"^1[3-9]\d{9}$")]
    pub legal_rep_mobile: String,
    #[schema(minimum = 0)]
    pub member_households: i64,
    /// Defaults to `active`.
    pub status: Option<OrganizationStatus>,
    /// Allow this organization in a village that already has one (default false).
    #[serde(default)]
    pub shares_village: bool,
}

/// Register a collective organization.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 201, body = OrganizationView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "`uscc_taken` or `village_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organizations")]
async fn create_organization(
    state: web::Data<AppState>,
    caller: Authorized<ManageOrganizations>,
    body: Json<CreateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let shown = ops::create(&state.db, &caller, body.into_inner()?).await?;
    Ok(created("organizations", shown.id, shown.version, &shown))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Any region: a county or township code lists everything beneath it.
    #[param(pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
    /// Part of the name or USCC.
    pub q: Option<String>,
    pub status: Option<OrganizationStatus>,
}

/// List the organizations the caller may see, in region order.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(OrganizationFilter, PageParams),
    responses(
        (status = 200, body = Page<OrganizationView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations")]
async fn list_organizations(
    state: web::Data<AppState>,
    caller: Authorized<ReadOrganizations>,
    filter: Query<OrganizationFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<OrganizationView>>> {
    let limit = page.limit()?;
    let mut query = organization::Entity::find()
        .filter(visible_to(&state.db, &caller).await?)
        .order_by_asc(organization::Column::RegionCode)
        .order_by_asc(organization::Column::Id);
    if let Some((code, id)) = page.after::<(String, Uuid)>()? {
        query = query.filter(
            Condition::any()
                .add(organization::Column::RegionCode.gt(code.clone()))
                .add(
                    Condition::all()
                        .add(organization::Column::RegionCode.eq(code))
                        .add(organization::Column::Id.gt(id)),
                ),
        );
    }
    if let Some(raw) = &filter.region_code {
        let code = RegionCode::parse(raw).map_err(|_| {
            ApiError::InvalidQuery(vec![FieldError::new("region_code", "invalid_region_code")])
        })?;
        let (low, high) = code.subtree_bounds();
        query = query.filter(organization::Column::RegionCode.between(low, high));
    }
    if let Some(status) = filter.status {
        query = query.filter(organization::Column::Status.eq(status));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let pattern = db::contains_pattern(q);
        query = query.filter(
            Condition::any()
                .add(
                    Expr::expr(Func::lower(Expr::col(organization::Column::Name)))
                        .like(pattern.clone()),
                )
                .add(Expr::expr(Func::lower(Expr::col(organization::Column::Uscc))).like(pattern)),
        );
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |o| (o.region_code.clone(), o.id), |o| o)
        .map_items(|items| views(&state.db, items))
        .await?;
    Ok(web::Json(page))
}

/// One organization (404 when it is another tenant's).
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OrganizationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}")]
async fn get_organization(
    state: web::Data<AppState>,
    caller: Authorized<ReadOrganizations>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let found = find_visible(&state.db, &caller, *id).await?;
    let version = found.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, found).await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
pub struct UpdateOrganizationRequest {
    /// Admin only.
    pub name: Option<String>,
    /// Admin only.
    #[schema(pattern = r"^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{18}$")]
    pub uscc: Option<String>,
    /// Admin only; a village.
    #[schema(pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
    pub legal_rep_name: Option<String>,
    #[schema(pattern = r"^1[3-9]\d{9}$")]
    pub legal_rep_mobile: Option<String>,
    pub member_households: Option<i64>,
    /// Admin only.
    pub status: Option<OrganizationStatus>,
    /// Admin only.
    pub shares_village: Option<bool>,
}

/// Edit an organization. The admin may change anything; an operator only its own
/// organization's legal representative and member households. Send `If-Match`.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag of the version you read")),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, body = OrganizationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organizations/{id}")]
async fn update_organization(
    state: web::Data<AppState>,
    caller: Authorized<EditOrganization>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateOrganizationRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let current = find_visible(&state.db, &caller, *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update(&state.db, &caller, current, request).await?;
    Ok(with_etag(StatusCode::OK, updated.version, &updated))
}
