//! The demo county (`serve --demo`, `rural-collateral demo`): Jiang County's regions, 133
//! collectives with their 2021 incomes, two banks with loan products, a user of every role,
//! assets in every state of verification, and applications in draft and submitted states.
//! Loading is
//! idempotent: what exists (by code, USCC or mobile) is left as it is.

mod assets;
mod county;
mod loans;

use std::collections::HashMap;

use entity::{Money, Role, bank, bank_branch, organization, organization_income, region};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

pub use county::{TOWNSHIPS, villages};

use crate::auth::{Caller, password};
use crate::banks::{self, CreateBankRequest, CreateBranchRequest, ServedRegionsRequest};
use crate::domain::{Mobile, RegionCode};
use crate::error::ApiError;
use crate::organizations::{self, ImportSummary, IncomeRequest};
use crate::regions;
use crate::storage::Store;
use crate::users::{self, Binding, NewUser};

/// The password of every demo user (documented in `docs/demo.md`).
pub const DEMO_PASSWORD: &str = "Demo-2026";

struct DemoBank {
    code: &'static str,
    name: &'static str,
    branches: &'static [(&'static str, &'static str)],
    serves: &'static [&'static str],
}

const BANKS: [DemoBank; 2] = [
    DemoBank {
        code: "JXRCB",
        name: "山西绛县农村商业银行股份有限公司",
        branches: &[
            ("营业部", "140826100000"),
            ("横水支行", "140826101000"),
            ("陈村支行", "140826102000"),
            ("卫庄支行", "140826103000"),
            ("南樊支行", "140826105000"),
        ],
        serves: &["140826000000"],
    },
    DemoBank {
        code: "ABCJX",
        name: "中国农业银行股份有限公司绛县支行",
        branches: &[
            ("城关营业室", "140826100000"),
            ("么里分理处", "140826104000"),
        ],
        serves: &[
            "140826100000",
            "140826101000",
            "140826103000",
            "140826104000",
            "140826107000",
        ],
    },
];

enum Tenant {
    None,
    /// The collective of the village with this name.
    Village(&'static str),
    /// A bank by code, and optionally its branch by name.
    Bank(&'static str, Option<&'static str>),
}

struct DemoUser {
    mobile: &'static str,
    name: &'static str,
    role: Role,
    tenant: Tenant,
    approval_limit: Option<Money>,
}

const USERS: [DemoUser; 9] = [
    DemoUser {
        mobile: "13800138000",
        name: "县农业农村局 张科长",
        role: Role::Admin,
        tenant: Tenant::None,
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138001",
        name: "县审计局 李审计",
        role: Role::Supervisor,
        tenant: Tenant::None,
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138010",
        name: "北庄村 王会计",
        role: Role::OrgOperator,
        tenant: Tenant::Village("北庄村"),
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138011",
        name: "南庄村 赵会计",
        role: Role::OrgOperator,
        tenant: Tenant::Village("南庄村"),
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138012",
        name: "郭家庄村 郭会计",
        role: Role::OrgOperator,
        tenant: Tenant::Village("郭家庄村"),
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138020",
        name: "农商银行 陈客户经理",
        role: Role::BankOfficer,
        tenant: Tenant::Bank("JXRCB", Some("营业部")),
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138021",
        name: "农业银行 刘客户经理",
        role: Role::BankOfficer,
        tenant: Tenant::Bank("ABCJX", None),
        approval_limit: None,
    },
    DemoUser {
        mobile: "13800138030",
        name: "农商银行 孙行长",
        role: Role::BankApprover,
        tenant: Tenant::Bank("JXRCB", None),
        approval_limit: Some(Money::from_fen(300_000_000)),
    },
    DemoUser {
        mobile: "13800138031",
        name: "农业银行 周行长",
        role: Role::BankApprover,
        tenant: Tenant::Bank("ABCJX", None),
        approval_limit: Some(Money::from_fen(500_000_000)),
    },
];

#[derive(Debug, Default)]
pub struct DemoSummary {
    pub regions: u64,
    pub organizations: u64,
    pub incomes: u64,
    pub banks: u64,
    pub users: u64,
    pub assets: u64,
    pub products: u64,
    pub applications: u64,
}

/// Loads the demo county; safe to run again on a database that has it (or parts of it).
/// No demo user is created on `reserved_mobile` (the configured admin's). Everything goes through
/// the operations the API uses, acting as the county's admin, so the demo holds no state the API
/// could not reach and leaves the same audit trail.
pub async fn load(
    db: &DatabaseConnection,
    store: &Store,
    reserved_mobile: Option<&str>,
) -> anyhow::Result<DemoSummary> {
    let villages = villages();
    let txn = db.begin().await?;
    let mut summary = DemoSummary::default();
    let hash = password::hash(SecretString::from(DEMO_PASSWORD)).await?;
    let no_tenants = (HashMap::new(), HashMap::new());
    // The bureau's own staff first: the admin is who loads the rest.
    for user in USERS.iter().filter(|u| matches!(u.tenant, Tenant::None)) {
        summary.users +=
            ensure_user(&txn, user, &hash, reserved_mobile, &villages, &no_tenants).await?;
    }
    let admin = Caller::acting_as(
        entity::user::Entity::find()
            .filter(entity::user::Column::Role.eq(Role::Admin))
            .one(&txn)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the demo needs an admin to load it"))?,
    );
    summary.regions = ensure_regions(&txn, &admin).await?;
    let import = import_collectives(&txn, &admin, &villages).await?;
    summary.regions += import.villages_created as u64;
    summary.organizations = import.organizations as u64;
    summary.incomes = import.incomes as u64;

    let ids: HashMap<String, Uuid> = organization::Entity::find()
        .filter(organization::Column::Uscc.is_in(villages.iter().map(|v| county::uscc(&v.code))))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.region_code, o.id))
        .collect();
    summary.incomes += ensure_2022_incomes(&txn, &admin, &villages, &ids).await?;

    let mut bank_ids = HashMap::new();
    for demo in &BANKS {
        let (id, created) = ensure_bank(&txn, &admin, demo).await?;
        summary.banks += u64::from(created);
        bank_ids.insert(demo.code, id);
    }
    let tenants = (ids, bank_ids);
    for user in USERS.iter().filter(|u| !matches!(u.tenant, Tenant::None)) {
        summary.users +=
            ensure_user(&txn, user, &hash, reserved_mobile, &villages, &tenants).await?;
    }
    let (ids, bank_ids) = tenants;
    summary.assets = assets::load(&txn, &villages, &ids, &admin).await?.assets;
    let (products, product_ids) = loans::products(&txn, &bank_ids, &admin).await?;
    summary.products = products;
    summary.applications =
        loans::applications(&txn, store, &villages, &product_ids, &admin).await?;
    txn.commit().await?;
    Ok(summary)
}

fn demo_error(what: impl std::fmt::Display) -> impl FnOnce(ApiError) -> anyhow::Error {
    move |err| anyhow::anyhow!("demo {what}: {err:?}")
}

/// Creates a demo user unless one with that mobile exists (or it is the configured admin's).
async fn ensure_user(
    db: &(impl ConnectionTrait + TransactionTrait),
    user: &DemoUser,
    hash: &str,
    reserved_mobile: Option<&str>,
    villages: &[county::Village],
    (organizations, banks): &(HashMap<String, Uuid>, HashMap<&str, Uuid>),
) -> anyhow::Result<u64> {
    // Checked first: on PostgreSQL a failed insert would abort the whole transaction.
    let exists = entity::user::Entity::find()
        .filter(entity::user::Column::Mobile.eq(user.mobile))
        .one(db)
        .await?
        .is_some();
    if exists || reserved_mobile.map(str::trim) == Some(user.mobile) {
        return Ok(0);
    }
    let binding = binding_of(db, user, villages, organizations, banks).await?;
    let new = NewUser {
        mobile: Mobile::parse(user.mobile).map_err(|e| anyhow::anyhow!("demo mobile: {e}"))?,
        display_name: user.name.to_owned(),
        role: user.role,
        binding,
        password_hash: hash.to_owned(),
        // The demo's shared password is documented; nobody is to be stopped at sign-in.
        must_change_password: false,
    };
    users::ops::register(db, None, new)
        .await
        .map_err(demo_error(user.mobile))?;
    Ok(1)
}

/// The province, city, county and townships, each created unless it exists.
async fn ensure_regions(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
) -> anyhow::Result<u64> {
    let mut regions = vec![county::PROVINCE, county::CITY, county::COUNTY];
    regions.extend(TOWNSHIPS.iter().map(|(code, name, _)| (*code, *name)));
    let mut created = 0;
    // Parents come before children.
    for (code, name) in regions {
        let code =
            RegionCode::parse(code).map_err(|e| anyhow::anyhow!("demo region {code}: {e}"))?;
        if region::Entity::find_by_id(code.as_str())
            .one(db)
            .await?
            .is_none()
        {
            regions::ops::create(db, admin, &code, name)
                .await
                .map_err(demo_error(code.as_str()))?;
            created += 1;
        }
    }
    Ok(created)
}

/// The villages' collectives with their 2021 incomes, through the bureau's CSV import: every
/// village that has no organization yet.
async fn import_collectives(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
    villages: &[county::Village],
) -> anyhow::Result<ImportSummary> {
    let taken: std::collections::HashSet<String> = organization::Entity::find()
        .select_only()
        .column(organization::Column::RegionCode)
        .filter(organization::Column::RegionCode.is_in(villages.iter().map(|v| v.code.as_str())))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut file = csv::Writer::from_writer(Vec::new());
    file.write_record(IMPORT_COLUMNS)?;
    let mut rows = 0;
    for v in villages.iter().filter(|v| !taken.contains(&v.code)) {
        file.write_record([
            format!("{}股份经济合作社", v.name),
            county::uscc(&v.code),
            v.code.clone(),
            v.name.clone(),
            v.legal_rep_name.clone(),
            v.legal_rep_mobile.clone(),
            v.member_households.to_string(),
            "2021".to_owned(),
            v.income_2021.to_string(),
        ])?;
        rows += 1;
    }
    if rows == 0 {
        return Ok(ImportSummary::default());
    }
    let bytes = file
        .into_inner()
        .map_err(|e| anyhow::anyhow!("demo CSV: {e}"))?;
    organizations::ops::import(db, admin, &bytes)
        .await
        .map_err(demo_error("import"))
}

const IMPORT_COLUMNS: [&str; 9] = [
    "name",
    "uscc",
    "village_code",
    "village_name",
    "legal_rep_name",
    "legal_rep_mobile",
    "member_households",
    "income_year",
    "income",
];

/// 2022 grew by 6 %, in whole hundreds of yuan, so year-on-year screens have data.
async fn ensure_2022_incomes(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
    villages: &[county::Village],
    organizations: &HashMap<String, Uuid>,
) -> anyhow::Result<u64> {
    let recorded: std::collections::HashSet<Uuid> = organization_income::Entity::find()
        .select_only()
        .column(organization_income::Column::OrganizationId)
        .filter(organization_income::Column::Year.eq(2022))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut written = 0;
    for v in villages {
        let Some(id) = organizations.get(&v.code) else {
            continue;
        };
        if recorded.contains(id) {
            continue;
        }
        let organization = organization::Entity::find_by_id(*id)
            .one(db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo organization {} vanished", v.code))?;
        let amount = Money::from_fen(v.income_2021.fen() * 106 / 100 / 10_000 * 10_000);
        organizations::ops::set_income(db, admin, &organization, 2022, IncomeRequest { amount })
            .await
            .map_err(demo_error(&v.code))?;
        written += 1;
    }
    Ok(written)
}

/// A demo bank with its branches and served regions: what is missing is added through the
/// banks' operations (served regions are always ensured, also for a bank that existed before:
/// the demo's submitted applications must pass the same matching rules as any other).
async fn ensure_bank(
    db: &(impl ConnectionTrait + TransactionTrait),
    admin: &Caller,
    demo: &DemoBank,
) -> anyhow::Result<(Uuid, bool)> {
    let existing = bank::Entity::find()
        .filter(bank::Column::Code.eq(demo.code))
        .one(db)
        .await?;
    let (bank, created) = match existing {
        Some(bank) => (bank, false),
        None => {
            let request = CreateBankRequest {
                name: demo.name.to_owned(),
                code: demo.code.to_owned(),
            };
            let id = banks::ops::create(db, admin, request)
                .await
                .map_err(demo_error(demo.code))?
                .id;
            let bank = bank::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo bank {} vanished", demo.code))?;
            (bank, true)
        }
    };
    let branches: Vec<String> = bank_branch::Entity::find()
        .select_only()
        .column(bank_branch::Column::Name)
        .filter(bank_branch::Column::BankId.eq(bank.id))
        .into_tuple()
        .all(db)
        .await?;
    for (name, region) in demo.branches {
        if branches.iter().any(|b| b == name) {
            continue;
        }
        let request = CreateBranchRequest {
            name: (*name).to_owned(),
            region_code: Some((*region).to_owned()),
        };
        banks::ops::add_branch(db, admin, &bank, request)
            .await
            .map_err(demo_error(name))?;
    }
    let mut served = banks::served_codes(db, bank.id)
        .await
        .map_err(demo_error(demo.code))?
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>();
    let missing: Vec<String> = demo
        .serves
        .iter()
        .filter(|code| !served.iter().any(|s| s == *code))
        .map(|code| (*code).to_owned())
        .collect();
    if !missing.is_empty() {
        served.extend(missing);
        let id = bank.id;
        banks::ops::set_regions(
            db,
            admin,
            bank,
            ServedRegionsRequest {
                region_codes: served,
            },
        )
        .await
        .map_err(demo_error(demo.code))?;
        return Ok((id, created));
    }
    Ok((bank.id, created))
}

async fn binding_of(
    db: &impl ConnectionTrait,
    user: &DemoUser,
    villages: &[county::Village],
    organizations: &HashMap<String, Uuid>,
    banks: &HashMap<&str, Uuid>,
) -> anyhow::Result<Binding> {
    let mut binding = Binding {
        approval_limit: user.approval_limit,
        ..Default::default()
    };
    match user.tenant {
        Tenant::None => {}
        Tenant::Village(name) => {
            binding.organization_id = villages
                .iter()
                .find(|v| v.name == name)
                .and_then(|v| organizations.get(&v.code))
                .copied();
        }
        Tenant::Bank(code, branch) => {
            let bank_id = banks.get(code).copied();
            binding.bank_id = bank_id;
            if let (Some(bank_id), Some(branch)) = (bank_id, branch) {
                binding.branch_id = bank_branch::Entity::find()
                    .filter(bank_branch::Column::BankId.eq(bank_id))
                    .filter(bank_branch::Column::Name.eq(branch))
                    .one(db)
                    .await?
                    .map(|b| b.id);
            }
        }
    }
    Ok(binding)
}
