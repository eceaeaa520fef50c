//! Matching: which active products fit a request, and why the others do not. The facts are
//! loaded in a fixed handful of queries whatever the number of products and assets.

pub mod rules;

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, post, web};
use entity::{
    LoanPurpose, Money, ProductStatus, Rate, RepaymentMethod, Verification, asset, bank_region,
    loan_product, organization, product_collateral,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use rules::{
    AssetFacts, Evaluation, LoanRequest, ProductFacts, ReasonCode, evaluate, lendable_value, rank,
};

use crate::auth::Authorized;
use crate::auth::permissions::QuoteLoans;
use crate::domain::RegionCode;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Json;
use crate::i18n::{self, Lang};
use crate::scope::{AssetScope, acting_organization};
use crate::state::AppState;
use crate::{db, validate};

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(quote);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MatchReason {
    pub code: ReasonCode,
    /// In the language of `Accept-Language`.
    pub message: String,
    /// The asset the reason is about, if any.
    pub asset_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductMatch {
    pub product_id: Uuid,
    pub bank_id: Uuid,
    pub product_name: String,
    pub eligible: bool,
    pub reasons: Vec<MatchReason>,
    /// Σ current value × the product's max LTV for the asset's kind, rounded down to the fen.
    pub max_loanable: Money,
    pub annual_rate: Rate,
    /// The method the estimate uses: the requested one if offered, else the product's first.
    pub repayment_method: RepaymentMethod,
    pub first_payment: Money,
    /// Principal plus interest over the whole term.
    pub total_repayment: Money,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Matches {
    /// Eligible first, then lowest rate, then most headroom.
    pub matches: Vec<ProductMatch>,
}

pub fn present(mut evaluations: Vec<Evaluation>, lang: Lang) -> Matches {
    rank(&mut evaluations);
    Matches {
        matches: evaluations
            .into_iter()
            .map(|e| ProductMatch {
                reasons: e
                    .reasons
                    .iter()
                    .map(|r| MatchReason {
                        code: r.code,
                        message: i18n::field_message(r.code.as_str(), lang).to_owned(),
                        asset_id: r.asset_id,
                    })
                    .collect(),
                product_id: e.product_id,
                bank_id: e.bank_id,
                product_name: e.product_name,
                eligible: e.eligible,
                max_loanable: e.max_loanable,
                annual_rate: e.annual_rate,
                repayment_method: e.repayment_method,
                first_payment: e.first_payment,
                total_repayment: e.total_repayment,
            })
            .collect(),
    }
}

/// Products with their served regions and LTV caps: all active ones, or exactly `only`.
pub async fn product_facts(
    db: &impl ConnectionTrait,
    only: Option<Uuid>,
) -> Result<Vec<ProductFacts>, ApiError> {
    let mut query = loan_product::Entity::find();
    query = match only {
        Some(id) => query.filter(loan_product::Column::Id.eq(id)),
        None => query.filter(loan_product::Column::Status.eq(ProductStatus::Active)),
    };
    let products = query.all(db).await?;
    let ids: Vec<Uuid> = products.iter().map(|p| p.id).collect();
    let banks: HashSet<Uuid> = products.iter().map(|p| p.bank_id).collect();
    let mut ltv: HashMap<Uuid, Vec<_>> = HashMap::new();
    for c in product_collateral::Entity::find()
        .filter(product_collateral::Column::ProductId.is_in(ids))
        .all(db)
        .await?
    {
        ltv.entry(c.product_id)
            .or_default()
            .push((c.kind, c.max_ltv));
    }
    let mut served: HashMap<Uuid, Vec<RegionCode>> = HashMap::new();
    for r in bank_region::Entity::find()
        .filter(bank_region::Column::BankId.is_in(banks))
        .all(db)
        .await?
    {
        if let Ok(code) = RegionCode::parse(&r.region_code) {
            served.entry(r.bank_id).or_default().push(code);
        }
    }
    Ok(products
        .into_iter()
        .map(|p| ProductFacts {
            served: served.get(&p.bank_id).cloned().unwrap_or_default(),
            ltv: ltv.remove(&p.id).unwrap_or_default(),
            repayment_methods: p.repayment_methods.0,
            purposes: p.purposes.0,
            id: p.id,
            bank_id: p.bank_id,
            name: p.name,
            amount_min: p.amount_min,
            amount_max: p.amount_max,
            term_min: p.term_min,
            term_max: p.term_max,
            annual_rate: p.annual_rate,
        })
        .collect())
}

/// The organization's assets among `ids`, in the order asked, with what matching needs.
/// An id that is not the organization's is a field error `asset_ids[i]`. Liens held by
/// `ignore_application` (the application being evaluated) do not count as encumbrance.
pub async fn asset_facts(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
    ids: &[Uuid],
    ignore_application: Option<Uuid>,
) -> Result<Vec<AssetFacts>, ApiError> {
    let rows: HashMap<Uuid, asset::Model> = asset::Entity::find()
        .filter(asset::Column::Id.is_in(ids.iter().copied()))
        .filter(asset::Column::OrganizationId.eq(organization_id))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !rows.contains_key(id))
        .map(|(i, _)| FieldError::new(format!("asset_ids[{i}]"), "unknown_asset"))
        .collect();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let (values, encumbered) =
        crate::assets::standing(db, ids.to_vec(), ignore_application).await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.get(id))
        .map(|a| AssetFacts {
            id: a.id,
            kind: a.kind,
            verified: a.verification == Verification::Verified,
            encumbered: encumbered.contains(&a.id),
            current_value: values.get(&a.id).map(|v| v.value),
            right_end: a.right_end,
        })
        .collect())
}

/// The region of an organization, for the "bank serves the region" rule.
pub async fn organization_region(
    db: &impl ConnectionTrait,
    organization_id: Uuid,
) -> Result<RegionCode, ApiError> {
    let org = organization::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError::new(
                "organization_id",
                "unknown_organization",
            )])
        })?;
    RegionCode::parse(&org.region_code)
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("stored region code unreadable")))
}

#[derive(Deserialize, ToSchema)]
pub struct QuoteRequest {
    /// An operator may leave it out (its own).
    pub organization_id: Option<Uuid>,
    pub amount: Money,
    pub term_months: i32,
    /// The assets to pledge.
    pub asset_ids: Vec<Uuid>,
    pub purpose: LoanPurpose,
    /// Estimate with this method where a product offers it.
    pub repayment_method: Option<RepaymentMethod>,
}

/// The largest amount anyone may ask for or offer: one trillion CNY, far above any rural loan
/// and far below where schedule arithmetic could overflow.
pub const MAX_AMOUNT: Money = Money::from_fen(100_000_000_000_000);

pub fn parse_amount(amount: Money) -> Result<Money, &'static str> {
    if amount.fen() > 0 && amount <= MAX_AMOUNT {
        Ok(amount)
    } else {
        Err("out_of_range")
    }
}

pub fn parse_term(months: i32) -> Result<i32, &'static str> {
    if (1..=360).contains(&months) {
        Ok(months)
    } else {
        Err("out_of_range")
    }
}

pub fn parse_asset_ids(ids: &[Uuid]) -> Result<Vec<Uuid>, &'static str> {
    let unique: HashSet<&Uuid> = ids.iter().collect();
    match ids.len() {
        0 => Err("required"),
        n if n > 50 => Err("too_long"),
        n if unique.len() != n => Err("duplicate"),
        _ => Ok(ids.to_vec()),
    }
}

/// Which products fit this request, ranked, with the reasons the others do not.
#[utoipa::path(
    tag = "matching",
    security(("bearer" = [])),
    request_body = QuoteRequest,
    responses(
        (status = 200, body = Matches),
        (status = 422, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/matching/quote")]
async fn quote(
    state: web::Data<AppState>,
    caller: Authorized<QuoteLoans>,
    request: HttpRequest,
    body: Json<QuoteRequest>,
) -> ApiResult<web::Json<Matches>> {
    let r = body.into_inner()?;
    let organization_id = acting_organization(AssetScope::of(&caller), r.organization_id)?;
    let (amount, term_months, asset_ids) = validate!(
        amount = parse_amount(r.amount),
        term_months = parse_term(r.term_months),
        asset_ids = parse_asset_ids(&r.asset_ids),
    )?;
    let loan = LoanRequest {
        region: organization_region(&state.db, organization_id).await?,
        amount,
        term_months,
        purpose: r.purpose,
        repayment_method: r.repayment_method,
        assets: asset_facts(&state.db, organization_id, &asset_ids, None).await?,
        today: db::today(),
    };
    let products = product_facts(&state.db, None).await?;
    let evaluations = products.iter().map(|p| evaluate(&loan, p)).collect();
    Ok(web::Json(present(
        evaluations,
        Lang::from_request(&request),
    )))
}
