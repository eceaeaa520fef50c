//! Benchmarks of the real path: the release server on a random port, called over HTTP.
//!
//! `cargo bench --bench api` (SQLite), or with `TEST_DATABASE_URL=postgres://…/postgres` on a
//! fresh PostgreSQL database. Prints the median and 95th percentile of each scenario; goals are
//! in `docs/operations.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use api::{Application, Settings};
use sea_orm::{ConnectionTrait, Database};
use secrecy::SecretString;
use serde_json::{Value, json};

const ADMIN: (&str, &str) = ("13800000001", "Bench-pass-2026");

struct Server {
    /// The PostgreSQL database to drop at the end, with the URL of the server's admin database.
    postgres: Option<(String, String)>,
    base: String,
    client: reqwest::Client,
    db: sea_orm::DatabaseConnection,
    _dir: tempfile::TempDir,
}

async fn start(label: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let (url, postgres) = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("rc_bench_{label}_{}", uuid::Uuid::now_v7().simple());
            let conn = Database::connect(&admin).await.unwrap();
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
            (url, Some((admin, name)))
        }
        _ => (
            format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
            None,
        ),
    };
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: Some(SecretString::from(url)),
        data_dir: dir.path().to_path_buf(),
        jwt_secret: Some(SecretString::from(
            "bench-secret-0123456789abcdef0123456789",
        )),
        admin_mobile: Some(ADMIN.0.into()),
        admin_password: Some(SecretString::from(ADMIN.1)),
        // The bench signs in from one address many times.
        login_rate_per_address: u32::MAX,
        ..Settings::default()
    };
    let db = api::startup::prepare(&settings).await.unwrap();
    api::demo::load(&db, &api::storage::open(&settings).unwrap(), Some(ADMIN.0))
        .await
        .unwrap();
    let app = Application::build_with_db(settings, db.clone())
        .await
        .unwrap();
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    Server {
        postgres,
        base,
        client: reqwest::Client::new(),
        db,
        _dir: dir,
    }
}

impl Server {
    /// Drops the server's PostgreSQL database, if it has one.
    async fn finish(self) {
        if let Some((admin, name)) = self.postgres {
            self.db.close().await.ok();
            let conn = Database::connect(&admin).await.unwrap();
            conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await
                .unwrap();
        }
    }

    async fn token(&self) -> String {
        self.token_of(ADMIN.0, ADMIN.1).await
    }

    async fn token_of(&self, mobile: &str, password: &str) -> String {
        let reply: Value = self
            .client
            .post(format!("{}/auth/login", self.base))
            .json(&json!({"mobile": mobile, "password": password}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reply["access_token"].as_str().unwrap().to_owned()
    }
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p95 = samples[samples.len() * 95 / 100];
    println!(
        "{name:<44} n={:<5} median={median:>10.2?} p95={p95:>10.2?}",
        samples.len()
    );
}

async fn time<F, Fut>(n: usize, mut f: F) -> Vec<Duration>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        f(i).await;
        samples.push(started.elapsed());
    }
    samples
}

/// 133 new villages in 陈村镇, as the onboarding guide's CSV.
fn import_file(round: usize) -> String {
    const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let mut lines = vec!["name,uscc,village_code,village_name,legal_rep_name,legal_rep_mobile,member_households,income_year,income".to_owned()];
    for i in 0..133 {
        let village = format!("140826102{:03}", 400 + round * 140 % 500 + i);
        let body = format!("N2{}{}", &village[..6], &village[3..12]);
        let sum: usize = body
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| CHARSET.iter().position(|c| *c == b).unwrap() * w)
            .sum();
        let check = CHARSET[(31 - sum % 31) % 31] as char;
        lines.push(format!(
            "村{i}合作社,{body}{check},{village},村{i},李四,139{:08},120,2021,150000.00",
            40_000_000 + i
        ));
    }
    lines.join("\n")
}

/// 200 active products for the demo bank, and 20 verified land rights of 北庄村 valued today,
/// made through the same operations as the API's (acting as the admin).
async fn quote_fixture(server: &Server) -> Vec<String> {
    use api::assets::valuations::ValuationRequest;
    use api::assets::{CreateAssetRequest, Decision, VerificationRequest};
    use entity::{ProductAction, bank, organization};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let bank = bank::Entity::find()
        .filter(bank::Column::Code.eq("JXRCB"))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let admin = api::auth::Caller::acting_as(
        entity::user::Entity::find()
            .filter(entity::user::Column::Mobile.eq(ADMIN.0))
            .one(&server.db)
            .await
            .unwrap()
            .unwrap(),
    );
    for i in 0..200 {
        let terms = api::products::Terms {
            name: format!("基准产品{i}"),
            collateral: vec![api::products::Collateral {
                kind: entity::AssetKind::LandManagementRight,
                max_ltv: "0.6".parse().unwrap(),
            }],
            amount_min: "10000".parse().unwrap(),
            amount_max: "5000000".parse().unwrap(),
            term_min: 6,
            term_max: 60,
            annual_rate: entity::Rate::from_scaled(35_000 + i),
            repayment_methods: vec![entity::RepaymentMethod::Annuity],
            purposes: vec![entity::LoanPurpose::Planting],
        };
        let draft = api::products::ops::create(&server.db, admin.id(), bank.id, terms)
            .await
            .unwrap();
        api::products::ops::move_product(&server.db, &admin, &draft, ProductAction::Activate)
            .await
            .unwrap();
    }
    let org = organization::Entity::find()
        .filter(organization::Column::Name.eq("北庄村股份经济合作社"))
        .one(&server.db)
        .await
        .unwrap()
        .unwrap();
    let today = api::db::today();
    let mut ids = Vec::new();
    for i in 0..20 {
        let request = CreateAssetRequest {
            organization_id: Some(org.id),
            kind: entity::AssetKind::LandManagementRight,
            name: format!("基准地块{i}"),
            region_code: org.region_code.clone(),
            address: "北庄村".into(),
            quantity: "10".parse().unwrap(),
            unit: "亩".into(),
            certificate_no: Some(format!("BENCH-{i}")),
            head_count: None,
            ear_tags: None,
            right_start: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
            right_end: chrono::NaiveDate::from_ymd_opt(2045, 1, 1),
            acquisition_cost: None,
            description: String::new(),
            shareholding_id: None,
        };
        let id = api::assets::ops::create(&server.db, &admin, request)
            .await
            .unwrap()
            .id;
        let asset = entity::asset::Entity::find_by_id(id)
            .one(&server.db)
            .await
            .unwrap()
            .unwrap();
        let valuation = ValuationRequest {
            value: "80000".parse().unwrap(),
            method: entity::ValuationMethod::Market,
            appraiser: "评估所".into(),
            appraisal_date: today - chrono::Duration::days(10),
            valid_until: today + chrono::Duration::days(300),
        };
        api::assets::ops::add_valuation(&server.db, &admin, &asset, valuation)
            .await
            .unwrap();
        let verified = VerificationRequest {
            decision: Decision::Verified,
            note: None,
        };
        api::assets::ops::verify(&server.db, &admin, asset, verified)
            .await
            .unwrap();
        ids.push(id.to_string());
    }
    ids
}

#[tokio::main]
async fn main() {
    let server = start("main").await;
    let token = server.token().await;
    let get = |path: &str| {
        server
            .client
            .get(format!("{}{path}", server.base))
            .bearer_auth(&token)
    };

    report(
        "POST /auth/login (argon2id verify)",
        time(20, |_| async {
            server.token().await;
        })
        .await,
    );
    report(
        "GET /me (JWT + session re-read)",
        time(300, |_| async {
            get("/me").send().await.unwrap().bytes().await.unwrap();
        })
        .await,
    );
    report(
        "GET /organizations?limit=100",
        time(100, |_| async {
            get("/organizations?limit=100")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        })
        .await,
    );
    report(
        "GET /stats/income?year=2021 (133 orgs)",
        time(100, |_| async {
            get("/stats/income?year=2021")
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
        })
        .await,
    );

    // Quoting: 200 active products against 20 verified, valued assets.
    let assets = quote_fixture(&server).await;
    let operator = server
        .token_of("13800138010", api::demo::DEMO_PASSWORD)
        .await;
    let body = json!({"amount": "200000.00", "term_months": 36, "asset_ids": assets, "purpose": "planting"});
    report(
        "POST /matching/quote (200 products x 20 assets)",
        time(50, |_| async {
            let reply = server
                .client
                .post(format!("{}/matching/quote", server.base))
                .bearer_auth(&operator)
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 200);
            reply.bytes().await.unwrap();
        })
        .await,
    );

    // Each import needs villages not yet registered: one fresh server per round.
    let mut imports = Vec::new();
    for round in 0..5 {
        let fresh = start(&format!("import{round}")).await;
        let token = fresh.token().await;
        let file = import_file(0);
        let started = Instant::now();
        let status = fresh
            .client
            .post(format!("{}/organizations/import", fresh.base))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(file)
            .send()
            .await
            .unwrap()
            .status();
        imports.push(started.elapsed());
        assert_eq!(status, 201);
        fresh.finish().await;
    }
    report("POST /organizations/import (133 rows)", imports);
    server.finish().await;
}
