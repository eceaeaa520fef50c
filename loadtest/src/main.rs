//! `loadtest`: seeds a synthetic province into PostgreSQL, starts the release server on it,
//! drives it over HTTP, and runs `pgbench` on the statements each request sends — one table,
//! written as JSON to `target/loadtest/<date>.json`. See `docs/performance.md`.
//!
//! ```text
//! cargo build --release --workspace && target/release/loadtest --province
//! ```

mod capture;
mod drive;
mod report;
mod seed;
mod server;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};
use uuid::Uuid;

use capture::Url;
use drive::{MakeRequest, Outcome, drive};
use report::{Report, Row};
use seed::Scale;
use server::Server;

#[derive(Parser)]
#[command(
    name = "loadtest",
    about = "Province-scale load test of the release server"
)]
struct Cli {
    /// Seed a province (1,000,000 applications) and a county (10,000), load both.
    #[arg(long)]
    province: bool,
    /// PostgreSQL to use (a superuser: it creates the databases and sets their logging).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
    postgres: String,
    /// Concurrent clients of every scenario (and of pgbench).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Seconds per scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Keep the databases of an earlier run instead of seeding again.
    #[arg(long)]
    reuse: bool,
    /// PostgreSQL's server log (default: the newest under /var/log/postgresql).
    #[arg(long)]
    pg_log: Option<PathBuf>,
    /// Only the scenarios whose name contains this (for profiling one; targets are not judged).
    #[arg(long)]
    only: Option<String>,
}

const DAY_OF_RUN: &str = "%Y-%m-%d";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let binary = server::binary()?;
    let pg_log = match &cli.pg_log {
        Some(path) => path.clone(),
        None => capture::server_log()?,
    };
    let out_dir = PathBuf::from("target/loadtest");
    std::fs::create_dir_all(&out_dir)?;
    let date = chrono::Utc::now().format(DAY_OF_RUN).to_string();
    let mut report = Report {
        date: chrono::Utc::now().to_rfc3339(),
        machine: machine(),
        ..Report::default()
    };
    let run = Run {
        cli: &cli,
        binary,
        pg_log,
        out_dir: out_dir.clone(),
    };

    let county = run
        .database("loadtest_county", Scale::COUNTY, &mut report)
        .await?;
    run.load("county", &county, &mut report, false).await?;
    if cli.province {
        let province = run
            .database("loadtest_province", Scale::PROVINCE, &mut report)
            .await?;
        run.load("province", &province, &mut report, true).await?;
        if cli.only.is_none() {
            judge(&mut report);
        }
    }
    let table = report.print();
    println!("{table}");
    let json_path = out_dir.join(format!("{date}.json"));
    std::fs::write(&json_path, serde_json::to_vec_pretty(&report)?)?;
    std::fs::write(out_dir.join(format!("{date}.md")), table)?;
    println!("written: {}", json_path.display());
    Ok(())
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let pg = std::process::Command::new("pgbench")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!("{cpus} cores, {pg}, release build")
}

struct Run<'a> {
    cli: &'a Cli,
    binary: PathBuf,
    pg_log: PathBuf,
    out_dir: PathBuf,
}

struct Seeded {
    url: Url,
    db: DatabaseConnection,
}

impl Run<'_> {
    /// A database with the schema and the data set: seeded now, or kept from an earlier run.
    async fn database(
        &self,
        name: &str,
        scale: Scale,
        report: &mut Report,
    ) -> anyhow::Result<Seeded> {
        let url = Url::parse(&self.cli.postgres, name)?;
        let admin = connect(
            &Url::parse(&self.cli.postgres, "postgres")?.to_database_url(),
            2,
        )
        .await?;
        let exists = !admin
            .query_all_raw(sea_orm::Statement::from_string(
                admin.get_database_backend(),
                format!("SELECT 1 FROM pg_database WHERE datname = '{name}'"),
            ))
            .await?
            .is_empty();
        if !(self.cli.reuse && exists) {
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let db = connect(&url.to_database_url(), 4).await?;
            api::db::migrate(&db).await?;
            println!("seeding {name} …");
            let started = Instant::now();
            for (step, seconds) in seed::seed(&db, scale).await? {
                println!("  {step}: {seconds:.1} s");
                report.seeding.push((name.to_owned(), step, seconds));
            }
            let total = started.elapsed().as_secs_f64();
            println!("  total: {total:.1} s");
            report
                .seeding
                .push((name.to_owned(), "total".into(), total));
        }
        let db = connect(&url.to_database_url(), 1).await?;
        Ok(Seeded { url, db })
    }

    /// Every scenario against one data set.
    async fn load(
        &self,
        data: &'static str,
        seeded: &Seeded,
        report: &mut Report,
        full: bool,
    ) -> anyhow::Result<()> {
        let database_url = seeded.url.to_database_url();
        let log = self.out_dir.join(format!("server-{data}.log"));
        let seconds = Duration::from_secs(self.cli.seconds);
        let c = self.cli.concurrency;

        // 1. What each request sends: a server started with the statement log on.
        set_statement_log(&seeded.db, &seeded.url.database, true).await?;
        let server = Server::start(&self.binary, &database_url, &log).await?;
        let fixture = Fixture::prepare(&server.base, &seeded.db).await?;
        let from = capture::log_size(&self.pg_log);
        for scenario in self.scenarios(&fixture, full) {
            if let Some(make) = &scenario.make {
                // Once unmarked (a connection's first use prepares), then once marked.
                if let Some(request) = make(0) {
                    let _ = request.send().await;
                }
                capture::mark(&seeded.db, &format!("begin:{}", scenario.name)).await?;
                if let Some(request) = make(1) {
                    let _ = request.send().await;
                }
                capture::mark(&seeded.db, "end").await?;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let sections = capture::read_sections(&self.pg_log, from)?;
        server.stop().await;
        set_statement_log(&seeded.db, &seeded.url.database, false).await?;
        if full {
            self.explain_plans(data, &seeded.db, &sections).await?;
        }

        // 2. The load, on a fresh server without the statement log.
        let server = Server::start(&self.binary, &database_url, &log).await?;
        let fixture = Fixture::prepare(&server.base, &seeded.db).await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        if full {
            report
                .memory_mib
                .push((format!("{data}: idle after start"), server.rss_mib()));
        }
        for scenario in self.scenarios(&fixture, full) {
            let Some(make) = scenario.make.clone() else {
                continue;
            };
            let concurrency = scenario.concurrency.unwrap_or(c);
            drive(concurrency, Duration::from_secs(1), make.clone()).await;
            let outcome = drive(concurrency, seconds, make).await;
            println!(
                "{data} {}: {:.0} req/s, p99 {:.2} ms, {} errors",
                scenario.name, outcome.throughput, outcome.p99_ms, outcome.errors
            );
            let statements = sections.get(scenario.name).cloned();
            let pgbench = match (&statements, scenario.read) {
                (Some(statements), true) if !statements.is_empty() => Some(capture::pgbench(
                    &seeded.url,
                    statements,
                    concurrency,
                    self.cli.seconds,
                    &self.out_dir.join(format!("{data}-{}.sql", scenario.name)),
                )?),
                _ => None,
            };
            report.rows.push(Row {
                data,
                scenario: scenario.name.to_owned(),
                outcome,
                statements: statements.map(|s| s.len()),
                pgbench,
            });
        }
        if full && self.cli.only.is_none() {
            self.beside_logins(data, &fixture, report).await;
            self.memory_under_load(data, &server, &fixture, report)
                .await;
            let started = Instant::now();
            let verify = fixture
                .client
                .get(format!("{}/api/v1/audit-events/verify", fixture.base))
                .bearer_auth(&fixture.admin)
                .send()
                .await?;
            let status = verify.status();
            let body: Value = verify.json().await.unwrap_or_default();
            let elapsed = started.elapsed().as_secs_f64();
            println!("{data} audit verify: {status} in {elapsed:.1} s: {body}");
            report.rows.push(Row {
                data,
                scenario: "audit verify (one request)".into(),
                outcome: Outcome {
                    concurrency: 1,
                    requests: 1,
                    errors: u64::from(!status.is_success() || body["ok"] != true),
                    seconds: elapsed,
                    throughput: 1.0 / elapsed,
                    p50_ms: elapsed * 1000.0,
                    p99_ms: elapsed * 1000.0,
                    first_error: (body["ok"] != true).then(|| body.to_string()),
                },
                statements: None,
                pgbench: None,
            });
        }
        server.stop().await;
        Ok(())
    }

    fn scenarios(&self, fixture: &Fixture, full: bool) -> Vec<Scenario> {
        let mut all = fixture.scenarios(full);
        if let Some(only) = &self.cli.only {
            all.retain(|s| s.name.contains(only.as_str()));
        }
        all
    }

    /// The queue alone, then the queue with 50 clients signing in at the same time.
    async fn beside_logins(&self, data: &'static str, fixture: &Fixture, report: &mut Report) {
        let seconds = Duration::from_secs(self.cli.seconds);
        let logins = drive(50, seconds, fixture.login());
        let queue = drive(self.cli.concurrency, seconds, fixture.queue_first());
        let (logins, queue) = tokio::join!(logins, queue);
        report.rows.push(Row {
            data,
            scenario: "queue first page beside 50 logins".into(),
            outcome: queue,
            statements: None,
            pgbench: None,
        });
        report.rows.push(Row {
            data,
            scenario: "the 50 logins beside the queue".into(),
            outcome: logins,
            statements: None,
            pgbench: None,
        });
    }

    /// Resident memory while 256 connections keep the server busy.
    async fn memory_under_load(
        &self,
        data: &'static str,
        server: &Server,
        fixture: &Fixture,
        report: &mut Report,
    ) {
        let load = drive(256, Duration::from_secs(5), fixture.asset_read());
        let sample = async {
            let mut peak: f64 = 0.0;
            for _ in 0..50 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                peak = peak.max(server.rss_mib());
            }
            peak
        };
        let (outcome, peak) = tokio::join!(load, sample);
        report.rows.push(Row {
            data,
            scenario: "asset read at 256 connections".into(),
            outcome,
            statements: None,
            pgbench: None,
        });
        report
            .memory_mib
            .push((format!("{data}: peak at 256 connections"), peak));
        tokio::time::sleep(Duration::from_secs(2)).await;
        report
            .memory_mib
            .push((format!("{data}: idle after the load"), server.rss_mib()));
    }

    async fn explain_plans(
        &self,
        data: &str,
        db: &DatabaseConnection,
        sections: &std::collections::BTreeMap<String, Vec<String>>,
    ) -> anyhow::Result<()> {
        let mut text = String::new();
        for name in [
            "queue first page",
            "queue deep page",
            "asset list of a large village",
            "notification poll",
            "portfolio of a county",
        ] {
            text.push_str(&format!("## {name}\n\n```\n"));
            if let Some(statements) = sections.get(name) {
                text.push_str(&capture::explain(db, statements).await?);
            }
            text.push_str("```\n\n");
        }
        let path = self.out_dir.join(format!("plans-{data}.md"));
        std::fs::write(&path, text)?;
        println!("plans written: {}", path.display());
        Ok(())
    }
}

async fn connect(url: &str, connections: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(connections)
        .min_connections(connections.min(1))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to {url}"))
}

async fn set_statement_log(db: &DatabaseConnection, name: &str, on: bool) -> anyhow::Result<()> {
    let sql = if on {
        format!("ALTER DATABASE {name} SET log_statement = 'all'")
    } else {
        format!("ALTER DATABASE {name} RESET log_statement")
    };
    db.execute_unprepared(&sql).await?;
    Ok(())
}

/// A scenario: its name, how to make its requests, whether it only reads (then pgbench gives
/// its ceiling), and its own concurrency if not the run's.
struct Scenario {
    name: &'static str,
    make: Option<MakeRequest>,
    read: bool,
    concurrency: Option<usize>,
}

/// Tokens and ids the scenarios use, found in the seeded data.
struct Fixture {
    base: String,
    client: reqwest::Client,
    admin: String,
    officer: String,
    operator: String,
    large_village: Uuid,
    assets: Arc<Vec<Uuid>>,
    deep_cursor: String,
    drafts: Arc<Vec<(Uuid, String)>>,
    loans: Arc<Vec<Uuid>>,
}

impl Fixture {
    async fn prepare(base: &str, db: &DatabaseConnection) -> anyhow::Result<Fixture> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .build()?;
        let login = |mobile: String| {
            let client = client.clone();
            let base = base.to_owned();
            async move {
                let reply = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&json!({"mobile": mobile, "password": seed::PASSWORD}))
                    .send()
                    .await?;
                let status = reply.status();
                let body: Value = reply.json().await?;
                match body["access_token"].as_str() {
                    Some(token) => Ok::<String, anyhow::Error>(token.to_owned()),
                    None => bail!("login of {mobile}: {status} {body}"),
                }
            }
        };
        let admin = login("13000000000".into()).await?;
        let officer = login("13100000000".into()).await?;
        let operator = login("13300000000".into()).await?;
        let large_village = uuid_of(db, "SELECT md5('org0')::uuid").await?;
        let assets = uuids(
            db,
            "SELECT id FROM assets WHERE organization_id = md5('org0')::uuid ORDER BY id LIMIT 1000",
        )
        .await?;
        // Drafts of the large villages, each with its operator's token.
        let mut drafts = Vec::new();
        let mut tokens = std::collections::HashMap::new();
        for row in db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT a.id, u.mobile FROM loan_applications a \
                 JOIN users u ON u.organization_id = a.organization_id \
                 WHERE a.status = 'draft' AND u.role = 'org_operator' \
                 AND u.mobile < '13300000020' ORDER BY a.id"
                    .to_owned(),
            ))
            .await?
        {
            let id: Uuid = row.try_get_by_index(0)?;
            let mobile: String = row.try_get_by_index(1)?;
            if !tokens.contains_key(&mobile) {
                tokens.insert(mobile.clone(), login(mobile.clone()).await?);
            }
            drafts.push((id, tokens[&mobile].clone()));
        }
        let loans = uuids(
            db,
            "SELECT a.id FROM loan_applications a WHERE a.status = 'disbursed' \
             AND a.bank_id = md5('bank0')::uuid AND a.outstanding_principal > 100000 \
             ORDER BY a.id LIMIT 5000",
        )
        .await?;
        // The cursor 20,000 rows into the bank's queue.
        let mut deep_cursor = String::new();
        for _ in 0..200 {
            let page: Value = client
                .get(format!(
                    "{base}/api/v1/applications?sort=submitted_at&limit=100{}",
                    if deep_cursor.is_empty() {
                        String::new()
                    } else {
                        format!("&cursor={deep_cursor}")
                    }
                ))
                .bearer_auth(&officer)
                .send()
                .await?
                .json()
                .await?;
            match page["next_cursor"].as_str() {
                Some(next) => deep_cursor = next.to_owned(),
                None => break,
            }
        }
        Ok(Fixture {
            base: base.to_owned(),
            client,
            admin,
            officer,
            operator,
            large_village,
            assets: Arc::new(assets),
            deep_cursor,
            drafts: Arc::new(drafts),
            loans: Arc::new(loans),
        })
    }

    fn get(&self, path: String, token: Option<String>) -> MakeRequest {
        let client = self.client.clone();
        let url = format!("{}{path}", self.base);
        Arc::new(move |_| {
            let request = client.get(&url);
            Some(match &token {
                Some(token) => request.bearer_auth(token),
                None => request,
            })
        })
    }

    fn asset_read(&self) -> MakeRequest {
        let client = self.client.clone();
        let base = self.base.clone();
        let token = self.operator.clone();
        let assets = self.assets.clone();
        Arc::new(move |i| {
            let id = *assets.get(i as usize % assets.len().max(1))?;
            Some(
                client
                    .get(format!("{base}/api/v1/assets/{id}"))
                    .bearer_auth(&token),
            )
        })
    }

    fn queue_first(&self) -> MakeRequest {
        self.get(
            "/api/v1/applications?sort=submitted_at&limit=20".into(),
            Some(self.officer.clone()),
        )
    }

    fn login(&self) -> MakeRequest {
        let client = self.client.clone();
        let url = format!("{}/api/v1/auth/login", self.base);
        Arc::new(move |i| {
            // Operators in turn: no mobile reaches its own limit.
            let mobile = format!("133{:08}", 1000 + i % 10_000);
            Some(
                client
                    .post(&url)
                    .json(&json!({"mobile": mobile, "password": seed::PASSWORD})),
            )
        })
    }

    fn scenarios(&self, full: bool) -> Vec<Scenario> {
        let read = |name, make| Scenario {
            name,
            make: Some(make),
            read: true,
            concurrency: None,
        };
        let mut all = vec![
            read("queue first page", self.queue_first()),
            read(
                "queue deep page",
                self.get(
                    format!(
                        "/api/v1/applications?sort=submitted_at&limit=20&cursor={}",
                        self.deep_cursor
                    ),
                    Some(self.officer.clone()),
                ),
            ),
        ];
        if !full {
            return all;
        }
        all.push(read("health/live", self.get("/health/live".into(), None)));
        all.push(read("asset read", self.asset_read()));
        all.push(read(
            "asset list of a large village",
            self.get(
                format!(
                    "/api/v1/assets?organization_id={}&limit=50",
                    self.large_village
                ),
                Some(self.operator.clone()),
            ),
        ));
        all.push(read(
            "notification poll",
            self.get(
                "/api/v1/notifications?limit=20".into(),
                Some(self.operator.clone()),
            ),
        ));
        all.push(read(
            "portfolio of a county",
            // A typical county (~8,000 applications); 150101 holds the large villages (200,000).
            self.get(
                "/api/v1/stats/portfolio?region_code=150505000000".into(),
                Some(self.admin.clone()),
            ),
        ));
        let quote = {
            let client = self.client.clone();
            let url = format!("{}/api/v1/matching/quote", self.base);
            let token = self.operator.clone();
            let assets: Vec<Uuid> = self.assets.iter().take(20).copied().collect();
            Arc::new(move |_| {
                Some(client.post(&url).bearer_auth(&token).json(&json!({
                    "amount": "50000.00",
                    "term_months": 24,
                    "purpose": "planting",
                    "repayment_method": "annuity",
                    "asset_ids": assets,
                })))
            }) as MakeRequest
        };
        all.push(read("quote 200 products × 20 assets", quote.clone()));
        // The target is a latency: one client, nothing queued in front of it.
        all.push(Scenario {
            name: "quote 200 products × 20 assets, one client",
            make: Some(quote),
            read: true,
            concurrency: Some(1),
        });
        let submit = {
            let client = self.client.clone();
            let base = self.base.clone();
            let drafts = self.drafts.clone();
            // Its own count across the warm-up and the measured run: each draft is submitted once.
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            Arc::new(move |_| {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let (id, token) = drafts.get(i)?;
                Some(
                    client
                        .post(format!("{base}/api/v1/applications/{id}/submit"))
                        .bearer_auth(token),
                )
            }) as MakeRequest
        };
        all.push(Scenario {
            name: "submit (fresh drafts)",
            make: Some(submit),
            read: false,
            concurrency: None,
        });
        let repayment = {
            let client = self.client.clone();
            let base = self.base.clone();
            let token = self.officer.clone();
            let loans = self.loans.clone();
            let today = api::db::today().to_string();
            Arc::new(move |i: u64| {
                let id = *loans.get(i as usize % loans.len().max(1))?;
                Some(
                    client
                        .post(format!("{base}/api/v1/applications/{id}/repayments"))
                        .bearer_auth(&token)
                        .json(&json!({"date": today, "amount": "1.00"})),
                )
            }) as MakeRequest
        };
        all.push(Scenario {
            name: "repayment",
            make: Some(repayment),
            read: false,
            concurrency: None,
        });
        all.push(Scenario {
            name: "login",
            make: Some(self.login()),
            read: false,
            concurrency: None,
        });
        all
    }
}

async fn uuids(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Vec<Uuid>> {
    db.query_all_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await?
    .iter()
    .map(|row| row.try_get_by_index::<Uuid>(0).map_err(Into::into))
    .collect()
}

async fn uuid_of(db: &DatabaseConnection, sql: &str) -> anyhow::Result<Uuid> {
    uuids(db, sql).await?.first().copied().context("no row")
}

/// Compares the run with the targets of issue 12.
fn judge(report: &mut Report) {
    let p99 = |r: &Report, data: &str, name: &str| r.row(data, name).map(|r| r.outcome.p99_ms);
    for page in ["queue first page", "queue deep page"] {
        if let (Some(big), Some(small)) =
            (p99(report, "province", page), p99(report, "county", page))
        {
            report.target(
                &format!("{page}: p99 at 1,000,000 vs 10,000 applications"),
                "≤ 2 ×",
                format!("{big:.2} ms vs {small:.2} ms ({:.2} ×)", big / small),
                big <= 2.0 * small,
            );
        }
    }
    let reads: Vec<(String, f64, usize)> = report
        .rows
        .iter()
        .filter(|r| r.data == "province")
        .filter_map(|r| Some((r.scenario.clone(), r.share_of_ceiling()?, r.statements?)))
        .collect();
    for (name, share, statements) in reads {
        report.target(
            &format!("{name}: throughput vs pgbench"),
            "≥ 50 %",
            format!("{share:.0} %"),
            share >= 50.0,
        );
        if name != "health/live" {
            report.target(
                &format!("{name}: statements per request"),
                "≤ 3",
                statements.to_string(),
                statements <= 3,
            );
        }
    }
    if let (Some(alone), Some(beside)) = (
        p99(report, "province", "queue first page"),
        p99(report, "province", "queue first page beside 50 logins"),
    ) {
        report.target(
            "queue p99 with 50 concurrent logins",
            "≤ 2 × alone",
            format!("{beside:.2} ms vs {alone:.2} ms ({:.2} ×)", beside / alone),
            beside <= 2.0 * alone,
        );
    }
    if let Some(quote) = p99(
        report,
        "province",
        "quote 200 products × 20 assets, one client",
    ) {
        report.target(
            "quote p99 (one client)",
            "< 10 ms",
            format!("{quote:.2} ms"),
            quote < 10.0,
        );
    }
    let memory: Vec<(String, f64)> = report.memory_mib.clone();
    for (when, mib) in memory {
        let limit = if when.contains("256") { 256.0 } else { 64.0 };
        report.target(
            &format!("resident memory, {when}"),
            &format!("< {limit:.0} MiB"),
            format!("{mib:.1} MiB"),
            mib < limit,
        );
    }
    if let Some(verify) = report.row("province", "audit verify (one request)") {
        let seconds = verify.outcome.seconds;
        let ok = verify.outcome.errors == 0;
        report.target(
            "audit verify of 1,000,000 events",
            "< 10 s",
            format!("{seconds:.1} s{}", if ok { "" } else { " (failed)" }),
            ok && seconds < 10.0,
        );
    }
    if let Some((_, _, seconds)) = report
        .seeding
        .iter()
        .find(|(db, step, _)| db == "loadtest_province" && step == "total")
    {
        let seconds = *seconds;
        report.target(
            "seeding the province",
            "< 5 min",
            format!("{seconds:.0} s"),
            seconds < 300.0,
        );
    }
}
