//! Banks, their branches, and the regions each serves (a county code serves all beneath it).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, put, web};
use chrono::{DateTime, Utc};
use entity::{bank, bank_branch, bank_region};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::Authorized;
use crate::auth::permissions::{ManageBanks, ReadBanks};
use crate::db;
use crate::domain::RegionCode;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{IfMatch, Json, Query, created, with_etag};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub mod ops;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_bank)
        .service(list_banks)
        .service(get_bank)
        .service(update_bank)
        .service(create_branch)
        .service(set_regions);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BankView {
    pub id: Uuid,
    #[schema(example = "山西绛县农村商业银行")]
    pub name: String,
    #[schema(example = "JXRCB")]
    pub code: String,
    pub branches: Vec<BranchView>,
    /// Region codes this bank serves; each covers everything beneath it.
    pub served_region_codes: Vec<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchView {
    pub id: Uuid,
    pub name: String,
    pub region_code: Option<String>,
}

impl From<bank_branch::Model> for BranchView {
    fn from(b: bank_branch::Model) -> Self {
        BranchView {
            id: b.id,
            name: b.name,
            region_code: b.region_code,
        }
    }
}

/// A bank with its branches and served regions.
pub async fn view(db: &impl ConnectionTrait, bank: bank::Model) -> Result<BankView, ApiError> {
    let mut views = views(db, vec![bank]).await?;
    views.pop().ok_or(ApiError::NotFound)
}

/// Banks with their branches and served regions, in three queries whatever their number.
pub async fn views(
    db: &impl ConnectionTrait,
    banks: Vec<bank::Model>,
) -> Result<Vec<BankView>, ApiError> {
    let ids: Vec<Uuid> = banks.iter().map(|b| b.id).collect();
    let mut branches = bank_branch::Entity::find()
        .filter(bank_branch::Column::BankId.is_in(ids.clone()))
        .order_by_asc(bank_branch::Column::Name)
        .all(db)
        .await?;
    let mut served = bank_region::Entity::find()
        .filter(bank_region::Column::BankId.is_in(ids))
        .order_by_asc(bank_region::Column::RegionCode)
        .all(db)
        .await?;
    Ok(banks
        .into_iter()
        .map(|bank| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                branches.drain(..).partition(|b| b.bank_id == bank.id);
            branches = rest;
            let (codes, rest): (Vec<_>, Vec<_>) =
                served.drain(..).partition(|r| r.bank_id == bank.id);
            served = rest;
            BankView {
                id: bank.id,
                name: bank.name,
                code: bank.code,
                branches: mine.into_iter().map(BranchView::from).collect(),
                served_region_codes: codes.into_iter().map(|r| r.region_code).collect(),
                version: bank.version,
                created_at: bank.created_at,
                updated_at: bank.updated_at,
            }
        })
        .collect())
}

/// The region codes a bank serves.
pub async fn served_codes(
    db: &impl ConnectionTrait,
    bank_id: Uuid,
) -> Result<Vec<RegionCode>, ApiError> {
    let rows = bank_region::Entity::find()
        .filter(bank_region::Column::BankId.eq(bank_id))
        .order_by_asc(bank_region::Column::RegionCode)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| RegionCode::parse(&r.region_code).ok())
        .collect())
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<bank::Model, ApiError> {
    bank::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Bank codes: 2–32 characters of A–Z, 0–9, `-` and `_`, kept upper-case.
fn parse_bank_code(raw: &str) -> Result<String, &'static str> {
    let code = raw.trim().to_ascii_uppercase();
    let valid = (2..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok(code)
    } else {
        Err("invalid_bank_code")
    }
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBankRequest {
    #[schema(example = "山西绛县农村商业银行")]
    pub name: String,
    /// Short unique code: letters, digits, `-`, `_`.
    #[schema(example = "JXRCB")]
    pub code: String,
}

/// Register a bank.
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    request_body = CreateBankRequest,
    responses(
        (status = 201, body = BankView, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "`bank_code_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/banks")]
async fn create_bank(
    state: web::Data<AppState>,
    caller: Authorized<ManageBanks>,
    body: Json<CreateBankRequest>,
) -> ApiResult<HttpResponse> {
    let shown = ops::create(&state.db, &caller, body.into_inner()?).await?;
    Ok(created("banks", shown.id, shown.version, &shown))
}

async fn insert(
    db: &impl ConnectionTrait,
    name: String,
    code: String,
) -> Result<bank::Model, ApiError> {
    let now = db::now();
    let model = bank::Model {
        id: Uuid::now_v7(),
        name,
        code,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let active: bank::ActiveModel = model.clone().into();
    match bank::Entity::insert(active)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(model),
        Err(err) if db::is_unique_violation(&err) => Err(ApiError::Conflict("bank_code_taken")),
        Err(err) => Err(err.into()),
    }
}

/// List banks by name.
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    params(PageParams),
    responses((status = 200, body = Page<BankView>))
)]
#[get("/banks")]
async fn list_banks(
    state: web::Data<AppState>,
    _caller: Authorized<ReadBanks>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<BankView>>> {
    let limit = page.limit()?;
    let mut query = bank::Entity::find().order_by_asc(bank::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(bank::Column::Id.gt(after));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |b| b.id, |b| b)
        .map_items(|items| views(&state.db, items))
        .await?;
    Ok(web::Json(page))
}

/// One bank with its branches and served regions.
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = BankView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/banks/{id}")]
async fn get_bank(
    state: web::Data<AppState>,
    _caller: Authorized<ReadBanks>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let bank = find(&state.db, *id).await?;
    let version = bank.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, bank).await?,
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateBankRequest {
    pub name: Option<String>,
    pub code: Option<String>,
}

/// Rename a bank or change its code (`If-Match` with the ETag you read).
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = UpdateBankRequest,
    responses(
        (status = 200, body = BankView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/banks/{id}")]
async fn update_bank(
    state: web::Data<AppState>,
    caller: Authorized<ManageBanks>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<UpdateBankRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let current = find(&state.db, *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update(&state.db, &caller, current, request).await?;
    Ok(with_etag(StatusCode::OK, updated.version, &updated))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateBranchRequest {
    #[schema(example = "古绛支行")]
    pub name: String,
    /// Where the branch is, if known.
    #[schema(pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
}

/// Add a branch to a bank.
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = CreateBranchRequest,
    responses(
        (status = 201, body = BranchView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`branch_name_taken`", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/banks/{id}/branches")]
async fn create_branch(
    state: web::Data<AppState>,
    caller: Authorized<ManageBanks>,
    id: web::Path<Uuid>,
    body: Json<CreateBranchRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let bank = find(&state.db, *id).await?;
    let branch = ops::add_branch(&state.db, &caller, &bank, request).await?;
    Ok(HttpResponse::Created().json(branch))
}

async fn insert_branch(
    db: &impl ConnectionTrait,
    bank_id: Uuid,
    name: String,
    region: Option<RegionCode>,
) -> Result<bank_branch::Model, ApiError> {
    let model = bank_branch::Model {
        id: Uuid::now_v7(),
        bank_id,
        name,
        region_code: region.map(|r| r.to_string()),
        created_at: db::now(),
    };
    let active: bank_branch::ActiveModel = model.clone().into();
    match bank_branch::Entity::insert(active)
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(model),
        Err(err) if db::is_unique_violation(&err) => Err(ApiError::Conflict("branch_name_taken")),
        Err(err) => Err(err.into()),
    }
}

#[derive(Deserialize, ToSchema)]
pub struct ServedRegionsRequest {
    /// The complete new list; a county code serves every township and village beneath it.
    #[schema(example = json!(["140826000000"]))]
    pub region_codes: Vec<String>,
}

/// Replace the list of regions a bank serves.
#[utoipa::path(
    tag = "banks",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    request_body = ServedRegionsRequest,
    responses(
        (status = 200, body = BankView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A code is malformed or unknown (`region_codes[i]`)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/banks/{id}/regions")]
async fn set_regions(
    state: web::Data<AppState>,
    caller: Authorized<ManageBanks>,
    id: web::Path<Uuid>,
    body: Json<ServedRegionsRequest>,
) -> ApiResult<web::Json<BankView>> {
    let request = body.into_inner()?;
    let bank = find(&state.db, *id).await?;
    Ok(web::Json(
        ops::set_regions(&state.db, &caller, bank, request).await?,
    ))
}

/// Replaces a bank's served regions in one transaction.
async fn replace_served(
    db: &(impl ConnectionTrait + TransactionTrait),
    bank_id: Uuid,
    codes: &[RegionCode],
) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    bank_region::Entity::delete_many()
        .filter(bank_region::Column::BankId.eq(bank_id))
        .exec(&txn)
        .await?;
    if !codes.is_empty() {
        bank_region::Entity::insert_many(codes.iter().map(|code| bank_region::ActiveModel {
            bank_id: Set(bank_id),
            region_code: Set(code.to_string()),
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
