//! The demo county (`serve --demo`, `rural-collateral demo`): Jiang County's regions, 133
//! collectives with their 2021 incomes, two banks with loan products, a user of every role,
//! assets in every state of verification, and applications in draft and submitted states.
//! Loading is
//! idempotent: what exists (by code, USCC or mobile) is left as it is.

mod assets;
mod county;
mod loans;

use entity::{Money, Role, bank, bank_branch, organization, organization_income, region};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use secrecy::SecretString;
use uuid::Uuid;

pub use county::{TOWNSHIPS, villages};

use crate::auth::password;
use crate::db;
use crate::domain::{Mobile, RegionCode};
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
/// No demo user is created on `reserved_mobile` (the configured admin's).
pub async fn load(
    db: &DatabaseConnection,
    store: &Store,
    reserved_mobile: Option<&str>,
) -> anyhow::Result<DemoSummary> {
    let villages = villages();
    let txn = db.begin().await?;
    let mut summary = DemoSummary {
        regions: insert_regions(&txn, &villages).await?,
        ..Default::default()
    };
    let now = db::now();
    let organizations = villages.iter().map(|v| {
        organization::ActiveModel::from(organization::Model {
            id: Uuid::now_v7(),
            name: format!("{}股份经济合作社", v.name),
            uscc: county::uscc(&v.code),
            region_code: v.code.clone(),
            legal_rep_name: v.legal_rep_name.clone(),
            legal_rep_mobile: v.legal_rep_mobile.clone(),
            member_households: v.member_households,
            status: entity::OrganizationStatus::Active,
            shares_village: false,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    });
    summary.organizations = insert_ignoring_existing(&txn, organizations.collect()).await?;

    let ids: std::collections::HashMap<String, Uuid> = organization::Entity::find()
        .filter(organization::Column::Uscc.is_in(villages.iter().map(|v| county::uscc(&v.code))))
        .all(&txn)
        .await?
        .into_iter()
        .map(|o| (o.region_code, o.id))
        .collect();
    let incomes: Vec<organization_income::ActiveModel> = villages
        .iter()
        .filter_map(|v| ids.get(&v.code).map(|id| (id, v)))
        .flat_map(|(id, v)| {
            // 2022 grew by 6 %, in whole hundreds of yuan, so year-on-year screens have data.
            let grown = Money::from_fen(v.income_2021.fen() * 106 / 100 / 10_000 * 10_000);
            [(2021, v.income_2021), (2022, grown)].map(|(year, amount)| {
                organization_income::ActiveModel {
                    organization_id: Set(*id),
                    year: Set(year),
                    amount: Set(amount),
                    updated_at: Set(now),
                }
            })
        })
        .collect();
    summary.incomes = insert_ignoring_existing(&txn, incomes).await?;

    let mut bank_ids = std::collections::HashMap::new();
    for demo in &BANKS {
        let (id, created) = ensure_bank(&txn, demo).await?;
        summary.banks += u64::from(created);
        bank_ids.insert(demo.code, id);
    }

    let hash = password::hash(SecretString::from(DEMO_PASSWORD)).await?;
    for user in &USERS {
        // Checked first: on PostgreSQL a failed insert would abort the whole transaction.
        let exists = entity::user::Entity::find()
            .filter(entity::user::Column::Mobile.eq(user.mobile))
            .one(&txn)
            .await?
            .is_some();
        if exists || reserved_mobile.map(str::trim) == Some(user.mobile) {
            continue;
        }
        let binding = binding_of(&txn, user, &villages, &ids, &bank_ids).await?;
        let new = NewUser {
            mobile: Mobile::parse(user.mobile).map_err(|e| anyhow::anyhow!("demo mobile: {e}"))?,
            display_name: user.name.to_owned(),
            role: user.role,
            binding,
            password_hash: hash.clone(),
            // The demo's shared password is documented; nobody is to be stopped at sign-in.
            must_change_password: false,
        };
        users::ops::register(&txn, None, new)
            .await
            .map_err(|err| anyhow::anyhow!("demo user {}: {err:?}", user.mobile))?;
        summary.users += 1;
    }
    let admin = entity::user::Entity::find()
        .filter(entity::user::Column::Role.eq(Role::Admin))
        .one(&txn)
        .await?
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("the demo needs an admin to have verified its assets"))?;
    summary.assets = assets::load(&txn, &villages, &ids, admin).await?.assets;
    let (products, product_ids) = loans::products(&txn, &bank_ids, admin).await?;
    summary.products = products;
    summary.applications = loans::applications(&txn, store, &product_ids, admin).await?;
    txn.commit().await?;
    Ok(summary)
}

async fn insert_regions(
    db: &impl ConnectionTrait,
    villages: &[county::Village],
) -> anyhow::Result<u64> {
    let mut regions = vec![county::PROVINCE, county::CITY, county::COUNTY];
    regions.extend(TOWNSHIPS.iter().map(|(code, name, _)| (*code, *name)));
    regions.extend(villages.iter().map(|v| (v.code.as_str(), v.name.as_str())));
    let now = db::now();
    let models = regions
        .into_iter()
        .map(|(code, name)| {
            let code =
                RegionCode::parse(code).map_err(|e| anyhow::anyhow!("demo region {code}: {e}"))?;
            Ok(region::ActiveModel::from(region::Model {
                level: code.level(),
                parent_code: code.parent().map(|p| p.to_string()),
                code: code.to_string(),
                name: name.to_owned(),
                created_at: now,
            }))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // Parents come before children, so foreign keys hold row by row.
    insert_ignoring_existing(db, models).await
}

/// Inserts rows, leaving alone any that would break a unique key; returns how many went in.
async fn insert_ignoring_existing<A>(db: &impl ConnectionTrait, rows: Vec<A>) -> anyhow::Result<u64>
where
    A: sea_orm::ActiveModelTrait + Send,
{
    let mut inserted = 0;
    for chunk in rows.chunks(200) {
        let result = <A::Entity as EntityTrait>::insert_many(chunk.to_vec())
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        inserted += result;
    }
    Ok(inserted)
}

async fn ensure_bank(db: &impl ConnectionTrait, demo: &DemoBank) -> anyhow::Result<(Uuid, bool)> {
    let existing = bank::Entity::find()
        .filter(bank::Column::Code.eq(demo.code))
        .one(db)
        .await?;
    let (id, created) = match existing {
        Some(bank) => (bank.id, false),
        None => {
            let bank = crate::banks::insert(db, demo.name.to_owned(), demo.code.to_owned())
                .await
                .map_err(|e| anyhow::anyhow!("demo bank {}: {e}", demo.code))?;
            (bank.id, true)
        }
    };
    let now = db::now();
    let branches = demo.branches.iter().map(|(name, region)| {
        bank_branch::ActiveModel::from(bank_branch::Model {
            id: Uuid::now_v7(),
            bank_id: id,
            name: (*name).to_owned(),
            region_code: Some((*region).to_owned()),
            created_at: now,
        })
    });
    insert_ignoring_existing(db, branches.collect()).await?;
    // Always ensured, also for a bank that existed before: the demo's submitted applications
    // must pass the same matching rules as any other submission.
    let served = demo
        .serves
        .iter()
        .map(|code| entity::bank_region::ActiveModel {
            bank_id: Set(id),
            region_code: Set((*code).to_owned()),
        })
        .collect();
    insert_ignoring_existing(db, served).await?;
    Ok((id, created))
}

async fn binding_of(
    db: &impl ConnectionTrait,
    user: &DemoUser,
    villages: &[county::Village],
    organizations: &std::collections::HashMap<String, Uuid>,
    banks: &std::collections::HashMap<&str, Uuid>,
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
