//! The demo banks' loan products, and applications in draft and submitted states.

use std::collections::HashMap;

use chrono::Duration;
use entity::{
    AssetKind, DocumentKind, LoanPurpose, Money, ProductAction, ProductStatus, Rate, RejectReason,
    RepaymentMethod, ValuationMethod, application_asset, asset, loan_application, loan_product,
    user,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::county::Village;
use crate::applications::review::{
    ApproveRequest, RecommendRequest, RejectRequest, RequestInfoRequest,
};
use crate::applications::servicing::{DisburseRequest, RepaymentRequest};
use crate::applications::{DraftRequest, ops};
use crate::assets;
use crate::assets::valuations::ValuationRequest;
use crate::auth::Caller;
use crate::db;
use crate::error::ApiError;
use crate::products::{self, Collateral, Terms};
use crate::storage::Store;

struct DemoProduct {
    bank: &'static str,
    name: &'static str,
    collateral: &'static [(AssetKind, &'static str)],
    amount: (i64, i64),
    term: (i32, i32),
    rate: &'static str,
    methods: &'static [RepaymentMethod],
    purposes: &'static [LoanPurpose],
    status: ProductStatus,
}

use AssetKind::*;
use LoanPurpose::*;
use RepaymentMethod::*;

const PRODUCTS: [DemoProduct; 7] = [
    DemoProduct {
        bank: "JXRCB",
        name: "农村土地经营权抵押贷款",
        collateral: &[(LandManagementRight, "0.7"), (ForestRight, "0.6")],
        amount: (10_000, 5_000_000),
        term: (6, 60),
        rate: "4.35",
        methods: &[Annuity, EqualPrincipal],
        purposes: &[Planting, WorkingCapital, FacilityConstruction],
        status: ProductStatus::Active,
    },
    DemoProduct {
        bank: "JXRCB",
        name: "设施农业抵押贷款",
        collateral: &[
            (ProductionFacility, "0.5"),
            (ConstructionLandUseRight, "0.6"),
            (Building, "0.5"),
        ],
        amount: (50_000, 10_000_000),
        term: (12, 96),
        rate: "4.9",
        methods: &[Annuity, EqualPrincipal, InterestOnly],
        purposes: &[FacilityConstruction, Processing, Planting],
        status: ProductStatus::Active,
    },
    DemoProduct {
        bank: "JXRCB",
        name: "集体股权质押贷款",
        collateral: &[(Equity, "0.4")],
        amount: (50_000, 3_000_000),
        term: (12, 36),
        rate: "5.2",
        methods: &[InterestOnly, Annuity],
        purposes: &[WorkingCapital, Processing, FacilityConstruction],
        status: ProductStatus::Active,
    },
    DemoProduct {
        bank: "ABCJX",
        name: "惠农e贷·土地经营权",
        collateral: &[(LandManagementRight, "0.65")],
        amount: (10_000, 3_000_000),
        term: (6, 36),
        rate: "4.05",
        methods: &[Annuity],
        purposes: &[Planting, Breeding],
        status: ProductStatus::Active,
    },
    DemoProduct {
        bank: "ABCJX",
        name: "活体畜禽及农机抵押贷款",
        collateral: &[(Livestock, "0.4"), (Machinery, "0.5")],
        amount: (20_000, 2_000_000),
        term: (6, 24),
        rate: "5.5",
        methods: &[EqualPrincipal, InterestOnly],
        purposes: &[Breeding, WorkingCapital],
        status: ProductStatus::Active,
    },
    DemoProduct {
        bank: "ABCJX",
        name: "冷链仓储设施贷（拟推出）",
        collateral: &[(ProductionFacility, "0.5")],
        amount: (100_000, 5_000_000),
        term: (12, 60),
        rate: "4.6",
        methods: &[Annuity],
        purposes: &[FacilityConstruction, Processing],
        status: ProductStatus::Draft,
    },
    DemoProduct {
        bank: "JXRCB",
        name: "2024年春耕专项贷（已下架）",
        collateral: &[(LandManagementRight, "0.6")],
        amount: (10_000, 1_000_000),
        term: (6, 12),
        rate: "3.85",
        methods: &[InterestOnly],
        purposes: &[Planting],
        status: ProductStatus::Retired,
    },
];

/// Inserts the products a bank does not have yet (by name), as drafts moved on to their demo
/// state through the products' own transitions; returns name → id of all.
pub async fn products(
    db: &(impl ConnectionTrait + TransactionTrait),
    banks: &HashMap<&str, Uuid>,
    admin: &Caller,
) -> anyhow::Result<(u64, HashMap<&'static str, Uuid>)> {
    let mut created = 0;
    let mut ids = HashMap::new();
    for demo in &PRODUCTS {
        let Some(bank_id) = banks.get(demo.bank).copied() else {
            continue;
        };
        let existing = loan_product::Entity::find()
            .filter(loan_product::Column::BankId.eq(bank_id))
            .filter(loan_product::Column::Name.eq(demo.name))
            .one(db)
            .await?;
        if let Some(p) = existing {
            ids.insert(demo.name, p.id);
            continue;
        }
        let terms = Terms {
            name: demo.name.to_owned(),
            collateral: demo
                .collateral
                .iter()
                .map(|(kind, ltv)| {
                    Ok(Collateral {
                        kind: *kind,
                        max_ltv: ltv.parse()?,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            amount_min: Money::from_fen(demo.amount.0 * 100),
            amount_max: Money::from_fen(demo.amount.1 * 100),
            term_min: demo.term.0,
            term_max: demo.term.1,
            annual_rate: demo.rate.parse()?,
            repayment_methods: demo.methods.to_vec(),
            purposes: demo.purposes.to_vec(),
        };
        let id = products::ops::create(db, admin.id(), bank_id, terms)
            .await
            .map_err(|err| anyhow::anyhow!("demo product {}: {err:?}", demo.name))?
            .id;
        let moves: &[ProductAction] = match demo.status {
            ProductStatus::Draft => &[],
            ProductStatus::Active => &[ProductAction::Activate],
            ProductStatus::Retired => &[ProductAction::Activate, ProductAction::Retire],
        };
        for action in moves {
            let current = loan_product::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo product {} vanished", demo.name))?;
            products::ops::move_product(db, admin, &current, *action)
                .await
                .map_err(|err| anyhow::anyhow!("demo product {}: {err:?}", demo.name))?;
        }
        ids.insert(demo.name, id);
        created += 1;
    }
    Ok((created, ids))
}

/// Which demo asset an application pledges: a story asset by name, or the k-th ordinary land
/// right (`assets::ordinary`; k % 6 of 0–3 are verified and validly valued).
#[derive(Clone, Copy)]
enum Pledge {
    Named(&'static str),
    Ordinary(usize),
}

/// How far along the bank's side a demo application is taken, each step through the same
/// operation the API uses.
#[derive(Clone, Copy)]
enum Stage {
    Draft,
    Submitted,
    UnderReview,
    InfoRequested,
    Recommended,
    Approved,
    /// Disbursed `days_ago`, the first `paid` periods repaid on their due dates.
    Disbursed {
        days_ago: i64,
        paid: usize,
    },
    /// Disbursed, one period repaid, the rest prepaid today.
    Settled,
    /// Disbursed, then re-appraised by the bank's officer at `value` yuan.
    ShortOfCover {
        value: i64,
    },
    Rejected(RejectReason, &'static str),
    Withdrawn,
}

struct DemoApplication {
    pledge: Pledge,
    product: &'static str,
    bank: &'static str,
    amount: i64,
    term: i32,
    purpose: LoanPurpose,
    method: RepaymentMethod,
    stage: Stage,
}

const APPLICATIONS: [DemoApplication; 11] = [
    DemoApplication {
        pledge: Pledge::Named("北庄村韭菜种植基地土地经营权"),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 250_000,
        term: 36,
        purpose: Planting,
        method: Annuity,
        stage: Stage::UnderReview,
    },
    DemoApplication {
        pledge: Pledge::Named("郭家庄—卓子沟日光温室群"),
        product: "设施农业抵押贷款",
        bank: "JXRCB",
        amount: 900_000,
        term: 60,
        purpose: FacilityConstruction,
        method: EqualPrincipal,
        stage: Stage::Disbursed {
            days_ago: 100,
            paid: 2,
        },
    },
    DemoApplication {
        pledge: Pledge::Named("南庄村集体土地经营权"),
        product: "惠农e贷·土地经营权",
        bank: "ABCJX",
        amount: 200_000,
        term: 24,
        purpose: Planting,
        method: Annuity,
        stage: Stage::Recommended,
    },
    DemoApplication {
        pledge: Pledge::Named("南永青村蔬菜大棚项目 30% 股权"),
        product: "集体股权质押贷款",
        bank: "JXRCB",
        amount: 200_000,
        term: 24,
        purpose: WorkingCapital,
        method: InterestOnly,
        stage: Stage::Draft,
    },
    DemoApplication {
        pledge: Pledge::Ordinary(0),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 100_000,
        term: 24,
        purpose: Planting,
        method: Annuity,
        stage: Stage::Approved,
    },
    DemoApplication {
        pledge: Pledge::Ordinary(1),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 150_000,
        term: 12,
        purpose: Planting,
        method: EqualPrincipal,
        stage: Stage::Settled,
    },
    DemoApplication {
        pledge: Pledge::Ordinary(2),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 300_000,
        term: 36,
        purpose: WorkingCapital,
        method: Annuity,
        stage: Stage::ShortOfCover { value: 300_000 },
    },
    DemoApplication {
        pledge: Pledge::Ordinary(3),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 400_000,
        term: 36,
        purpose: Planting,
        method: Annuity,
        stage: Stage::Rejected(
            RejectReason::RepaymentCapacity,
            "近三年集体经营收入偏低，还款来源不足",
        ),
    },
    DemoApplication {
        pledge: Pledge::Ordinary(6),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 150_000,
        term: 24,
        purpose: Planting,
        method: Annuity,
        stage: Stage::Submitted,
    },
    DemoApplication {
        pledge: Pledge::Ordinary(7),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 200_000,
        term: 24,
        purpose: Planting,
        method: Annuity,
        stage: Stage::InfoRequested,
    },
    DemoApplication {
        pledge: Pledge::Ordinary(9),
        product: "农村土地经营权抵押贷款",
        bank: "JXRCB",
        amount: 500_000,
        term: 36,
        purpose: Planting,
        method: Annuity,
        stage: Stage::Withdrawn,
    },
];

/// The demo banks' loan officer and approver, by bank code.
const STAFF: [(&str, &str, &str); 2] = [
    ("JXRCB", "13800138020", "13800138030"),
    ("ABCJX", "13800138021", "13800138031"),
];

/// A one-page PDF standing in for a scanned assembly resolution.
const RESOLUTION_PDF: &[u8] =
    b"%PDF-1.4\n% demo: villagers' representative assembly resolution\n%%EOF\n";

/// Applications for demo assets not yet named in any application, each taken to its stage
/// through the operations: the county's admin files them for the village, the bank's demo
/// officer and approver review, disburse and collect.
pub async fn applications(
    db: &(impl ConnectionTrait + TransactionTrait),
    store: &Store,
    villages: &[Village],
    products: &HashMap<&'static str, Uuid>,
    actor: &Caller,
) -> anyhow::Result<u64> {
    let mut created = 0;
    let today = db::today();
    for demo in &APPLICATIONS {
        let name = match demo.pledge {
            Pledge::Named(name) => name.to_owned(),
            Pledge::Ordinary(k) => match villages.iter().skip(2).step_by(3).nth(k) {
                Some(v) => format!("{}集体土地经营权", v.name),
                None => continue,
            },
        };
        let Some(asset) = asset::Entity::find()
            .filter(asset::Column::Name.eq(name.as_str()))
            .one(db)
            .await?
        else {
            continue;
        };
        let already = application_asset::Entity::find()
            .filter(application_asset::Column::AssetId.eq(asset.id))
            .one(db)
            .await?
            .is_some();
        let Some(product_id) = products.get(demo.product).copied() else {
            continue;
        };
        let product = loan_product::Entity::find_by_id(product_id).one(db).await?;
        if already || product.is_none() {
            continue;
        }
        let failed = |what: &'static str| {
            let name = name.clone();
            move |err: ApiError| anyhow::anyhow!("demo {what} for {name}: {err:?}")
        };
        let document = assets::ops::store_document(
            db,
            store,
            actor,
            &asset,
            DocumentKind::AssemblyResolution,
            "村民代表大会决议.pdf".to_owned(),
            RESOLUTION_PDF.to_vec(),
        )
        .await
        .map_err(failed("resolution"))?;
        let request = DraftRequest {
            amount: Some(Money::from_fen(demo.amount * 100)),
            term_months: Some(demo.term),
            purpose: Some(demo.purpose),
            repayment_method: Some(demo.method),
            asset_ids: Some(vec![asset.id]),
            product_id: Some(product_id),
            resolution_date: Some(today - Duration::days(20)),
            resolution_document_id: Some(document.id),
        };
        let draft = ops::create_draft(db, actor, asset.organization_id, request)
            .await
            .map_err(failed("application"))?;
        created += 1;
        if matches!(demo.stage, Stage::Draft) {
            continue;
        }
        let mut loan = ops::submit(db, actor, draft.id)
            .await
            .map_err(failed("submission"))?;
        let Some((officer, approver)) = staff(db, demo.bank).await? else {
            // A configured admin took a demo mobile: the bank's side is left out.
            continue;
        };
        match demo.stage {
            Stage::Draft | Stage::Submitted => continue,
            Stage::Withdrawn => {
                ops::withdraw(db, actor, loan.id)
                    .await
                    .map_err(failed("withdrawal"))?;
                continue;
            }
            Stage::Rejected(reason_code, text) => {
                let request = RejectRequest {
                    reason_code,
                    text: text.to_owned(),
                };
                ops::reject(db, &approver, loan, request)
                    .await
                    .map_err(failed("rejection"))?;
                continue;
            }
            _ => {}
        }
        loan = ops::claim(db, &officer, loan)
            .await
            .map_err(failed("claim"))?;
        match demo.stage {
            Stage::UnderReview => continue,
            Stage::InfoRequested => {
                let request = RequestInfoRequest {
                    message: "请补充近两年土地流转合同及村集体收支明细".to_owned(),
                };
                ops::request_info(db, &officer, loan, request)
                    .await
                    .map_err(failed("request for information"))?;
                continue;
            }
            _ => {}
        }
        let rate = product.map_or(Rate::from_scaled(0), |p| p.annual_rate);
        let recommendation = RecommendRequest {
            amount: Money::from_fen(demo.amount * 100),
            rate,
            term_months: demo.term,
            repayment_method: demo.method,
            opinion: "经营稳定，抵押物权属清晰，建议按申请金额发放".to_owned(),
        };
        loan = ops::recommend(db, &officer, loan, recommendation)
            .await
            .map_err(failed("recommendation"))?;
        if matches!(demo.stage, Stage::Recommended) {
            continue;
        }
        let approval = ApproveRequest {
            amount: None,
            opinion: "同意".to_owned(),
        };
        loan = ops::approve(db, &approver, loan, approval)
            .await
            .map_err(failed("approval"))?;
        let days_ago = match demo.stage {
            Stage::Approved => continue,
            Stage::Disbursed { days_ago, .. } => days_ago,
            Stage::Settled => 70,
            _ => 30,
        };
        let disbursement = DisburseRequest {
            contract_no: format!("JX-HT-{}", loan.reference),
            lien_registration_no: format!("晋(2026)绛县不动产证明第{}号", &loan.reference[8..]),
            amount: Money::from_fen(demo.amount * 100),
            date: today - Duration::days(days_ago),
        };
        loan = ops::disburse(db, &approver, loan, disbursement)
            .await
            .map_err(failed("disbursement"))?;
        match demo.stage {
            Stage::Disbursed { paid, .. } => {
                for period in ops::periods_of(db, loan.id).await?.into_iter().take(paid) {
                    repay(db, &officer, loan.id, period.due_date, period.unpaid())
                        .await
                        .map_err(failed("repayment"))?;
                }
            }
            Stage::Settled => {
                let first = ops::periods_of(db, loan.id).await?.into_iter().next();
                if let Some(first) = first {
                    repay(db, &officer, loan.id, first.due_date, first.unpaid())
                        .await
                        .map_err(failed("repayment"))?;
                }
                let owed = crate::repayment::owed_on(&ops::periods_of(db, loan.id).await?, today);
                repay(db, &officer, loan.id, today, owed)
                    .await
                    .map_err(failed("settlement"))?;
            }
            Stage::ShortOfCover { value } => {
                let appraisal = ValuationRequest {
                    value: Money::from_fen(value * 100),
                    method: ValuationMethod::Market,
                    appraiser: "绛县农商银行风险管理部".to_owned(),
                    appraisal_date: today,
                    valid_until: today + Duration::days(365),
                };
                assets::ops::add_valuation(db, &officer, &asset, appraisal)
                    .await
                    .map_err(failed("re-appraisal"))?;
            }
            _ => {}
        }
    }
    Ok(created)
}

/// Records a repayment of `fen` on `date`, reading the loan as it is now.
async fn repay(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    loan_id: Uuid,
    date: chrono::NaiveDate,
    fen: i64,
) -> Result<(), ApiError> {
    let loan = loan_application::Entity::find_by_id(loan_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let request = RepaymentRequest {
        date,
        amount: Money::from_fen(fen),
    };
    ops::record_repayment(db, actor, loan, request).await?;
    Ok(())
}

/// The demo officer and approver of a bank, if both exist.
async fn staff(db: &impl ConnectionTrait, bank: &str) -> anyhow::Result<Option<(Caller, Caller)>> {
    let Some((_, officer, approver)) = STAFF.iter().find(|(code, _, _)| *code == bank) else {
        return Ok(None);
    };
    let find = |mobile: &'static str| {
        user::Entity::find()
            .filter(user::Column::Mobile.eq(mobile))
            .one(db)
    };
    Ok(match (find(officer).await?, find(approver).await?) {
        (Some(officer), Some(approver)) => {
            Some((Caller::acting_as(officer), Caller::acting_as(approver)))
        }
        _ => None,
    })
}
