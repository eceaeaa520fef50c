//! The demo county's assets: the stories of DESIGN.md (北庄 chives, 南庄 land, the 郭家庄–卓子沟
//! greenhouses, cold storage, machinery, the 南永青 30/60/10 greenhouse project) and ordinary
//! land rights across many villages, in every verification state, most with a valuation valid
//! on the day the demo is loaded, some expired.

use std::collections::HashMap;

use chrono::{Duration, NaiveDate};
use entity::{
    AssetKind, EquityKind, HolderType, Money, Percentage, Quantity, ValuationMethod, Verification,
    asset, equity_entity,
};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

use super::county::Village;
use crate::assets::valuations::ValuationRequest;
use crate::assets::{self, CreateAssetRequest, Decision, VerificationRequest};
use crate::auth::Caller;
use crate::db;
use crate::equity::{self, CreateEntityRequest, ShareholdingRequest};
use crate::error::ApiError;

/// How a demo asset's valuation stands on the day of loading.
#[derive(Clone, Copy)]
enum Valued {
    No,
    Valid(i64),
    Expired(i64),
}

struct DemoAsset {
    village: String,
    kind: AssetKind,
    name: String,
    quantity: &'static str,
    unit: &'static str,
    certificate: Option<String>,
    term: Option<(NaiveDate, NaiveDate)>,
    description: &'static str,
    verification: Verification,
    note: Option<&'static str>,
    valued: Valued,
    head_count: Option<i32>,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

fn land(village: &str, name: &str, mu: &'static str, yuan: i64, n: usize) -> DemoAsset {
    DemoAsset {
        village: village.to_owned(),
        kind: AssetKind::LandManagementRight,
        name: name.to_owned(),
        quantity: mu,
        unit: "亩",
        certificate: Some(format!("晋(2020)绛县农村土地经营权第{n:04}号")),
        term: Some((date(2020, 1, 1), date(2039, 12, 31))),
        description: "",
        verification: Verification::Verified,
        note: None,
        valued: Valued::Valid(yuan),
        head_count: None,
    }
}

fn stories() -> Vec<DemoAsset> {
    vec![
        DemoAsset {
            description: "韭菜种植基地，年产韭菜约 30 万斤",
            ..land("北庄村", "北庄村韭菜种植基地土地经营权", "50", 400_000, 1)
        },
        land("南庄村", "南庄村集体土地经营权", "40", 350_000, 2),
        DemoAsset {
            village: "郭家庄村".into(),
            kind: AssetKind::ProductionFacility,
            name: "郭家庄—卓子沟日光温室群".into(),
            quantity: "14",
            unit: "座",
            certificate: None,
            term: None,
            description: "郭家庄村与卓子沟村共建，占地 80 亩，日光温室 14 座",
            verification: Verification::Verified,
            note: None,
            valued: Valued::Valid(2_000_000),
            head_count: None,
        },
        DemoAsset {
            village: "卓子沟村".into(),
            kind: AssetKind::ProductionFacility,
            name: "卓子沟村果蔬冷库".into(),
            quantity: "600",
            unit: "㎡",
            certificate: None,
            term: None,
            description: "保鲜冷库，库容 1500 吨",
            verification: Verification::Verified,
            note: None,
            valued: Valued::Expired(800_000),
            head_count: None,
        },
        DemoAsset {
            village: "南庄村".into(),
            kind: AssetKind::Machinery,
            name: "南庄村联合收割机".into(),
            quantity: "2",
            unit: "台",
            certificate: Some("晋M·农机12345".into()),
            term: None,
            description: "",
            verification: Verification::Pending,
            note: None,
            valued: Valued::No,
            head_count: None,
        },
        DemoAsset {
            village: "郭家庄村".into(),
            kind: AssetKind::Livestock,
            name: "郭家庄村肉牛养殖".into(),
            quantity: "120",
            unit: "头",
            certificate: None,
            term: None,
            description: "西门塔尔肉牛",
            verification: Verification::Pending,
            note: None,
            valued: Valued::No,
            head_count: Some(120),
        },
        DemoAsset {
            village: "北庄村".into(),
            kind: AssetKind::Building,
            name: "北庄村村委会旧址".into(),
            quantity: "420",
            unit: "㎡",
            certificate: Some("晋(2018)绛县不动产权第0088号".into()),
            term: None,
            description: "",
            verification: Verification::Rejected,
            note: Some("产权证明材料不全，请补充不动产权证照片"),
            valued: Valued::No,
            head_count: None,
        },
    ]
}

/// Ordinary land rights in every third village: four in six verified with a valid valuation,
/// one pending, one with its valuation expired.
fn ordinary(villages: &[Village]) -> Vec<DemoAsset> {
    const SIZES: [(&str, i64); 5] = [
        ("20", 160_000),
        ("35", 280_000),
        ("60", 480_000),
        ("80", 640_000),
        ("120", 960_000),
    ];
    villages
        .iter()
        .skip(2)
        .step_by(3)
        .enumerate()
        .map(|(k, v)| {
            let (mu, yuan) = SIZES[k % SIZES.len()];
            let mut asset = land(
                &v.name,
                &format!("{}集体土地经营权", v.name),
                mu,
                yuan,
                100 + k,
            );
            match k % 6 {
                4 => {
                    asset.verification = Verification::Pending;
                    asset.valued = Valued::No;
                }
                5 => asset.valued = Valued::Expired(yuan),
                _ => {}
            }
            asset
        })
        .collect()
}

pub struct Loaded {
    pub assets: u64,
}

/// Loads the demo assets of organizations that have none of that name yet, through the assets'
/// and equity operations: registered by the county, valued, then verified or rejected.
pub async fn load(
    db: &(impl ConnectionTrait + TransactionTrait),
    villages: &[Village],
    organizations: &HashMap<String, Uuid>,
    admin: &Caller,
) -> anyhow::Result<Loaded> {
    let by_name: HashMap<&str, &Village> = villages.iter().map(|v| (v.name.as_str(), v)).collect();
    let mut loaded = Loaded { assets: 0 };
    let mut wanted = stories();
    wanted.extend(ordinary(villages));
    for demo in wanted {
        let Some(village) = by_name.get(demo.village.as_str()) else {
            continue;
        };
        let Some(org) = organizations.get(&village.code).copied() else {
            continue;
        };
        let exists = asset::Entity::find()
            .filter(asset::Column::OrganizationId.eq(org))
            .filter(asset::Column::Name.eq(demo.name.as_str()))
            .one(db)
            .await?
            .is_some();
        if exists {
            continue;
        }
        let request = CreateAssetRequest {
            organization_id: Some(org),
            kind: demo.kind,
            name: demo.name.clone(),
            region_code: village.code.clone(),
            address: format!("{}{}", village.name, "村域内"),
            quantity: demo.quantity.parse::<Quantity>()?,
            unit: demo.unit.to_owned(),
            certificate_no: demo.certificate.clone(),
            head_count: demo.head_count,
            ear_tags: None,
            right_start: demo.term.map(|t| t.0),
            right_end: demo.term.map(|t| t.1),
            acquisition_cost: None,
            description: demo.description.to_owned(),
            shareholding_id: None,
        };
        register(
            db,
            admin,
            request,
            demo.valued,
            demo.verification,
            demo.note,
        )
        .await?;
        loaded.assets += 1;
    }
    loaded.assets += greenhouse_project(db, &by_name, organizations, admin).await?;
    Ok(loaded)
}

fn demo_error(what: &str) -> impl FnOnce(ApiError) -> anyhow::Error + '_ {
    move |err| anyhow::anyhow!("demo asset {what}: {err:?}")
}

/// Creates an asset, values it and decides its verification, as the county would.
async fn register(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
    request: CreateAssetRequest,
    valued: Valued,
    verification: Verification,
    note: Option<&str>,
) -> anyhow::Result<()> {
    let name = request.name.clone();
    let created = assets::ops::create(db, admin, request)
        .await
        .map_err(demo_error(&name))?;
    let asset = asset::Entity::find_by_id(created.id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo asset {name} vanished"))?;
    value(db, admin, &asset, valued).await?;
    let decision = match verification {
        Verification::Pending => return Ok(()),
        Verification::Verified => Decision::Verified,
        Verification::Rejected => Decision::Rejected,
    };
    let request = VerificationRequest {
        decision,
        note: note.map(str::to_owned),
    };
    assets::ops::verify(db, admin, asset, request)
        .await
        .map_err(demo_error(&name))?;
    Ok(())
}

async fn value(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
    asset: &asset::Model,
    valued: Valued,
) -> anyhow::Result<()> {
    let today = db::today();
    let (yuan, appraised, until) = match valued {
        Valued::No => return Ok(()),
        Valued::Valid(yuan) => (
            yuan,
            today - Duration::days(90),
            today + Duration::days(275),
        ),
        Valued::Expired(yuan) => (
            yuan,
            today - Duration::days(500),
            today - Duration::days(135),
        ),
    };
    let request = ValuationRequest {
        value: Money::from_fen(yuan * 100),
        method: ValuationMethod::Income,
        appraiser: "山西晋审资产评估有限公司".to_owned(),
        appraisal_date: appraised,
        valid_until: until,
    };
    assets::ops::add_valuation(db, admin, asset, request)
        .await
        .map_err(demo_error(&asset.name))?;
    Ok(())
}

/// 南永青村蔬菜大棚项目: collective 30 %, enterprise 60 %, households 10 %; the collective's
/// 30 % is registered as an equity asset.
async fn greenhouse_project(
    db: &(impl ConnectionTrait + TransactionTrait),
    villages: &HashMap<&str, &Village>,
    organizations: &HashMap<String, Uuid>,
    admin: &Caller,
) -> anyhow::Result<u64> {
    let Some(org) = villages
        .get("南永青村")
        .and_then(|v| organizations.get(&v.code))
        .copied()
    else {
        return Ok(0);
    };
    const NAME: &str = "南永青村蔬菜大棚项目";
    let exists = equity_entity::Entity::find()
        .filter(equity_entity::Column::OrganizationId.eq(org))
        .filter(equity_entity::Column::Name.eq(NAME))
        .one(db)
        .await?
        .is_some();
    if exists {
        return Ok(0);
    }
    let request = CreateEntityRequest {
        organization_id: Some(org),
        kind: EquityKind::Project,
        name: NAME.to_owned(),
        uscc: None,
    };
    let entity = equity::ops::create_entity(db, admin, request)
        .await
        .map_err(demo_error(NAME))?;
    let mut collective = None;
    for (holder, holder_type, bp) in [
        ("南永青村股份经济合作社", HolderType::Collective, 3_000),
        ("绛县绿源农业开发有限公司", HolderType::Enterprise, 6_000),
        ("参股农户（32 户）", HolderType::Households, 1_000),
    ] {
        let request = ShareholdingRequest {
            holder_name: holder.to_owned(),
            holder_type,
            percentage: Percentage::from_scaled(bp),
        };
        let share = equity::ops::add_shareholding(db, admin, &entity, request)
            .await
            .map_err(demo_error(holder))?;
        if holder_type == HolderType::Collective {
            collective = Some(share.id);
        }
    }
    let region = villages
        .get("南永青村")
        .map(|v| v.code.clone())
        .unwrap_or_default();
    let request = CreateAssetRequest {
        organization_id: Some(org),
        kind: AssetKind::Equity,
        name: "南永青村蔬菜大棚项目 30% 股权".to_owned(),
        region_code: region,
        address: "南永青村蔬菜大棚园区".to_owned(),
        quantity: "30".parse::<Quantity>()?,
        unit: "%".to_owned(),
        certificate_no: Some("南永青股权证第001号".to_owned()),
        head_count: None,
        ear_tags: None,
        right_start: None,
        right_end: None,
        acquisition_cost: None,
        description: "村集体持股 30%，企业 60%，农户 10%".to_owned(),
        shareholding_id: collective,
    };
    register(
        db,
        admin,
        request,
        Valued::Valid(600_000),
        Verification::Verified,
        None,
    )
    .await?;
    Ok(1)
}
