//! The release server as a child process, configured from the environment as in production.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

pub struct Server {
    child: Child,
    pub base: String,
    pub pid: u32,
}

/// The server binary next to this one (`cargo build --release` puts both in `target/release`),
/// built first when missing (`cargo run --release -p loadtest` builds only the harness).
pub fn binary() -> anyhow::Result<PathBuf> {
    let here = std::env::current_exe()?;
    let path = here
        .parent()
        .context("no directory")?
        .join("rural-collateral");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        println!("building the server: cargo build --release --bin rural-collateral");
        let built = std::process::Command::new(cargo)
            .args(["build", "--release", "--bin", "rural-collateral"])
            .status()?;
        if !built.success() || !path.exists() {
            bail!(
                "{} is missing: build it with `cargo build --release --workspace`",
                path.display()
            );
        }
    }
    Ok(path)
}

impl Server {
    pub async fn start(binary: &Path, database_url: &str, log: &Path) -> anyhow::Result<Server> {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
            listener.local_addr()?.port()
        };
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(binary)
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("APP_BIND", format!("127.0.0.1:{port}"))
            .env(
                "APP_JWT_SECRET",
                "loadtest-secret-0123456789abcdef0123456789abcdef",
            )
            .env("APP_ADMIN_MOBILE", "13000000000")
            .env("APP_DATA_DIR", log.with_extension("data"))
            .env("APP_LOG_FORMAT", "json")
            // Every request comes from 127.0.0.1: the per-address sign-in limit would stop the
            // login scenario after 30. The per-mobile limit stays as it is.
            .env("APP_LOGIN_RATE_PER_ADDRESS", "1000000")
            .env("APP_METRICS", "off")
            // The hourly jobs would walk every loan in the middle of a measurement.
            .env("APP_SHORTFALL_SWEEP_SECS", "86400")
            .env("APP_AUDIT_SEAL_SECS", "86400")
            .env("RUST_LOG", "info")
            .stdout(Stdio::from(log_file.try_clone()?))
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child.id().context("server exited at once")?;
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            pid,
        };
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let ready = client
                .get(format!("{}/health/ready", server.base))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("the server did not become ready; see {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Resident memory, in MiB.
    pub fn rss_mib(&self) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse::<f64>().ok())
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
