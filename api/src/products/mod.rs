//! Loan products, managed by the approvers of the bank that offers them; everyone signed in may
//! read the published ones. `draft` → `active` → `retired`; only active products are matched.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use entity::{
    AssetKind, LoanPurpose, Money, ProductAction, ProductStatus, Rate, Ratio, RepaymentMethod,
    Role, loan_product, product_collateral,
};
use sea_orm::sea_query;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionSession, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::auth::permissions::{ManageProducts, ReadProducts};
use crate::auth::{Authorized, Caller, Tenant};
use crate::db;
use crate::domain::parse_name;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{IfMatch, Json, Query, created, with_etag};
use crate::pagination::{Page, PageParams};
use entity::loan_product::{LoanPurposes, RepaymentMethods};

use crate::state::AppState;

pub mod ops;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create_product)
        .service(list_products)
        .service(get_product)
        .service(update_product)
        .service(activate)
        .service(retire);
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct Collateral {
    pub kind: AssetKind,
    /// Loan-to-value cap, above 0 and at most 1.
    pub max_ltv: Ratio,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductView {
    pub id: Uuid,
    pub bank_id: Uuid,
    #[schema(example = "农村土地经营权抵押贷款")]
    pub name: String,
    pub collateral: Vec<Collateral>,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min_months: i32,
    pub term_max_months: i32,
    pub annual_rate: Rate,
    pub repayment_methods: Vec<RepaymentMethod>,
    pub purposes: Vec<LoanPurpose>,
    pub status: ProductStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Products with their collateral (one extra query for all).
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<loan_product::Model>,
) -> Result<Vec<ProductView>, ApiError> {
    let mut collateral: HashMap<Uuid, Vec<Collateral>> = HashMap::new();
    for c in product_collateral::Entity::find()
        .filter(product_collateral::Column::ProductId.is_in(rows.iter().map(|p| p.id)))
        .all(db)
        .await?
    {
        collateral
            .entry(c.product_id)
            .or_default()
            .push(Collateral {
                kind: c.kind,
                max_ltv: c.max_ltv,
            });
    }
    Ok(rows
        .into_iter()
        .map(|p| {
            let mut kinds = collateral.remove(&p.id).unwrap_or_default();
            kinds.sort_by_key(|c| AssetKind::ALL.iter().position(|k| *k == c.kind));
            ProductView {
                collateral: kinds,
                repayment_methods: p.repayment_methods.0,
                purposes: p.purposes.0,
                id: p.id,
                bank_id: p.bank_id,
                name: p.name,
                amount_min: p.amount_min,
                amount_max: p.amount_max,
                term_min_months: p.term_min,
                term_max_months: p.term_max,
                annual_rate: p.annual_rate,
                status: p.status,
                version: p.version,
                created_at: p.created_at,
                updated_at: p.updated_at,
            }
        })
        .collect())
}

async fn view(
    db: &impl ConnectionTrait,
    row: loan_product::Model,
) -> Result<ProductView, ApiError> {
    views(db, vec![row]).await?.pop().ok_or(ApiError::NotFound)
}

async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<loan_product::Model, ApiError> {
    loan_product::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Which products a caller may read: published ones (active or retired) for everyone; a draft
/// only for its own bank's staff and the county, so unreleased terms stay with their bank.
fn visible_to(caller: &Caller) -> Condition {
    let published = loan_product::Column::Status.ne(ProductStatus::Draft);
    match caller.tenant() {
        Tenant::County | Tenant::Supervisor => Condition::all(),
        Tenant::Bank(bank) => Condition::any()
            .add(published)
            .add(loan_product::Column::BankId.eq(bank)),
        Tenant::Organization(_) | Tenant::Unbound => Condition::all().add(published),
    }
}

/// A product the caller's bank offers (404 for any other).
async fn find_own(
    db: &impl ConnectionTrait,
    caller: &Caller,
    id: Uuid,
) -> Result<loan_product::Model, ApiError> {
    let product = find(db, id).await?;
    if caller.role() == Role::BankApprover && caller.tenant() == Tenant::Bank(product.bank_id) {
        Ok(product)
    } else {
        Err(ApiError::NotFound)
    }
}

/// The terms of a product, every field parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub name: String,
    pub collateral: Vec<Collateral>,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min: i32,
    pub term_max: i32,
    pub annual_rate: Rate,
    pub repayment_methods: Vec<RepaymentMethod>,
    pub purposes: Vec<LoanPurpose>,
}

/// Every rule of a product's terms, each error naming its field.
pub fn check_terms(t: &Terms) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Err(code) = parse_name(&t.name, 128) {
        errors.push(FieldError::new("name", code));
    }
    if t.collateral.is_empty() {
        errors.push(FieldError::new("collateral", "required"));
    }
    let mut kinds = std::collections::HashSet::new();
    for (i, c) in t.collateral.iter().enumerate() {
        if c.max_ltv.scaled() <= 0 || c.max_ltv > Ratio::ONE {
            errors.push(FieldError::new(
                format!("collateral[{i}].max_ltv"),
                "out_of_range",
            ));
        }
        if !kinds.insert(c.kind) {
            errors.push(FieldError::new(
                format!("collateral[{i}].kind"),
                "duplicate",
            ));
        }
    }
    if t.amount_min.fen() <= 0 {
        errors.push(FieldError::new("amount_min", "out_of_range"));
    }
    if t.amount_max < t.amount_min {
        errors.push(FieldError::new("amount_max", "below_minimum"));
    } else if t.amount_max > crate::matching::MAX_AMOUNT {
        errors.push(FieldError::new("amount_max", "out_of_range"));
    }
    if t.term_min < 1 || t.term_min > 360 {
        errors.push(FieldError::new("term_min_months", "out_of_range"));
    }
    if t.term_max < t.term_min || t.term_max > 360 {
        errors.push(FieldError::new("term_max_months", "out_of_range"));
    }
    if t.annual_rate.scaled() < 0 || t.annual_rate.scaled() > 360_000 {
        errors.push(FieldError::new("annual_rate", "out_of_range"));
    }
    if t.repayment_methods.is_empty() {
        errors.push(FieldError::new("repayment_methods", "required"));
    }
    if t.purposes.is_empty() {
        errors.push(FieldError::new("purposes", "required"));
    }
    errors
}

fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

#[derive(Deserialize, ToSchema)]
pub struct ProductRequest {
    pub name: String,
    pub collateral: Vec<Collateral>,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min_months: i32,
    pub term_max_months: i32,
    /// Percent per year, e.g. `"4.35"`.
    pub annual_rate: Rate,
    /// In the bank's order of preference; quotes estimate with the first.
    pub repayment_methods: Vec<RepaymentMethod>,
    pub purposes: Vec<LoanPurpose>,
}

impl ProductRequest {
    fn terms(&self) -> Terms {
        Terms {
            name: self.name.trim().to_owned(),
            collateral: self.collateral.clone(),
            amount_min: self.amount_min,
            amount_max: self.amount_max,
            term_min: self.term_min_months,
            term_max: self.term_max_months,
            annual_rate: self.annual_rate,
            repayment_methods: dedup(&self.repayment_methods),
            purposes: dedup(&self.purposes),
        }
    }
}

/// A change to some of a product's terms; what is left out stays as it is.
#[derive(Deserialize, ToSchema, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    /// Replaces the whole list.
    pub collateral: Option<Vec<Collateral>>,
    pub amount_min: Option<Money>,
    pub amount_max: Option<Money>,
    pub term_min_months: Option<i32>,
    pub term_max_months: Option<i32>,
    pub annual_rate: Option<Rate>,
    pub repayment_methods: Option<Vec<RepaymentMethod>>,
    pub purposes: Option<Vec<LoanPurpose>>,
}

impl ProductPatch {
    fn apply(self, current: ProductView) -> Terms {
        Terms {
            name: self.name.map_or(current.name, |n| n.trim().to_owned()),
            collateral: self.collateral.unwrap_or(current.collateral),
            amount_min: self.amount_min.unwrap_or(current.amount_min),
            amount_max: self.amount_max.unwrap_or(current.amount_max),
            term_min: self.term_min_months.unwrap_or(current.term_min_months),
            term_max: self.term_max_months.unwrap_or(current.term_max_months),
            annual_rate: self.annual_rate.unwrap_or(current.annual_rate),
            repayment_methods: dedup(&self.repayment_methods.unwrap_or(current.repayment_methods)),
            purposes: dedup(&self.purposes.unwrap_or(current.purposes)),
        }
    }
}

/// Stores a product (as `draft`) with its collateral, in one transaction.
async fn insert(
    db: &(impl ConnectionTrait + TransactionTrait),
    bank_id: Uuid,
    terms: Terms,
    status: ProductStatus,
) -> Result<loan_product::Model, ApiError> {
    let now = db::now();
    let model = loan_product::Model {
        id: Uuid::now_v7(),
        bank_id,
        name: terms.name,
        amount_min: terms.amount_min,
        amount_max: terms.amount_max,
        term_min: terms.term_min,
        term_max: terms.term_max,
        annual_rate: terms.annual_rate,
        repayment_methods: RepaymentMethods(terms.repayment_methods),
        purposes: LoanPurposes(terms.purposes),
        status,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = db.begin().await?;
    loan_product::Entity::insert(loan_product::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    replace_collateral(&txn, model.id, &terms.collateral).await?;
    txn.commit().await?;
    Ok(model)
}

async fn replace_collateral(
    db: &impl ConnectionTrait,
    product_id: Uuid,
    collateral: &[Collateral],
) -> Result<(), ApiError> {
    product_collateral::Entity::delete_many()
        .filter(product_collateral::Column::ProductId.eq(product_id))
        .exec(db)
        .await?;
    product_collateral::Entity::insert_many(collateral.iter().map(|c| {
        product_collateral::ActiveModel {
            product_id: Set(product_id),
            kind: Set(c.kind),
            max_ltv: Set(c.max_ltv),
        }
    }))
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Create a product of the caller's bank, as `draft`.
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    request_body = ProductRequest,
    responses(
        (status = 201, body = ProductView, headers(("ETag" = String), ("Location" = String))),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products")]
async fn create_product(
    state: web::Data<AppState>,
    caller: Authorized<ManageProducts>,
    body: Json<ProductRequest>,
) -> ApiResult<HttpResponse> {
    let request = body.into_inner()?;
    let terms = request.terms();
    let Tenant::Bank(bank_id) = caller.tenant() else {
        return Err(ApiError::Forbidden);
    };
    let product = ops::create(&state.db, caller.id(), bank_id, terms).await?;
    let (id, version) = (product.id, product.version);
    Ok(created(
        "products",
        id,
        version,
        &view(&state.db, product).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    pub bank_id: Option<Uuid>,
    pub status: Option<ProductStatus>,
    /// Products accepting this kind of collateral.
    pub kind: Option<AssetKind>,
}

/// List products: published ones, and the drafts of the caller's own bank.
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    params(ProductFilter, PageParams),
    responses(
        (status = 200, body = Page<ProductView>),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products")]
async fn list_products(
    state: web::Data<AppState>,
    caller: Authorized<ReadProducts>,
    filter: Query<ProductFilter>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<ProductView>>> {
    let limit = page.limit()?;
    let mut query = loan_product::Entity::find()
        .filter(visible_to(&caller))
        .order_by_asc(loan_product::Column::Id);
    if let Some(after) = page.after::<Uuid>()? {
        query = query.filter(loan_product::Column::Id.gt(after));
    }
    if let Some(bank) = filter.bank_id {
        query = query.filter(loan_product::Column::BankId.eq(bank));
    }
    if let Some(status) = filter.status {
        query = query.filter(loan_product::Column::Status.eq(status));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(
            loan_product::Column::Id.in_subquery(
                sea_query::Query::select()
                    .column(product_collateral::Column::ProductId)
                    .from(product_collateral::Entity)
                    .and_where(product_collateral::Column::Kind.eq(kind))
                    .to_owned(),
            ),
        );
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    let page = Page::from_rows(rows, limit, |p| p.id, |p| p)
        .map_items(|items| views(&state.db, items))
        .await?;
    Ok(web::Json(page))
}

/// One product; a draft only for its own bank's staff and the county (404 for others).
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProductView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/products/{id}")]
async fn get_product(
    state: web::Data<AppState>,
    caller: Authorized<ReadProducts>,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let product = loan_product::Entity::find_by_id(*id)
        .filter(visible_to(&caller))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let version = product.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        &view(&state.db, product).await?,
    ))
}

/// Change some of a product's terms (`If-Match`). A retired product cannot change (409).
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    request_body = ProductPatch,
    responses(
        (status = 200, body = ProductView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/products/{id}")]
async fn update_product(
    state: web::Data<AppState>,
    caller: Authorized<ManageProducts>,
    id: web::Path<Uuid>,
    if_match: IfMatch,
    body: Json<ProductPatch>,
) -> ApiResult<HttpResponse> {
    let patch = body.into_inner()?;
    let current = find_own(&state.db, &caller, *id).await?;
    if_match.check(current.version)?;
    let updated = ops::update(&state.db, &caller, current, patch).await?;
    Ok(with_etag(StatusCode::OK, updated.version, &updated))
}

/// Moves one of the caller's bank's products by `action`.
async fn transition(
    state: &AppState,
    caller: &Caller,
    id: Uuid,
    action: ProductAction,
) -> Result<ProductView, ApiError> {
    let current = find_own(&state.db, caller, id).await?;
    let moved = ops::move_product(&state.db, caller, &current, action).await?;
    view(&state.db, moved).await
}

/// Put a draft product on offer.
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProductView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products/{id}/activate")]
async fn activate(
    state: web::Data<AppState>,
    caller: Authorized<ManageProducts>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ProductView>> {
    Ok(web::Json(
        transition(&state, &caller, *id, ProductAction::Activate).await?,
    ))
}

/// Withdraw an active product from offer; its applications keep it.
#[utoipa::path(
    tag = "products",
    security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ProductView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`invalid_state` with `current_state`", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/products/{id}/retire")]
async fn retire(
    state: web::Data<AppState>,
    caller: Authorized<ManageProducts>,
    id: web::Path<Uuid>,
) -> ApiResult<web::Json<ProductView>> {
    Ok(web::Json(
        transition(&state, &caller, *id, ProductAction::Retire).await?,
    ))
}
