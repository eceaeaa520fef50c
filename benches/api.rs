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
    base: String,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(label: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = match std::env::var("TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let name = format!("rc_bench_{label}_{}", uuid::Uuid::now_v7().simple());
            let conn = Database::connect(&admin).await.unwrap();
            conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            format!("{}/{name}", admin.rsplit_once('/').unwrap().0)
        }
        _ => format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()),
    };
    let settings = Settings {
        bind: "127.0.0.1:0".into(),
        database_url: Some(url),
        data_dir: dir.path().to_path_buf(),
        jwt_secret: Some(SecretString::from(
            "bench-secret-0123456789abcdef0123456789",
        )),
        admin_mobile: Some(ADMIN.0.into()),
        admin_password: Some(SecretString::from(ADMIN.1)),
        log_format: api::config::LogFormat::Json,
        storage_url: None,
    };
    let db = api::startup::prepare(&settings).await.unwrap();
    api::demo::load(&db, &api::storage::open(&settings).unwrap(), Some(ADMIN.0))
        .await
        .unwrap();
    let app = Application::build_with_db(settings, db).await.unwrap();
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    tokio::spawn(app.run_until_stopped());
    Server {
        base,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Server {
    async fn token(&self) -> String {
        let reply: Value = self
            .client
            .post(format!("{}/auth/login", self.base))
            .json(&json!({"mobile": ADMIN.0, "password": ADMIN.1}))
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
    }
    report("POST /organizations/import (133 rows)", imports);
}
