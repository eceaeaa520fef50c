//! The demo banks' loan products, and applications in draft and submitted states.

use std::collections::HashMap;

use chrono::Duration;
use entity::{
    AssetKind, DocumentKind, LoanPurpose, Money, ProductAction, ProductStatus, RepaymentMethod,
    application_asset, asset, loan_product,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use crate::applications::{DraftRequest, ops};
use crate::assets;
use crate::auth::Caller;
use crate::db;
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

struct DemoApplication {
    asset: &'static str,
    product: &'static str,
    amount: i64,
    term: i32,
    purpose: LoanPurpose,
    method: RepaymentMethod,
    submitted: bool,
}

const APPLICATIONS: [DemoApplication; 4] = [
    DemoApplication {
        asset: "北庄村韭菜种植基地土地经营权",
        product: "农村土地经营权抵押贷款",
        amount: 250_000,
        term: 36,
        purpose: Planting,
        method: Annuity,
        submitted: true,
    },
    DemoApplication {
        asset: "郭家庄—卓子沟日光温室群",
        product: "设施农业抵押贷款",
        amount: 900_000,
        term: 60,
        purpose: FacilityConstruction,
        method: EqualPrincipal,
        submitted: true,
    },
    DemoApplication {
        asset: "南庄村集体土地经营权",
        product: "惠农e贷·土地经营权",
        amount: 200_000,
        term: 24,
        purpose: Planting,
        method: Annuity,
        submitted: false,
    },
    DemoApplication {
        asset: "南永青村蔬菜大棚项目 30% 股权",
        product: "集体股权质押贷款",
        amount: 200_000,
        term: 24,
        purpose: WorkingCapital,
        method: InterestOnly,
        submitted: false,
    },
];

/// A one-page PDF standing in for a scanned assembly resolution.
const RESOLUTION_PDF: &[u8] =
    b"%PDF-1.4\n% demo: villagers' representative assembly resolution\n%%EOF\n";

/// Applications for demo assets not yet named in any application.
pub async fn applications(
    db: &(impl ConnectionTrait + TransactionTrait),
    store: &Store,
    products: &HashMap<&'static str, Uuid>,
    actor: &Caller,
) -> anyhow::Result<u64> {
    let mut created = 0;
    let today = db::today();
    for demo in &APPLICATIONS {
        let Some(asset) = asset::Entity::find()
            .filter(asset::Column::Name.eq(demo.asset))
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
        .map_err(|err| anyhow::anyhow!("demo resolution for {}: {err:?}", demo.asset))?;
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
            .map_err(|err| anyhow::anyhow!("demo application for {}: {err:?}", demo.asset))?;
        if demo.submitted {
            ops::submit(db, actor, draft.id)
                .await
                .map_err(|err| anyhow::anyhow!("demo submission for {}: {err:?}", demo.asset))?;
        }
        created += 1;
    }
    Ok(created)
}
