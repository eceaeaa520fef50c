//! The database going away: every connection of the API dropped (a failover), or PostgreSQL
//! stopped under load and started again. Requests answer 503 with `Retry-After`, fast, never 500,
//! and the API recovers by itself. PostgreSQL only: an embedded SQLite file has no connections to
//! drop and no server to stop.

use crate::helpers::*;

#[tokio::test]
async fn dropped_connections_answer_503_and_the_api_recovers_by_itself() {
    let app = spawn_app().await;
    let Some(database) = app.database.postgres_name() else {
        return;
    };
    let admin = app.admin_token().await;
    // Several connections in the pool, all recently used (so none is pinged before use).
    let warm = (0..8).map(|_| app.get("/api/v1/me").bearer(&admin).send());
    for reply in futures_util::future::join_all(warm).await {
        reply.assert_status(200);
    }
    let killed = app
        .sql_number(&format!(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        ))
        .await;
    assert!(killed > 0, "the API's connections were dropped");

    let mut unavailable = 0;
    let mut recovered = false;
    for _ in 0..40 {
        let reply = app.get("/api/v1/me").bearer(&admin).send().await;
        match reply.status.as_u16() {
            200 => {
                recovered = true;
                break;
            }
            503 => {
                reply.assert_problem(503, "service_unavailable");
                assert_eq!(reply.header("retry-after"), Some("1"));
                unavailable += 1;
            }
            other => panic!("a dropped connection answered {other}: {}", reply.text),
        }
    }
    println!("{unavailable} requests refused with 503 for {killed} dropped connections");
    assert!(recovered, "still unavailable after {unavailable} tries");
    // Every connection that was dropped fails at most one request, then it is replaced.
    assert!(
        unavailable <= killed,
        "{unavailable} refusals for {killed} connections"
    );
}

/// A PostgreSQL cluster of the test's own (initdb in a temporary directory, a free port), so that
/// stopping it touches no other test's database.
struct PrivateCluster {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// PostgreSQL refuses to run as root; CI runs as root, so the cluster belongs to `postgres`.
    as_root: bool,
}

impl PrivateCluster {
    fn create() -> PrivateCluster {
        let bindir = std::process::Command::new("pg_config")
            .arg("--bindir")
            .output()
            .expect("pg_config (PostgreSQL's server package) is installed");
        let bin = std::path::PathBuf::from(String::from_utf8(bindir.stdout).unwrap().trim());
        let dir = tempfile::tempdir().expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let as_root = std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.starts_with(b"0\n"));
        let cluster = PrivateCluster {
            bin,
            dir,
            port,
            as_root,
        };
        if as_root {
            let chown = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .unwrap();
            assert!(chown.success());
        }
        cluster.pg(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start();
        cluster
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// One of PostgreSQL's tools, run as the cluster's owner, its output discarded.
    fn command(&self, tool: &str, args: &[&str]) -> std::process::Command {
        let program = self.bin.join(tool);
        let mut command = if self.as_root {
            let mut runuser = std::process::Command::new("runuser");
            runuser.args(["-u", "postgres", "--"]).arg(program);
            runuser
        } else {
            std::process::Command::new(program)
        };
        command.args(args).stdout(std::process::Stdio::null());
        command
    }

    fn pg(&self, tool: &str, args: &[&str]) {
        let status = self.command(tool, args).status();
        assert!(status.expect(tool).success(), "{tool} {args:?} failed");
    }

    fn start(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.pg(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// A fast shutdown: sessions are ended, as when the server is stopped for maintenance.
    fn stop(&self) {
        self.pg("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// What clients saw while the load ran: every status with how long it took.
#[derive(Default)]
struct Seen {
    answers: Vec<(u16, std::time::Duration, std::time::Instant)>,
}

#[tokio::test]
async fn postgresql_stopped_under_load_answers_503_fast_and_the_api_recovers_by_itself() {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};
    if std::env::var("TEST_DATABASE_URL").is_err() {
        return;
    }
    let cluster = PrivateCluster::create();
    let data_dir = tempfile::tempdir().unwrap();
    let server = crate::binary::Server::start(
        &crate::binary::environment(&cluster.url(), data_dir.path()),
        data_dir.path(),
    )
    .await;
    let address = server.address.clone();
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&serde_json::json!({"mobile": ADMIN_MOBILE, "password": ADMIN_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token_of(&login);

    // Eight clients reading without pause for the whole test.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut load = Vec::new();
    for _ in 0..8 {
        let (client, address, token) = (client.clone(), address.clone(), token.clone());
        let (seen, running) = (seen.clone(), running.clone());
        load.push(tokio::spawn(async move {
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let reply = client
                    .get(format!("{address}/api/v1/me"))
                    .bearer_auth(&token)
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await
                    .expect("the API answers, database or not");
                let status = reply.status().as_u16();
                if status == 503 {
                    assert_eq!(
                        reply.headers().get("retry-after").map(|v| v.as_bytes()),
                        Some(&b"1"[..])
                    );
                    let problem: serde_json::Value = reply.json().await.unwrap();
                    assert_eq!(problem["code"], "service_unavailable", "{problem}");
                    assert!(
                        problem
                            .get("detail")
                            .is_none_or(|d| !d.to_string().contains("Io")),
                        "the cause leaks: {problem}"
                    );
                    // The client backs off as told.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                seen.lock()
                    .unwrap()
                    .answers
                    .push((status, started.elapsed(), Instant::now()));
            }
        }));
    }
    let ready = || async {
        client
            .get(format!("{address}/health/ready"))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("ready answers")
            .status()
            .as_u16()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ready().await, 200);

    cluster.stop();
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let probe = Instant::now();
    assert_eq!(ready().await, 503);
    assert!(
        probe.elapsed() < Duration::from_millis(1500),
        "readiness hung for {:?}",
        probe.elapsed()
    );

    cluster.start();
    let restarted = Instant::now();
    let mut recovered = None;
    while restarted.elapsed() < Duration::from_secs(30) {
        let reply = client
            .get(format!("{address}/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        if reply.status() == 200 && ready().await == 200 {
            recovered = Some(restarted.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for task in load {
        task.await.expect("a load client failed");
    }
    let recovered = recovered.expect("the API did not recover within 30 s of the database");
    let answers = std::mem::take(&mut seen.lock().unwrap().answers);
    let count = |wanted: u16| answers.iter().filter(|(s, ..)| *s == wanted).count();
    let during_outage = answers
        .iter()
        .filter(|(_, _, at)| *at > stopped && *at < restarted)
        .count();
    let slowest_refusal = answers
        .iter()
        .filter(|(s, ..)| *s == 503)
        .map(|(_, took, _)| *took)
        .max()
        .unwrap_or_default();
    println!(
        "outage of {:.1} s: {} answers ({} × 200, {} × 503, slowest 503 in {} ms, {} during the \
         outage); recovered {} ms after the database returned",
        (restarted - stopped).as_secs_f64(),
        answers.len(),
        count(200),
        count(503),
        slowest_refusal.as_millis(),
        during_outage,
        recovered.as_millis()
    );
    let other: Vec<_> = answers
        .iter()
        .filter(|(s, ..)| *s != 200 && *s != 503)
        .collect();
    assert!(
        other.is_empty(),
        "answers other than 200 and 503: {other:?}"
    );
    assert!(count(503) > 0, "the outage was never seen");
    assert!(
        slowest_refusal < Duration::from_secs(3),
        "a refusal took {slowest_refusal:?}: requests hang instead of failing fast"
    );
    assert!(
        recovered < Duration::from_secs(10),
        "recovery took {recovered:?}"
    );
    drop(server);
}
