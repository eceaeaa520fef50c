//! Matching as a pure function: one request against one product, every failed rule with its
//! stable code. Loading the facts is `super::facts`' job.

use chrono::{Months, NaiveDate};
use entity::{AssetKind, LoanPurpose, Money, Rate, Ratio, RepaymentMethod};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::RegionCode;
use crate::schedule;

/// Why a product does not fit. Stable API: clients branch on these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The product's bank does not serve the organization's region.
    RegionNotServed,
    /// The amount is outside the product's range.
    AmountOutOfRange,
    /// The term is outside the product's range.
    TermOutOfRange,
    /// The product does not accept this kind of collateral.
    CollateralKindNotAccepted,
    /// The asset is not verified by the county.
    AssetNotVerified,
    /// The asset is already pledged.
    AssetEncumbered,
    /// The asset has no valuation valid today.
    NoValidValuation,
    /// The loan would end after the asset's right ends.
    TermExceedsRight,
    /// The product does not lend for this purpose.
    PurposeNotAccepted,
    /// The collateral's loanable value is below the amount.
    InsufficientCollateral,
}

impl ReasonCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::RegionNotServed => "region_not_served",
            ReasonCode::AmountOutOfRange => "amount_out_of_range",
            ReasonCode::TermOutOfRange => "term_out_of_range",
            ReasonCode::CollateralKindNotAccepted => "collateral_kind_not_accepted",
            ReasonCode::AssetNotVerified => "asset_not_verified",
            ReasonCode::AssetEncumbered => "asset_encumbered",
            ReasonCode::NoValidValuation => "no_valid_valuation",
            ReasonCode::TermExceedsRight => "term_exceeds_right",
            ReasonCode::PurposeNotAccepted => "purpose_not_accepted",
            ReasonCode::InsufficientCollateral => "insufficient_collateral",
        }
    }
}

/// What matching needs to know of an asset.
#[derive(Debug, Clone)]
pub struct AssetFacts {
    pub id: Uuid,
    pub kind: AssetKind,
    pub verified: bool,
    pub encumbered: bool,
    pub current_value: Option<Money>,
    pub right_end: Option<NaiveDate>,
}

/// What matching needs to know of a product.
#[derive(Debug, Clone)]
pub struct ProductFacts {
    pub id: Uuid,
    pub bank_id: Uuid,
    pub name: String,
    pub served: Vec<RegionCode>,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min: i32,
    pub term_max: i32,
    pub annual_rate: Rate,
    pub repayment_methods: Vec<RepaymentMethod>,
    pub purposes: Vec<LoanPurpose>,
    pub ltv: Vec<(AssetKind, Ratio)>,
}

#[derive(Debug, Clone)]
pub struct LoanRequest {
    pub region: RegionCode,
    pub amount: Money,
    pub term_months: i32,
    pub purpose: LoanPurpose,
    /// The repayment method to estimate with, if the product offers it.
    pub repayment_method: Option<RepaymentMethod>,
    pub assets: Vec<AssetFacts>,
    /// The day the loan would start: matching is as of today.
    pub today: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub asset_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct Evaluation {
    pub product_id: Uuid,
    pub bank_id: Uuid,
    pub product_name: String,
    pub eligible: bool,
    pub reasons: Vec<Reason>,
    pub max_loanable: Money,
    pub annual_rate: Rate,
    pub repayment_method: RepaymentMethod,
    pub first_payment: Money,
    pub total_repayment: Money,
}

/// What collateral lends: Σ current value × the product's `max_ltv` for the asset's kind, over
/// the assets with a valid valuation of a kind the product accepts, rounded down to the fen
/// (lenders never round up). Matching's `max_loanable` and a loan's shortfall cover alike.
pub fn lendable_value(
    assets: impl IntoIterator<Item = (AssetKind, Option<Money>)>,
    ltv: &[(AssetKind, Ratio)],
) -> Money {
    let mut loanable = Decimal::ZERO;
    for (kind, value) in assets {
        if let (Some(value), Some((_, ratio))) = (value, ltv.iter().find(|(k, _)| *k == kind)) {
            loanable += value.to_decimal() * ratio.to_decimal();
        }
    }
    Money::from_fen(
        (loanable * Decimal::ONE_HUNDRED)
            .trunc()
            .to_i64()
            .unwrap_or(i64::MAX),
    )
}

/// Evaluates every rule of section 7 of the design for one product.
pub fn evaluate(request: &LoanRequest, product: &ProductFacts) -> Evaluation {
    let mut reasons = Vec::new();
    let mut reason = |code, asset_id| reasons.push(Reason { code, asset_id });
    if !product
        .served
        .iter()
        .any(|served| served.contains(&request.region))
    {
        reason(ReasonCode::RegionNotServed, None);
    }
    if request.amount < product.amount_min || request.amount > product.amount_max {
        reason(ReasonCode::AmountOutOfRange, None);
    }
    if request.term_months < product.term_min || request.term_months > product.term_max {
        reason(ReasonCode::TermOutOfRange, None);
    }
    if !product.purposes.contains(&request.purpose) {
        reason(ReasonCode::PurposeNotAccepted, None);
    }
    let loan_end = request
        .today
        .checked_add_months(Months::new(request.term_months.max(0) as u32))
        .unwrap_or(request.today);
    for asset in &request.assets {
        if !product.ltv.iter().any(|(kind, _)| *kind == asset.kind) {
            reason(ReasonCode::CollateralKindNotAccepted, Some(asset.id));
        }
        if !asset.verified {
            reason(ReasonCode::AssetNotVerified, Some(asset.id));
        }
        if asset.encumbered {
            reason(ReasonCode::AssetEncumbered, Some(asset.id));
        }
        if asset.current_value.is_none() {
            reason(ReasonCode::NoValidValuation, Some(asset.id));
        }
        if asset.right_end.is_some_and(|end| loan_end > end) {
            reason(ReasonCode::TermExceedsRight, Some(asset.id));
        }
    }
    let max_loanable = lendable_value(
        request.assets.iter().map(|a| (a.kind, a.current_value)),
        &product.ltv,
    );
    if max_loanable < request.amount {
        reason(ReasonCode::InsufficientCollateral, None);
    }
    let method = request
        .repayment_method
        .filter(|m| product.repayment_methods.contains(m))
        .or_else(|| product.repayment_methods.first().copied())
        .unwrap_or(RepaymentMethod::Annuity);
    let rows = schedule::schedule(
        request.amount,
        product.annual_rate,
        request.term_months.max(1) as u32,
        method,
        request.today,
    );
    let (first_payment, total_repayment) = schedule::estimate(&rows);
    Evaluation {
        product_id: product.id,
        bank_id: product.bank_id,
        product_name: product.name.clone(),
        eligible: reasons.is_empty(),
        reasons,
        max_loanable,
        annual_rate: product.annual_rate,
        repayment_method: method,
        first_payment,
        total_repayment,
    }
}

/// Eligible first, then the cheapest rate, then the most headroom above the amount.
pub fn rank(evaluations: &mut [Evaluation]) {
    evaluations.sort_by(|a, b| {
        b.eligible
            .cmp(&a.eligible)
            .then(a.annual_rate.cmp(&b.annual_rate))
            .then(b.max_loanable.cmp(&a.max_loanable))
            .then(a.product_id.cmp(&b.product_id))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()
    }

    fn land(value: &str) -> AssetFacts {
        AssetFacts {
            id: Uuid::now_v7(),
            kind: AssetKind::LandManagementRight,
            verified: true,
            encumbered: false,
            current_value: Some(value.parse().unwrap()),
            right_end: NaiveDate::from_ymd_opt(2039, 12, 31),
        }
    }

    fn product(rate: &str, ltv: &str) -> ProductFacts {
        ProductFacts {
            id: Uuid::now_v7(),
            bank_id: Uuid::now_v7(),
            name: "土地经营权抵押贷款".into(),
            served: vec![RegionCode::parse("140826000000").unwrap()],
            amount_min: "10000".parse().unwrap(),
            amount_max: "5000000".parse().unwrap(),
            term_min: 6,
            term_max: 60,
            annual_rate: rate.parse().unwrap(),
            repayment_methods: vec![RepaymentMethod::Annuity],
            purposes: vec![LoanPurpose::Planting],
            ltv: vec![(AssetKind::LandManagementRight, ltv.parse().unwrap())],
        }
    }

    fn request(amount: &str, assets: Vec<AssetFacts>) -> LoanRequest {
        LoanRequest {
            region: RegionCode::parse("140826100201").unwrap(),
            amount: amount.parse().unwrap(),
            term_months: 36,
            purpose: LoanPurpose::Planting,
            repayment_method: None,
            assets,
            today: today(),
        }
    }

    fn codes(e: &Evaluation) -> Vec<ReasonCode> {
        e.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn an_eligible_quote_with_its_estimate() {
        let e = evaluate(
            &request("280000", vec![land("400000")]),
            &product("4.35", "0.7"),
        );
        assert!(e.eligible, "{:?}", e.reasons);
        assert_eq!(e.max_loanable.to_string(), "280000.00");
        assert_eq!(
            e.first_payment,
            schedule::estimate(&schedule::schedule(
                "280000".parse().unwrap(),
                "4.35".parse().unwrap(),
                36,
                RepaymentMethod::Annuity,
                today()
            ))
            .0
        );
    }

    #[test]
    fn every_rule_has_its_code() {
        let mut p = product("4.35", "0.5");
        p.served = vec![RegionCode::parse("140826101000").unwrap()];
        p.purposes = vec![LoanPurpose::Breeding];
        let mut unverified = land("100000");
        unverified.verified = false;
        unverified.encumbered = true;
        unverified.right_end = NaiveDate::from_ymd_opt(2027, 1, 1);
        let mut unvalued = land("1");
        unvalued.current_value = None;
        unvalued.kind = AssetKind::Machinery;
        let mut r = request("6000000", vec![unverified.clone(), unvalued.clone()]);
        r.term_months = 72;
        let e = evaluate(&r, &p);
        assert!(!e.eligible);
        assert_eq!(
            e.reasons,
            vec![
                Reason {
                    code: ReasonCode::RegionNotServed,
                    asset_id: None
                },
                Reason {
                    code: ReasonCode::AmountOutOfRange,
                    asset_id: None
                },
                Reason {
                    code: ReasonCode::TermOutOfRange,
                    asset_id: None
                },
                Reason {
                    code: ReasonCode::PurposeNotAccepted,
                    asset_id: None
                },
                Reason {
                    code: ReasonCode::AssetNotVerified,
                    asset_id: Some(unverified.id)
                },
                Reason {
                    code: ReasonCode::AssetEncumbered,
                    asset_id: Some(unverified.id)
                },
                Reason {
                    code: ReasonCode::TermExceedsRight,
                    asset_id: Some(unverified.id)
                },
                Reason {
                    code: ReasonCode::CollateralKindNotAccepted,
                    asset_id: Some(unvalued.id)
                },
                Reason {
                    code: ReasonCode::NoValidValuation,
                    asset_id: Some(unvalued.id)
                },
                Reason {
                    code: ReasonCode::InsufficientCollateral,
                    asset_id: None
                },
            ]
        );
        assert_eq!(e.max_loanable.to_string(), "50000.00");
    }

    #[test]
    fn loanable_value_rounds_down_to_the_fen() {
        let e = evaluate(
            &request("10000", vec![land("333.33")]),
            &product("4", "0.3333"),
        );
        // 333.33 × 0.3333 = 111.098889
        assert_eq!(e.max_loanable.to_string(), "111.09");
        assert!(codes(&e).contains(&ReasonCode::InsufficientCollateral));
    }

    #[test]
    fn ranking_puts_eligible_then_cheap_then_headroom_first() {
        let assets = vec![land("1000000")];
        let cheap_ineligible = {
            let mut p = product("3.0", "0.7");
            p.purposes = vec![];
            p
        };
        let dear = product("5.0", "0.7");
        let cheap_small = product("4.0", "0.5");
        let cheap_big = product("4.0", "0.7");
        let r = request("300000", assets);
        let mut all: Vec<Evaluation> = [&cheap_ineligible, &dear, &cheap_small, &cheap_big]
            .iter()
            .map(|p| evaluate(&r, p))
            .collect();
        rank(&mut all);
        let order: Vec<Uuid> = all.iter().map(|e| e.product_id).collect();
        assert_eq!(
            order,
            vec![cheap_big.id, cheap_small.id, dear.id, cheap_ineligible.id]
        );
    }
}
