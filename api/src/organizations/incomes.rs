//! Annual collective income per organization, the basis of the county's income tiers.

use actix_web::{get, put, web};
use chrono::{DateTime, Utc};
use entity::{Money, organization_income};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::find_visible;
use crate::auth::Authorized;
use crate::auth::permissions::{ManageOrganizations, ReadOrganizations};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Json, Query};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

pub const FIRST_YEAR: i32 = 1949;
pub const LAST_YEAR: i32 = 2200;

#[derive(Debug, Serialize, ToSchema)]
pub struct IncomeView {
    #[schema(example = 2021)]
    pub year: i32,
    pub amount: Money,
    pub updated_at: DateTime<Utc>,
}

impl From<organization_income::Model> for IncomeView {
    fn from(m: organization_income::Model) -> Self {
        IncomeView {
            year: m.year,
            amount: m.amount,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct IncomeRequest {
    /// The collective's income for the year, CNY.
    pub amount: Money,
}

pub fn parse_year(year: i32) -> Result<i32, &'static str> {
    if (FIRST_YEAR..=LAST_YEAR).contains(&year) {
        Ok(year)
    } else {
        Err("out_of_range")
    }
}

pub fn parse_income(amount: Money) -> Result<Money, &'static str> {
    if amount.is_negative() {
        Err("negative")
    } else {
        Ok(amount)
    }
}

/// Set (or correct) an organization's income for a year.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), ("year" = i32, Path, example = 2021)),
    request_body = IncomeRequest,
    responses(
        (status = 200, body = IncomeView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/organizations/{id}/incomes/{year}")]
pub async fn put_income(
    state: web::Data<AppState>,
    caller: Authorized<ManageOrganizations>,
    path: web::Path<(Uuid, i32)>,
    body: Json<IncomeRequest>,
) -> ApiResult<web::Json<IncomeView>> {
    let (id, year) = path.into_inner();
    let request = body.into_inner()?;
    let organization = find_visible(&state.db, &caller, id).await?;
    let row = super::ops::set_income(&state.db, &caller, &organization, year, request).await?;
    Ok(web::Json(row.into()))
}

/// Inserts or replaces incomes, keyed by organization and year.
pub async fn upsert(
    db: &impl sea_orm::ConnectionTrait,
    rows: &[organization_income::Model],
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    organization_income::Entity::insert_many(rows.iter().map(|r| {
        organization_income::ActiveModel {
            organization_id: Set(r.organization_id),
            year: Set(r.year),
            amount: Set(r.amount),
            updated_at: Set(r.updated_at),
        }
    }))
    .on_conflict(
        OnConflict::columns([
            organization_income::Column::OrganizationId,
            organization_income::Column::Year,
        ])
        .update_columns([
            organization_income::Column::Amount,
            organization_income::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// An organization's incomes, newest year first.
#[utoipa::path(
    tag = "organizations",
    security(("bearer" = [])),
    params(("id" = Uuid, Path), PageParams),
    responses(
        (status = 200, body = Page<IncomeView>),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organizations/{id}/incomes")]
pub async fn list_incomes(
    state: web::Data<AppState>,
    caller: Authorized<ReadOrganizations>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<web::Json<Page<IncomeView>>> {
    let organization = find_visible(&state.db, &caller, *id).await?;
    let limit = page.limit()?;
    let mut query = organization_income::Entity::find()
        .filter(organization_income::Column::OrganizationId.eq(organization.id))
        .order_by_desc(organization_income::Column::Year);
    if let Some(before) = page.after::<i32>()? {
        query = query.filter(organization_income::Column::Year.lt(before));
    }
    let rows = query.limit(limit + 1).all(&state.db).await?;
    Ok(web::Json(Page::from_rows(
        rows,
        limit,
        |r| r.year,
        IncomeView::from,
    )))
}
