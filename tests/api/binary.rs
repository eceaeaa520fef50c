//! The real start-up path: the compiled `rural-collateral` binary, configured from the
//! environment exactly as `docker-compose.yml` sets it, or from a `config.toml`; stopped with
//! SIGTERM. The other tests build `Settings` in code and cannot see a broken deployment.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

const BINARY: &str = env!("CARGO_BIN_EXE_rural-collateral");

/// A running server process, its address, and what it printed.
pub(crate) struct Server {
    child: Child,
    pub(crate) address: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts `rural-collateral serve` with exactly `env` (nothing inherited) in `dir`, and waits
    /// until it is ready to serve.
    pub(crate) async fn start(env: &BTreeMap<String, String>, dir: &std::path::Path) -> Server {
        let mut child = Command::new(BINARY)
            .arg("serve")
            .env_clear()
            .envs(env)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        let stdout = collect(child.stdout.take().expect("stdout"), None);
        let (port_tx, port_rx) = mpsc::channel();
        let stderr = collect(child.stderr.take().expect("stderr"), Some(port_tx));
        let port = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server never said where it listens:\n{}",
                    stderr.lock().unwrap().join("\n")
                );
            }
        };
        let server = Server {
            child,
            address: format!("http://127.0.0.1:{port}"),
            stdout,
            stderr,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        for _ in 0..100 {
            if let Ok(reply) = reqwest::get(format!("{}/health/ready", self.address)).await
                && reply.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("never ready:\n{}", self.stderr.lock().unwrap().join("\n"));
    }

    /// Every line the process printed so far, standard output and error.
    pub(crate) fn output(&self) -> Vec<String> {
        let mut lines = self.stdout.lock().unwrap().clone();
        lines.extend(self.stderr.lock().unwrap().iter().cloned());
        lines
    }

    /// SIGKILL: no drain, no clean-up, as a crash or an out-of-memory kill.
    pub(crate) fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then a clean exit within the drain time.
    fn terminate(mut self) -> Vec<String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        for _ in 0..100 {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                assert!(exit.success(), "exit status {exit}");
                std::thread::sleep(Duration::from_millis(100));
                return self.stderr.lock().unwrap().clone();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the server did not stop on SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `count` processes of the compiled binary on one fresh database, configured from the
/// environment like a deployment of several instances (one JWT secret, one document store), with
/// the test fixture seeded. The `TestApp` talks to the first; keep the servers alive while
/// testing (dropping one kills its process).
pub(crate) async fn spawn_processes(count: usize) -> (TestApp, Vec<Server>) {
    spawn_processes_with(count, &[]).await
}

/// [`spawn_processes`] with more variables in the processes' environment (`RUST_LOG`, say).
pub(crate) async fn spawn_processes_with(
    count: usize,
    extra: &[(&str, &str)],
) -> (TestApp, Vec<Server>) {
    let database = TestDatabase::create().await;
    let mut env = environment(&database.url, database.data_dir.path());
    env.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let mut servers = vec![Server::start(&env, database.data_dir.path()).await];
    // The first process has migrated the database: the fixture can go in.
    let db = sea_orm::Database::connect(&database.url)
        .await
        .expect("test connection");
    let fixture = seed(&db).await;
    for _ in 1..count {
        servers.push(Server::start(&env, database.data_dir.path()).await);
    }
    let app = TestApp {
        address: servers[0].address.clone(),
        db,
        fixture,
        _server: None,
        database,
    };
    (app, servers)
}

/// Another process of the binary on the test's database (a restart, or one more instance).
pub(crate) async fn start_process(database: &TestDatabase) -> Server {
    Server::start(
        &environment(&database.url, database.data_dir.path()),
        database.data_dir.path(),
    )
    .await
}

/// A deployment's environment for a process on `database_url`, keeping documents in `data_dir`:
/// the tests' settings, metrics off.
pub(crate) fn environment(
    database_url: &str,
    data_dir: &std::path::Path,
) -> BTreeMap<String, String> {
    settings_environment(&api::Settings {
        metrics: api::config::MetricsEndpoint::Off,
        ..settings_for(database_url, data_dir)
    })
}

/// The environment that configures the binary exactly as `settings` (every field named, so a
/// new setting cannot be forgotten here).
pub(crate) fn settings_environment(settings: &api::Settings) -> BTreeMap<String, String> {
    use api::config::{LogFormat, MetricsEndpoint};
    use secrecy::ExposeSecret;
    let api::Settings {
        bind,
        database_url,
        data_dir,
        jwt_secret,
        admin_mobile,
        admin_password,
        log_format,
        storage_url,
        metrics,
        trust_proxy_headers,
        login_rate_per_address,
        refresh_rate_per_address,
        body_timeout_secs,
        shortfall_sweep_secs,
        audit_seal_secs,
    } = settings;
    let mut env = BTreeMap::new();
    let mut set = |key: &str, value: String| {
        env.insert(key.to_owned(), value);
    };
    set("APP_BIND", bind.clone());
    if let Some(url) = database_url {
        set("DATABASE_URL", url.expose_secret().to_owned());
    }
    set("APP_DATA_DIR", data_dir.display().to_string());
    if let Some(secret) = jwt_secret {
        set("APP_JWT_SECRET", secret.expose_secret().to_owned());
    }
    if let Some(mobile) = admin_mobile {
        set("APP_ADMIN_MOBILE", mobile.clone());
    }
    if let Some(password) = admin_password {
        set("APP_ADMIN_PASSWORD", password.expose_secret().to_owned());
    }
    set(
        "APP_LOG_FORMAT",
        match log_format {
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
        }
        .to_owned(),
    );
    if let Some(url) = storage_url {
        set("APP_STORAGE_URL", url.clone());
    }
    set(
        "APP_METRICS",
        match metrics {
            MetricsEndpoint::Main => "main".to_owned(),
            MetricsEndpoint::Off => "off".to_owned(),
            MetricsEndpoint::Separate(address) => address.clone(),
        },
    );
    set("APP_TRUST_PROXY_HEADERS", trust_proxy_headers.to_string());
    set(
        "APP_LOGIN_RATE_PER_ADDRESS",
        login_rate_per_address.to_string(),
    );
    set(
        "APP_REFRESH_RATE_PER_ADDRESS",
        refresh_rate_per_address.to_string(),
    );
    set("APP_BODY_TIMEOUT_SECS", body_timeout_secs.to_string());
    set("APP_SHORTFALL_SWEEP_SECS", shortfall_sweep_secs.to_string());
    set("APP_AUDIT_SEAL_SECS", audit_seal_secs.to_string());
    env
}

/// Reads a pipe line by line in the background; with `port`, reports the port of the
/// "listening" log line.
fn collect(
    pipe: impl std::io::Read + Send + 'static,
    port: Option<mpsc::Sender<u16>>,
) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(tx) = &port
                && let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
                && event["fields"]["message"] == "listening"
                && let Some(p) = event["fields"]["port"].as_u64()
            {
                let _ = tx.send(p as u16);
            }
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// The `api` service's environment in `docker-compose.yml`, with `${VAR:-default}` resolved
/// from `given` or the default, as compose does.
fn compose_environment(given: &BTreeMap<&str, &str>) -> BTreeMap<String, String> {
    let compose = include_str!("../../docker-compose.yml");
    let mut env = BTreeMap::new();
    let mut in_api = false;
    let mut in_environment = false;
    for line in compose.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if indent == 2 {
            in_api = text == "api:";
            in_environment = false;
        } else if in_api && indent == 4 {
            in_environment = text == "environment:";
        } else if in_api && in_environment && indent == 6 {
            let (key, value) = text.split_once(':').expect("KEY: value");
            env.insert(key.trim().to_owned(), resolve(value.trim(), given));
        }
    }
    assert!(!env.is_empty(), "no environment for the api service");
    env
}

/// The compose environment, changed only where compose relies on its own network and image: the
/// database host, a free port on loopback, and the data volume.
fn compose_environment_here(
    database: &TestDatabase,
    given: &BTreeMap<&str, &str>,
) -> BTreeMap<String, String> {
    let mut env = compose_environment(given);
    env.insert("DATABASE_URL".into(), database.url.clone());
    env.insert("APP_BIND".into(), "127.0.0.1:0".into());
    env.insert(
        "APP_DATA_DIR".into(),
        database.data_dir.path().join("data").display().to_string(),
    );
    env
}

fn resolve(value: &str, given: &BTreeMap<&str, &str>) -> String {
    let Some(inner) = value.strip_prefix("${").and_then(|v| v.strip_suffix('}')) else {
        return value.to_owned();
    };
    let (name, default) = inner.split_once(":-").unwrap_or((inner, ""));
    given
        .get(name)
        .map(|v| (*v).to_owned())
        .unwrap_or_else(|| default.to_owned())
}

#[tokio::test]
async fn the_binary_starts_with_the_compose_environment_and_stops_on_sigterm() {
    let database = TestDatabase::create().await;
    let mut env = compose_environment_here(&database, &BTreeMap::new());
    assert_eq!(env["APP_ADMIN_MOBILE"], "13800000000", "compose's default");
    env.insert("APP_METRICS".into(), "main".into());
    let server = Server::start(&env, database.data_dir.path()).await;

    // The admin of the compose file, with the one-time password the server printed.
    let printed = server.stdout.lock().unwrap().join("\n");
    let password = printed
        .split("one-time password ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no one-time password printed: {printed}"))
        .to_owned();
    let client = reqwest::Client::new();
    let login = |password: String| {
        client
            .post(format!("{}/api/v1/auth/login", server.address))
            .json(&json!({"mobile": "13800000000", "password": password}))
            .send()
    };
    assert_eq!(login("Wrong-pass-1".into()).await.unwrap().status(), 401);
    let signed_in: serde_json::Value = login(password.clone()).await.unwrap().json().await.unwrap();
    assert_eq!(signed_in["user"]["role"], "admin");
    assert_eq!(signed_in["user"]["must_change_password"], true);
    let token = signed_in["access_token"].as_str().unwrap();
    let blocked = client
        .get(format!("{}/api/v1/users", server.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 403);
    let changed = client
        .post(format!("{}/api/v1/me/password", server.address))
        .bearer_auth(token)
        .json(&json!({"current_password": password, "new_password": "Chosen-pass-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 204);
    let users = client
        .get(format!("{}/api/v1/users", server.address))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(users.status(), 200);

    let logs = server.terminate();
    let logs = logs.join("\n");
    // An access line per request and a security line for the failed sign-in; never a secret.
    assert!(
        logs.contains(r#""route":"/api/v1/auth/login""#) && logs.contains(r#""status":401"#),
        "{logs}"
    );
    assert!(
        logs.contains(r#""security_event":"login_failed""#),
        "{logs}"
    );
    let user_id = signed_in["user"]["id"].as_str().unwrap();
    assert!(
        logs.lines()
            .any(|line| line.contains(r#""route":"/api/v1/users""#)
                && line.contains(&format!(r#""user_id":"{user_id}""#))),
        "{logs}"
    );
    for secret in [password.as_str(), "Chosen-pass-2026", "Wrong-pass-1", token] {
        assert!(!logs.contains(secret), "a secret was logged");
    }
}

#[tokio::test]
async fn all_digit_settings_from_the_environment_stay_text() {
    let database = TestDatabase::create().await;
    let given = BTreeMap::from([
        ("APP_ADMIN_MOBILE", "13800000007"),
        ("APP_ADMIN_PASSWORD", "20261128a"),
        (
            "APP_JWT_SECRET",
            "01234567890123456789012345678901234567890123",
        ),
    ]);
    let mut env = compose_environment_here(&database, &given);
    env.insert("APP_METRICS".into(), "off".into());
    let server = Server::start(&env, database.data_dir.path()).await;
    let reply = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.address))
        .json(&json!({"mobile": "13800000007", "password": "20261128a"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    server.terminate();
}

#[tokio::test]
async fn the_binary_reads_a_config_file() {
    let database = TestDatabase::create().await;
    let dir = database.data_dir.path();
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "bind = \"127.0.0.1:0\"\ndatabase_url = \"{}\"\ndata_dir = \"./state\"\n\
             admin_mobile = \"13900000009\"\nadmin_password = \"Toml-pass-2026\"\n\
             jwt_secret = \"config-file-secret-0123456789abcdef012345\"\nmetrics = \"off\"\n",
            database.url
        ),
    )
    .unwrap();
    let server = Server::start(&BTreeMap::new(), dir).await;
    let client = reqwest::Client::new();
    let reply = client
        .post(format!("{}/api/v1/auth/login", server.address))
        .json(&json!({"mobile": "13900000009", "password": "Toml-pass-2026"}))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["user"]["must_change_password"], false);
    let metrics = client
        .get(format!("{}/metrics", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 404);
    server.terminate();
}

#[test]
fn a_start_up_error_prints_its_causes_first() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .arg("serve")
        .env_clear()
        .env("RUST_BACKTRACE", "1")
        .env(
            "APP_JWT_SECRET",
            "change-me-to-a-long-random-secret-0123456789",
        )
        .env("APP_BIND", "127.0.0.1:0")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("error: ") && first.contains("APP_JWT_SECRET"),
        "{stderr}"
    );
    assert!(!stderr.contains("backtrace"), "{stderr}");
    assert!(
        !stderr.contains("change-me-to-a-long-random-secret"),
        "the secret was printed"
    );
}

#[tokio::test]
async fn an_auditor_verifies_the_record_with_the_binary_alone() {
    use entity::audit_event;
    use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, QueryOrder};
    let app = spawn_app().await;
    let operator = app.token_for("org_operator").await;
    app.post("/api/v1/assets")
        .bearer(&operator)
        .json(&json!({
            "kind": "production_facility", "name": "冷库", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
        }))
        .send()
        .await
        .assert_status(201);
    let dir = tempfile::tempdir().unwrap();
    let verify = || {
        Command::new(BINARY)
            .args(["audit", "verify"])
            .env_clear()
            .env("DATABASE_URL", &app.database.url)
            .env("APP_DATA_DIR", dir.path())
            .env("APP_LOG_FORMAT", "pretty")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let clean = verify();
    assert_eq!(clean.status.code(), Some(0), "{clean:?}");
    let report: serde_json::Value = serde_json::from_slice(&clean.stdout).unwrap();
    assert_eq!(report["ok"], true);

    let newest = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut edited = newest.clone().into_active_model();
    edited.summary = sea_orm::Set("{\"name\":\"别的\"}".into());
    edited.update(&app.db).await.unwrap();
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(report["first_break"]["event_id"], newest.id.to_string());
    assert_eq!(report["first_break"]["reason"], "hash_mismatch");
    assert!(String::from_utf8_lossy(&broken.stderr).starts_with("error: "));
}
