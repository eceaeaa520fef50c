//! The loan portfolio: applications by state, amounts, decision times, collateral, loans in
//! shortfall or overdue — for the whole scope and per region one level down.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    ApplicationStatus, AssetKind, Money, asset, asset_valuation, lien, loan_application,
    loan_installment, organization, region,
};
use futures_util::TryStreamExt;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, JoinType, Order, Query, SelectStatement};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::tally::{ApplicationFacts, PortfolioFigures, Tally, portfolio_states};
use crate::auth::permissions::ReadPortfolioStats;
use crate::auth::{Authorized, Caller, Tenant};
use crate::csv_out::text_cell;
use crate::db;
use crate::domain::RegionCode;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Query as QueryParams;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PortfolioQuery {
    /// Organizations in this region and beneath it (default: everywhere).
    #[param(example = "140826000000", pattern = r"^\d{12}$")]
    pub region_code: Option<String>,
    /// One bank's book. Bank staff see their own bank's only (another bank is 403).
    pub bank_id: Option<Uuid>,
    /// Applications submitted on or after this day (Beijing time).
    pub from: Option<NaiveDate>,
    /// Applications submitted on or before this day (Beijing time).
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PortfolioStats {
    pub region_code: Option<String>,
    pub bank_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    #[serde(flatten)]
    pub figures: PortfolioFigures,
    /// One row per region one level below `region_code` (per township for a county, per county
    /// for a city; per province without one) that has applications, in code order.
    pub regions: Vec<RegionPortfolio>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionPortfolio {
    #[schema(example = "140826100000")]
    pub code: String,
    #[schema(example = "古绛镇")]
    pub name: String,
    #[serde(flatten)]
    pub figures: PortfolioFigures,
}

/// The whole scope's figures and one region's, parsed and checked.
#[derive(Debug, Clone)]
pub struct PortfolioScope {
    pub region: Option<RegionCode>,
    pub bank_id: Option<Uuid>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl PortfolioScope {
    /// Parses the query for this caller: bank staff are held to their own bank.
    pub fn parse(caller: &Caller, query: &PortfolioQuery) -> Result<PortfolioScope, ApiError> {
        let region = match &query.region_code {
            Some(raw) => Some(RegionCode::parse(raw).map_err(|code| {
                ApiError::InvalidQuery(vec![FieldError::new("region_code", code)])
            })?),
            None => None,
        };
        if let (Some(from), Some(to)) = (query.from, query.to)
            && from > to
        {
            return Err(ApiError::InvalidQuery(vec![FieldError::new(
                "to",
                "before_from",
            )]));
        }
        let bank_id = match caller.tenant() {
            Tenant::County | Tenant::Supervisor => query.bank_id,
            Tenant::Bank(own) if query.bank_id.is_none_or(|asked| asked == own) => Some(own),
            _ => return Err(ApiError::Forbidden),
        };
        Ok(PortfolioScope {
            region,
            bank_id,
            from: query.from,
            to: query.to,
        })
    }
}

/// Portfolio statistics. A bank sees its own book; the county and supervisors everything (or
/// one bank's with `bank_id`). The portfolio is what was submitted (drafts are the villages' own),
/// optionally submitted within `from`–`to`. `Accept: text/csv` gives one row for the whole scope,
/// then one per region.
#[utoipa::path(
    tag = "statistics",
    security(("bearer" = [])),
    params(PortfolioQuery),
    responses(
        (status = 200, description = "The figures: JSON by default, CSV with `Accept: text/csv`", content(
            (PortfolioStats = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/stats/portfolio")]
async fn portfolio_stats(
    state: web::Data<AppState>,
    caller: Authorized<ReadPortfolioStats>,
    query: QueryParams<PortfolioQuery>,
    request: HttpRequest,
) -> ApiResult<HttpResponse> {
    let scope = PortfolioScope::parse(&caller, &query)?;
    let stats = compute(&state.db, &scope).await?;
    if crate::csv_out::wanted(&request) {
        return Ok(HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "text/csv; charset=utf-8"))
            .body(to_csv(&stats)?));
    }
    Ok(HttpResponse::Ok().json(stats))
}

#[derive(Debug, FromQueryResult)]
struct ApplicationRow {
    region_code: String,
    status: ApplicationStatus,
    amount: Money,
    approved_amount: Option<Money>,
    disbursed_amount: Option<Money>,
    outstanding_principal: Option<Money>,
    submitted_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    disbursed_on: Option<NaiveDate>,
    shortfall_since: Option<DateTime<Utc>>,
    /// Disbursed, with a period past due and not fully paid.
    overdue: bool,
}

#[derive(Debug, FromQueryResult)]
struct PledgedRow {
    region_code: String,
    asset_id: Uuid,
    kind: AssetKind,
    value: Option<Money>,
}

/// Reads the scope's applications (streamed, each with whether it is overdue) and its pledged
/// assets with their current values — two statements whatever the size, and the regions' names —
/// and tallies them per region.
pub async fn compute(
    db: &DatabaseConnection,
    scope: &PortfolioScope,
) -> Result<PortfolioStats, ApiError> {
    let backend = db.get_database_backend();

    let breakdown = breakdown_len(scope.region.as_ref());
    let key = |code: &str| format!("{:0<12}", &code[..breakdown.min(code.len())]);
    let mut regions: BTreeMap<String, Tally> = BTreeMap::new();

    let mut rows = ApplicationRow::find_by_statement(backend.build(&applications(scope)))
        .stream(db)
        .await?;
    while let Some(row) = rows.try_next().await? {
        let facts = ApplicationFacts {
            status: row.status,
            amount: row.amount,
            approved_amount: row.approved_amount,
            disbursed_amount: row.disbursed_amount,
            outstanding_principal: row.outstanding_principal,
            submitted_at: row.submitted_at,
            decided_at: row.decided_at,
            disbursed_on: row.disbursed_on,
            in_shortfall: row.shortfall_since.is_some(),
            overdue: row.overdue,
        };
        regions
            .entry(key(&row.region_code))
            .or_default()
            .add_application(&facts);
    }
    drop(rows);

    let mut pledged = PledgedRow::find_by_statement(backend.build(&pledged_assets(scope)))
        .stream(db)
        .await?;
    // Rows come newest valuation first per asset: the first row of an asset is its current value.
    let mut last_asset = None;
    while let Some(row) = pledged.try_next().await? {
        if last_asset == Some(row.asset_id) {
            continue;
        }
        last_asset = Some(row.asset_id);
        regions
            .entry(key(&row.region_code))
            .or_default()
            .add_pledged(row.kind, row.value);
    }
    drop(pledged);

    let names: HashMap<String, String> = region::Entity::find()
        .filter(region::Column::Code.is_in(regions.keys().cloned()))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.code, r.name))
        .collect();
    let mut whole = Tally::default();
    for tally in regions.values() {
        whole.absorb(tally);
    }
    Ok(PortfolioStats {
        region_code: scope.region.as_ref().map(ToString::to_string),
        bank_id: scope.bank_id,
        from: scope.from,
        to: scope.to,
        figures: whole.figures(),
        regions: regions
            .into_iter()
            .map(|(code, tally)| RegionPortfolio {
                name: names.get(&code).cloned().unwrap_or_default(),
                code,
                figures: tally.figures(),
            })
            .collect(),
    })
}

/// How many leading digits name the regions of the breakdown: one level below the scope's
/// (provinces without a region).
fn breakdown_len(region: Option<&RegionCode>) -> usize {
    region.map_or(2, RegionCode::child_prefix_len)
}

/// The applications in scope: submitted, of the bank, of organizations in the region, within the
/// period. Every statement below filters with it.
fn in_scope(select: &mut SelectStatement, scope: &PortfolioScope) {
    use loan_application::Column as A;
    let application = |c: A| Expr::col((loan_application::Entity, c));
    select
        .join(
            JoinType::InnerJoin,
            organization::Entity,
            Expr::col((organization::Entity, organization::Column::Id))
                .equals((loan_application::Entity, A::OrganizationId)),
        )
        .and_where(application(A::SubmittedAt).is_not_null());
    if let Some(bank) = scope.bank_id {
        select.and_where(application(A::BankId).eq(bank));
    }
    if let Some(region) = &scope.region {
        let (low, high) = region.subtree_bounds();
        select.and_where(
            Expr::col((organization::Entity, organization::Column::RegionCode)).between(low, high),
        );
    }
    if let Some(from) = scope.from {
        select.and_where(application(A::SubmittedAt).gte(db::county_day_start(from)));
    }
    if let Some(to) = scope.to {
        select.and_where(
            application(A::SubmittedAt).lt(db::county_day_start(to + chrono::Days::new(1))),
        );
    }
}

fn applications(scope: &PortfolioScope) -> SelectStatement {
    use loan_application::Column as A;
    use loan_installment::Column as I;
    let installment = |c: I| Expr::col((loan_installment::Entity, c));
    let unpaid_past_due = Query::select()
        .expr(Expr::val(1))
        .from(loan_installment::Entity)
        .and_where(installment(I::ApplicationId).equals((loan_application::Entity, A::Id)))
        .and_where(installment(I::DueDate).lt(db::today()))
        .and_where(
            installment(I::PaidPrincipal)
                .lt(installment(I::Principal))
                .or(installment(I::PaidInterest).lt(installment(I::Interest))),
        )
        .to_owned();
    let mut select = Query::select();
    select
        .column((organization::Entity, organization::Column::RegionCode))
        .columns(
            [
                A::Status,
                A::Amount,
                A::ApprovedAmount,
                A::DisbursedAmount,
                A::OutstandingPrincipal,
                A::SubmittedAt,
                A::DecidedAt,
                A::DisbursedOn,
                A::ShortfallSince,
            ]
            .map(|c| (loan_application::Entity, c)),
        )
        .expr_as(
            Expr::col((loan_application::Entity, A::Status))
                .eq(ApplicationStatus::Disbursed.as_str())
                .and(Expr::exists(unpaid_past_due)),
            "overdue",
        )
        .from(loan_application::Entity);
    in_scope(&mut select, scope);
    select
}

/// Assets under an open lien of an application in scope, each with its valuations valid today,
/// newest first (none: one row without a value).
fn pledged_assets(scope: &PortfolioScope) -> SelectStatement {
    use asset_valuation::Column as V;
    let mut select = Query::select();
    select
        .column((organization::Entity, organization::Column::RegionCode))
        .expr_as(
            Expr::col((asset::Entity, asset::Column::Id)),
            Alias::new("asset_id"),
        )
        .column((asset::Entity, asset::Column::Kind))
        .column((asset_valuation::Entity, V::Value))
        .from(lien::Entity)
        .join(
            JoinType::InnerJoin,
            asset::Entity,
            Expr::col((asset::Entity, asset::Column::Id))
                .equals((lien::Entity, lien::Column::AssetId)),
        )
        .join(
            JoinType::InnerJoin,
            loan_application::Entity,
            Expr::col((loan_application::Entity, loan_application::Column::Id))
                .equals((lien::Entity, lien::Column::ApplicationId)),
        )
        .and_where(
            Expr::col((lien::Entity, lien::Column::Status))
                .is_in(crate::liens::OPEN.map(|s| s.as_str())),
        );
    crate::assets::join_valid_valuations(&mut select, (asset::Entity, asset::Column::Id));
    in_scope(&mut select, scope);
    select
        .order_by((asset::Entity, asset::Column::Id), Order::Asc)
        .order_by((asset_valuation::Entity, V::AppraisalDate), Order::Desc)
        .order_by((asset_valuation::Entity, V::Id), Order::Desc);
    select
}

fn to_csv(stats: &PortfolioStats) -> Result<Vec<u8>, ApiError> {
    let mut header: Vec<String> = ["code", "name", "applications"].map(String::from).to_vec();
    // `status_approved` (a count) beside `approved` (an amount): every header names one column.
    header.extend(portfolio_states().map(|s| format!("status_{}", s.as_str())));
    header.extend(
        [
            "requested",
            "approved",
            "disbursed",
            "outstanding",
            "decisions",
            "approvals",
            "approval_rate",
            "median_days_to_decision",
            "median_days_to_disbursement",
            "shortfall_loans",
            "shortfall_outstanding",
            "overdue_loans",
            "overdue_outstanding",
        ]
        .map(String::from),
    );
    for kind in AssetKind::ALL {
        header.push(format!("pledged_{}_count", kind.as_str()));
        header.push(format!("pledged_{}_value", kind.as_str()));
    }
    let csv_error = |e: csv::Error| ApiError::Internal(e.into());
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&header).map_err(csv_error)?;
    let whole = (
        stats.region_code.clone().unwrap_or_default(),
        "total".to_owned(),
        &stats.figures,
    );
    let rows = std::iter::once(whole).chain(
        stats
            .regions
            .iter()
            .map(|r| (r.code.clone(), r.name.clone(), &r.figures)),
    );
    for (code, name, f) in rows {
        let mut record = vec![
            text_cell(&code).into_owned(),
            text_cell(&name).into_owned(),
            f.applications.to_string(),
        ];
        record.extend(f.by_status.iter().map(|s| s.count.to_string()));
        let days = |d: Option<super::tally::Days>| d.map(|d| d.to_string()).unwrap_or_default();
        record.extend([
            f.requested.to_string(),
            f.approved.to_string(),
            f.disbursed.to_string(),
            f.outstanding.to_string(),
            f.decisions.to_string(),
            f.approvals.to_string(),
            f.approval_rate.to_string(),
            days(f.median_days_to_decision),
            days(f.median_days_to_disbursement),
            f.shortfall.loans.to_string(),
            f.shortfall.outstanding.to_string(),
            f.overdue.loans.to_string(),
            f.overdue.outstanding.to_string(),
        ]);
        for kind in AssetKind::ALL {
            let pledged = f.collateral.iter().find(|p| p.kind == *kind);
            record.push(pledged.map_or(0, |p| p.count).to_string());
            record.push(pledged.map_or(Money::ZERO, |p| p.current_value).to_string());
        }
        writer.write_record(&record).map_err(csv_error)?;
    }
    writer
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("csv: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_breakdown_is_one_level_below_the_scope() {
        let code = |c: &str| RegionCode::parse(c).unwrap();
        assert_eq!(breakdown_len(None), 2);
        assert_eq!(breakdown_len(Some(&code("140000000000"))), 4);
        assert_eq!(breakdown_len(Some(&code("140800000000"))), 6);
        assert_eq!(breakdown_len(Some(&code("140826000000"))), 9);
        assert_eq!(breakdown_len(Some(&code("140826100000"))), 12);
        assert_eq!(breakdown_len(Some(&code("140826100201"))), 12);
    }
}
