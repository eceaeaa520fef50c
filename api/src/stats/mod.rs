//! The figures: collective income tiers, and the loan portfolio; each as JSON or CSV.

mod figures;
pub mod portfolio;
mod tally;

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, web};
use entity::{Money, organization, organization_income, region};
use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, RelationTrait,
    sea_query::JoinType,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

pub use figures::{IncomeFigures, Percent, TIER_HIGH, TIER_LOW, income_figures};
pub use tally::{Days, LoanCount, PledgedKind, PortfolioFigures, StatusCount};

use crate::auth::Authorized;
use crate::auth::permissions::ReadIncomeStats;
use crate::csv_out::text_cell;
use crate::domain::RegionCode;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Query;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(income_stats)
        .service(portfolio::portfolio_stats);
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncomeStatsQuery {
    #[param(example = 2021)]
    pub year: i32,
    /// Limit to a region and everything beneath it (default: every organization).
    #[param(example = "140826000000", pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IncomeStats {
    pub year: i32,
    pub region_code: Option<String>,
    /// Organizations in the region with no income recorded for the year (not in the figures).
    pub organizations_without_income: u64,
    #[serde(flatten)]
    pub figures: IncomeFigures,
    /// One row per township, in code order.
    pub townships: Vec<TownshipIncome>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TownshipIncome {
    #[schema(example = "140826100000")]
    pub code: String,
    #[schema(example = "古绛镇")]
    pub name: String,
    #[serde(flatten)]
    pub figures: IncomeFigures,
}

/// Collective income statistics for a year: count, total, mean, median, and the organizations at
/// or above 50,000 and 100,000 CNY with their shares (percent, two places). `Accept: text/csv`
/// gives the same as CSV: a first row for the whole region, then one per township.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(IncomeStatsQuery),
    responses(
        (status = 200, description = "The figures: JSON by default, CSV with `Accept: text/csv`", content(
            (IncomeStats = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/income")]
async fn income_stats(
    state: web::Data<AppState>,
    _caller: Authorized<ReadIncomeStats>,
    query: Query<IncomeStatsQuery>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let region = match &query.region_code {
        Some(raw) => Some(RegionCode::parse(raw).map_err(|_| {
            ApiError::InvalidQuery(vec![FieldError::new("region_code", "invalid_region_code")])
        })?),
        None => None,
    };
    let stats = compute(&state.db, query.year, region.as_ref()).await?;
    if crate::csv_out::wanted(&request) {
        return Ok(HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(to_csv(&stats)?));
    }
    Ok(HttpResponse::Ok().json(stats))
}

/// Reads the year's incomes of the region's organizations (one query) and computes the figures.
pub async fn compute(
    db: &impl sea_orm::ConnectionTrait,
    year: i32,
    region: Option<&RegionCode>,
) -> Result<IncomeStats, ApiError> {
    let mut incomes = organization_income::Entity::find()
        .select_only()
        .column(organization::Column::RegionCode)
        .column(organization_income::Column::Amount)
        .join(
            JoinType::InnerJoin,
            organization_income::Relation::Organization.def(),
        )
        .filter(organization_income::Column::Year.eq(year));
    let mut organizations = organization::Entity::find();
    if let Some(code) = region {
        let (low, high) = code.subtree_bounds();
        incomes =
            incomes.filter(organization::Column::RegionCode.between(low.clone(), high.clone()));
        organizations = organizations.filter(organization::Column::RegionCode.between(low, high));
    }
    let rows: Vec<(String, Money)> = incomes.into_tuple().all(db).await?;
    let organization_count = organizations.count(db).await?;

    let mut by_township: BTreeMap<String, Vec<Money>> = BTreeMap::new();
    for (code, amount) in &rows {
        let township = RegionCode::parse(code)
            .ok()
            .and_then(|c| c.township())
            .map_or_else(|| code.clone(), |t| t.to_string());
        by_township.entry(township).or_default().push(*amount);
    }
    let names: HashMap<String, String> = region::Entity::find()
        .filter(region::Column::Code.is_in(by_township.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let townships = by_township
        .into_iter()
        .map(|(code, amounts)| TownshipIncome {
            name: names.get(&code).cloned().unwrap_or_default(),
            code,
            figures: income_figures(&amounts),
        })
        .collect();
    let amounts: Vec<Money> = rows.into_iter().map(|(_, amount)| amount).collect();
    Ok(IncomeStats {
        year,
        region_code: region.map(|r| r.to_string()),
        organizations_without_income: organization_count.saturating_sub(amounts.len() as u64),
        figures: income_figures(&amounts),
        townships,
    })
}

fn to_csv(stats: &IncomeStats) -> Result<Vec<u8>, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "code",
        "name",
        "organization_count",
        "total",
        "mean",
        "median",
        "count_at_least_50000",
        "share_at_least_50000",
        "count_at_least_100000",
        "share_at_least_100000",
    ];
    let csv_error = |e: csv::Error| ApiError::Internal(e.into());
    writer.write_record(header).map_err(csv_error)?;
    let all = (
        stats.region_code.clone().unwrap_or_default(),
        "total".to_owned(),
        &stats.figures,
    );
    let rows = std::iter::once(all).chain(
        stats
            .townships
            .iter()
            .map(|t| (t.code.clone(), t.name.clone(), &t.figures)),
    );
    for (code, name, f) in rows {
        writer
            .write_record([
                text_cell(&code).into_owned(),
                text_cell(&name).into_owned(),
                f.organization_count.to_string(),
                f.total.to_string(),
                f.mean.map(|m| m.to_string()).unwrap_or_default(),
                f.median.map(|m| m.to_string()).unwrap_or_default(),
                f.count_at_least_50000.to_string(),
                f.share_at_least_50000.to_string(),
                f.count_at_least_100000.to_string(),
                f.share_at_least_100000.to_string(),
            ])
            .map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))
}
