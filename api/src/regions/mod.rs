//! Administrative divisions: the 12-digit codes every organization, bank and statistic hangs on.

use actix_web::{HttpResponse, get, post, web};
use entity::{RegionLevel, region};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::Authorized;
use crate::auth::permissions::{ManageRegions, ReadRegions};
use crate::domain::{RegionCode, parse_name};
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{Json, Query, created_at};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::{db, validate};

pub mod ops;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_regions)
        .service(get_region)
        .service(create_region);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    #[schema(example = "140826100000")]
    pub code: String,
    #[schema(example = "古绛镇")]
    pub name: String,
    pub level: RegionLevel,
    pub parent_code: Option<String>,
}

impl From<region::Model> for RegionView {
    fn from(r: region::Model) -> Self {
        RegionView {
            code: r.code,
            name: r.name,
            level: r.level,
            parent_code: r.parent_code,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegionFilter {
    /// Only the regions directly beneath this one.
    #[param(pattern = r"^\d{12}$")]
    pub parent_code: Option<String>,
    pub level: Option<RegionLevel>,
}

/// List regions in code order.
#[utoipa::path(
    tag = "regions",
    security(("bearer" = [])),
    params(RegionFilter, PageParams),
    responses(
        (status = 200, body = Page<RegionView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/regions")]
async fn list_regions(
    state: web::Data<AppState>,
    _caller: Authorized<ReadRegions>,
    filter: Query<RegionFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<RegionView>>> {
    let limit = page.limit()?;
    let mut query = region::Entity::find().order_by_asc(region::Column::Code);
    if let Some(after) = page.after::<String>()? {
        query = query.filter(region::Column::Code.gt(after));
    }
    if let Some(parent) = &filter.parent_code {
        let parent = RegionCode::parse(parent).map_err(|_| {
            ApiError::InvalidQuery(vec![FieldError::new("parent_code", "invalid_region_code")])
        })?;
        query = query.filter(region::Column::ParentCode.eq(parent.as_str()));
    }
    if let Some(level) = filter.level {
        query = query.filter(region::Column::Level.eq(level));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.code.clone(),
        RegionView::from,
    )))
}

/// One region.
#[utoipa::path(
    tag = "regions",
    security(("bearer" = [])),
    params(("code" = String, Path, example = "140826000000")),
    responses(
        (status = 200, body = RegionView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/regions/{code}")]
async fn get_region(
    state: web::Data<AppState>,
    _caller: Authorized<ReadRegions>,
    code: web::Path<String>,
) -> ApiResult<web::Json<RegionView>> {
    // Only a well-formed code can name a region (and nothing else reaches the database).
    let code = RegionCode::parse(&code).map_err(|_| ApiError::NotFound)?;
    let region = region::Entity::find_by_id(code.to_string())
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(region.into()))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateRegionRequest {
    #[schema(example = "140826100201", pattern = r"^\d{12}$")]
    pub code: String,
    #[schema(example = "北庄村")]
    pub name: String,
    /// Optional: when given, must be the level the code implies.
    pub level: Option<RegionLevel>,
    /// Optional: when given, must be the parent the code implies.
    #[schema(pattern = r"^\d{12}$")]
    pub parent_code: Option<String>,
}

/// Add a region beneath an existing parent.
#[utoipa::path(
    tag = "regions",
    security(("bearer" = [])),
    request_body = CreateRegionRequest,
    responses(
        (status = 201, body = RegionView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "`region_exists`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/regions")]
async fn create_region(
    state: web::Data<AppState>,
    caller: Authorized<ManageRegions>,
    body: Json<CreateRegionRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let (code, name) = validate!(
        code = RegionCode::parse(&request.code),
        name = parse_name(&request.name, 64),
    )?;
    let mut errors = Vec::new();
    if request.level.is_some_and(|level| level != code.level()) {
        errors.push(FieldError::new("level", "level_mismatch"));
    }
    if let Some(given) = &request.parent_code
        && Some(given.trim()) != code.parent().as_ref().map(RegionCode::as_str)
    {
        errors.push(FieldError::new("parent_code", "parent_mismatch"));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let created = ops::create(&state.db, &caller, &code, &name).await?;
    Ok(created_at(
        &format!("/api/v1/regions/{}", created.code),
        1,
        &RegionView::from(created),
    ))
}

/// Adds a region whose parent must already exist (`unknown_parent` on `code` otherwise); the
/// caller records the audit event (`create`, or the import that created it).
pub async fn insert(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    name: &str,
) -> Result<region::Model, ApiError> {
    if let Some(parent) = code.parent()
        && region::Entity::find_by_id(parent.as_str())
            .one(db)
            .await?
            .is_none()
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "code",
            "unknown_parent",
        )]));
    }
    let model = region::Model {
        code: code.as_str().to_owned(),
        name: name.to_owned(),
        level: code.level(),
        parent_code: code.parent().map(|p| p.as_str().to_owned()),
        created_at: db::now(),
    };
    let active: region::ActiveModel = model.clone().into();
    match region::Entity::insert(active)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(model),
        Err(err) if db::is_unique_violation(&err) => Err(ApiError::Conflict("region_exists")),
        Err(err) => Err(err.into()),
    }
}

/// Reads a region that must exist and be at `level`; the error names `field`.
pub async fn require(
    db: &impl ConnectionTrait,
    code: &RegionCode,
    level: Option<RegionLevel>,
    field: &str,
) -> Result<region::Model, ApiError> {
    let found = region::Entity::find_by_id(code.as_str()).one(db).await?;
    match found {
        None => Err(ApiError::Validation(vec![FieldError::new(
            field,
            "unknown_region",
        )])),
        Some(r) if level.is_some_and(|l| l != r.level) => {
            Err(ApiError::Validation(vec![FieldError::new(
                field,
                "wrong_region_level",
            )]))
        }
        Some(r) => Ok(r),
    }
}
