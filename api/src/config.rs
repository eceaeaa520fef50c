//! Typed configuration: defaults, then an optional `config.toml`, then environment variables.
//!
//! | key                      | environment                    | default                                      |
//! |--------------------------|--------------------------------|----------------------------------------------|
//! | bind                     | `APP_BIND`                     | `127.0.0.1:8080`                             |
//! | database_url             | `DATABASE_URL`                 | SQLite file `<data_dir>/rural-collateral.db` |
//! | data_dir                 | `APP_DATA_DIR`                 | `./data`                                     |
//! | jwt_secret               | `APP_JWT_SECRET`               | generated once, kept in `<data_dir>/jwt_secret` |
//! | admin_mobile             | `APP_ADMIN_MOBILE`             | none                                         |
//! | admin_password           | `APP_ADMIN_PASSWORD`           | none (generated and printed once)            |
//! | log_format               | `APP_LOG_FORMAT`               | `json` (`pretty` for humans)                 |
//! | storage_url              | `APP_STORAGE_URL`              | documents in `<data_dir>/documents`          |
//! | metrics                  | `APP_METRICS`                  | `main` (`off`, or an address of its own)     |
//! | trust_proxy_headers      | `APP_TRUST_PROXY_HEADERS`      | `false`                                      |
//! | login_rate_per_address   | `APP_LOGIN_RATE_PER_ADDRESS`   | `30` sign-ins a minute                       |
//! | refresh_rate_per_address | `APP_REFRESH_RATE_PER_ADDRESS` | `60` refreshes a minute                      |
//! | body_timeout_secs        | `APP_BODY_TIMEOUT_SECS`        | `60`                                         |
//!
//! Text settings are read from the environment verbatim: a mobile number, an all-digit password
//! or secret stays the string it is (figment's environment provider would make it a number).

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    #[serde(default = "defaults::bind")]
    pub bind: String,
    /// Kept secret: a PostgreSQL URL may carry a password.
    pub database_url: Option<SecretString>,
    #[serde(default = "defaults::data_dir")]
    pub data_dir: PathBuf,
    pub jwt_secret: Option<SecretString>,
    pub admin_mobile: Option<String>,
    pub admin_password: Option<SecretString>,
    #[serde(default)]
    pub log_format: LogFormat,
    /// Where documents are stored (`s3://bucket/prefix`); the data dir when absent.
    #[serde(default)]
    pub storage_url: Option<String>,
    /// Where Prometheus scrapes `/metrics`.
    #[serde(default)]
    pub metrics: MetricsEndpoint,
    /// Take the client address from `X-Forwarded-For` (only behind a proxy that sets it).
    #[serde(default)]
    pub trust_proxy_headers: bool,
    /// Sign-ins per client address and minute.
    #[serde(default = "defaults::login_rate")]
    pub login_rate_per_address: u32,
    /// Token refreshes per client address and minute.
    #[serde(default = "defaults::refresh_rate")]
    pub refresh_rate_per_address: u32,
    /// Seconds a client has to send a request body (and an upload), else 408.
    #[serde(default = "defaults::body_timeout")]
    pub body_timeout_secs: u64,
    /// Seconds between two re-evaluations of every disbursed loan's shortfall (valuations
    /// expire with the date).
    #[serde(default = "defaults::shortfall_sweep")]
    pub shortfall_sweep_secs: u64,
    /// Seconds between two seals of the audit chains.
    #[serde(default = "defaults::audit_seal")]
    pub audit_seal_secs: u64,
}

/// The built-in defaults, one place for `Settings::default` and for keys left unset.
pub(crate) mod defaults {
    pub fn bind() -> String {
        "127.0.0.1:8080".into()
    }

    pub fn data_dir() -> std::path::PathBuf {
        "./data".into()
    }

    pub fn login_rate() -> u32 {
        30
    }

    pub fn refresh_rate() -> u32 {
        60
    }

    pub fn body_timeout() -> u64 {
        60
    }

    pub fn shortfall_sweep() -> u64 {
        3600
    }

    pub fn audit_seal() -> u64 {
        3600
    }
}

impl Default for Settings {
    /// The embedded default: what `Settings::load` gives with no file and no environment.
    fn default() -> Self {
        Settings {
            bind: defaults::bind(),
            database_url: None,
            data_dir: defaults::data_dir(),
            jwt_secret: None,
            admin_mobile: None,
            admin_password: None,
            log_format: LogFormat::default(),
            storage_url: None,
            metrics: MetricsEndpoint::default(),
            trust_proxy_headers: false,
            login_rate_per_address: defaults::login_rate(),
            refresh_rate_per_address: defaults::refresh_rate(),
            body_timeout_secs: defaults::body_timeout(),
            shortfall_sweep_secs: defaults::shortfall_sweep(),
            audit_seal_secs: defaults::audit_seal(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

/// `main` serves `/metrics` on the API's own address, `off` nowhere, anything else is an address
/// of its own (e.g. `0.0.0.0:9090`, reachable by the scraper but not published).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MetricsEndpoint {
    #[default]
    Main,
    Off,
    Separate(String),
}

impl<'de> Deserialize<'de> for MetricsEndpoint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(match raw.trim() {
            "" | "main" => MetricsEndpoint::Main,
            "off" => MetricsEndpoint::Off,
            address => MetricsEndpoint::Separate(address.to_owned()),
        })
    }
}

/// Settings whose values are text, with the environment variable each is read from verbatim.
const TEXT_SETTINGS: [(&str, &str); 9] = [
    ("bind", "APP_BIND"),
    ("database_url", "DATABASE_URL"),
    ("data_dir", "APP_DATA_DIR"),
    ("jwt_secret", "APP_JWT_SECRET"),
    ("admin_mobile", "APP_ADMIN_MOBILE"),
    ("admin_password", "APP_ADMIN_PASSWORD"),
    ("log_format", "APP_LOG_FORMAT"),
    ("storage_url", "APP_STORAGE_URL"),
    ("metrics", "APP_METRICS"),
];

/// The JWT secret the old `docker-compose.yml` shipped: public, so never accepted.
const PUBLISHED_EXAMPLE_SECRET: &str = "change-me-to-a-long-random-secret-0123456789";
const MIN_SECRET_LEN: usize = 32;

impl Settings {
    /// Defaults → `config.toml` in the working directory (if present) → `APP_*` and `DATABASE_URL`.
    pub fn load() -> anyhow::Result<Self> {
        let text_keys: Vec<&str> = TEXT_SETTINGS.iter().map(|(key, _)| *key).collect();
        let mut figment = Figment::from(Toml::file("config.toml")).merge(
            Env::prefixed("APP_").filter(move |key| {
                !text_keys
                    .iter()
                    .any(|text| key.as_str().eq_ignore_ascii_case(text))
            }),
        );
        for (key, variable) in TEXT_SETTINGS {
            match std::env::var(variable) {
                Ok(value) => figment = figment.merge(Serialized::default(key, value)),
                Err(std::env::VarError::NotPresent) => {}
                Err(std::env::VarError::NotUnicode(_)) => {
                    anyhow::bail!("{variable} is not valid UTF-8")
                }
            }
        }
        let settings: Settings = figment.extract().context("invalid configuration")?;
        settings.without_blanks().checked()
    }

    /// Numbers that would make the server refuse everyone or overflow are refused at start.
    fn checked(self) -> anyhow::Result<Self> {
        const MAX_RATE: u32 = 1_000_000;
        for (name, rate) in [
            ("APP_LOGIN_RATE_PER_ADDRESS", self.login_rate_per_address),
            (
                "APP_REFRESH_RATE_PER_ADDRESS",
                self.refresh_rate_per_address,
            ),
        ] {
            if !(1..=MAX_RATE).contains(&rate) {
                anyhow::bail!("{name} must be between 1 and {MAX_RATE}");
            }
        }
        if !(1..=3600).contains(&self.body_timeout_secs) {
            anyhow::bail!("APP_BODY_TIMEOUT_SECS must be between 1 and 3600");
        }
        if !(1..=86_400).contains(&self.shortfall_sweep_secs) {
            anyhow::bail!("APP_SHORTFALL_SWEEP_SECS must be between 1 and 86400");
        }
        if !(1..=86_400).contains(&self.audit_seal_secs) {
            anyhow::bail!("APP_AUDIT_SEAL_SECS must be between 1 and 86400");
        }
        Ok(self)
    }

    /// An empty value (`APP_ADMIN_PASSWORD=` in a compose file) means "not set".
    fn without_blanks(mut self) -> Self {
        fn blank(value: &str) -> bool {
            value.trim().is_empty()
        }
        self.database_url = self.database_url.filter(|url| !blank(url.expose_secret()));
        self.jwt_secret = self.jwt_secret.filter(|s| !blank(s.expose_secret()));
        self.admin_mobile = self.admin_mobile.filter(|m| !blank(m));
        self.admin_password = self.admin_password.filter(|p| !blank(p.expose_secret()));
        self.storage_url = self.storage_url.filter(|u| !blank(u));
        self
    }

    /// The database to use: `DATABASE_URL`, or the embedded SQLite file in the data directory.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) if !url.expose_secret().trim().is_empty() => url.clone(),
            _ => SecretString::from(format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("rural-collateral.db").display()
            )),
        }
    }

    /// The configured JWT secret, or the one generated on first start and kept in the data dir.
    /// A short or published secret is refused: anyone could forge tokens with it.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.jwt_secret
            && !secret.expose_secret().is_empty()
        {
            let value = secret.expose_secret();
            if value == PUBLISHED_EXAMPLE_SECRET {
                anyhow::bail!(
                    "APP_JWT_SECRET is the published example value; set a long random secret \
                     (e.g. `openssl rand -hex 32`) or leave it unset to have one generated"
                );
            }
            if value.chars().count() < MIN_SECRET_LEN {
                anyhow::bail!("APP_JWT_SECRET must be at least {MIN_SECRET_LEN} characters");
            }
            return Ok(secret.clone());
        }
        load_or_create_secret(&self.data_dir.join("jwt_secret"))
    }
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if !existing.is_empty() {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
    }
    let mut bytes = [0u8; 48];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(SecretString::from(secret))
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let settings = Settings {
            database_url: Some(SecretString::from("postgres://app:pg-pass-123@db/rc")),
            jwt_secret: Some(SecretString::from("super-secret-key")),
            admin_mobile: Some("13800000000".into()),
            admin_password: Some(SecretString::from("hunter2hunter2")),
            ..Settings::default()
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("super-secret-key"));
        assert!(!debug.contains("hunter2hunter2"));
        assert!(!debug.contains("pg-pass-123"));
    }

    #[test]
    fn text_settings_from_the_environment_stay_text() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("APP_ADMIN_MOBILE", "13800000000");
            jail.set_env("APP_ADMIN_PASSWORD", "00012345678");
            jail.set_env("APP_JWT_SECRET", "0123456789012345678901234567890123456789");
            jail.set_env("APP_BIND", "0.0.0.0:8080");
            jail.set_env("APP_LOGIN_RATE_PER_ADDRESS", "7");
            jail.set_env("APP_TRUST_PROXY_HEADERS", "true");
            jail.set_env("APP_STORAGE_URL", "");
            let settings = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(settings.admin_mobile.as_deref(), Some("13800000000"));
            assert_eq!(
                settings.admin_password.as_ref().map(|p| p.expose_secret()),
                Some("00012345678")
            );
            assert_eq!(settings.bind, "0.0.0.0:8080");
            assert_eq!(settings.login_rate_per_address, 7);
            assert!(settings.trust_proxy_headers);
            assert_eq!(settings.storage_url, None);
            Ok(())
        });
    }

    #[test]
    fn config_file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "config.toml",
                "bind = \"127.0.0.1:9000\"\nadmin_mobile = \"13900000000\"\nmetrics = \"off\"\n",
            )?;
            jail.set_env("APP_BIND", "127.0.0.1:9001");
            let settings = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(settings.bind, "127.0.0.1:9001");
            assert_eq!(settings.admin_mobile.as_deref(), Some("13900000000"));
            assert_eq!(settings.metrics, MetricsEndpoint::Off);
            Ok(())
        });
    }

    #[test]
    fn refuses_numbers_out_of_range() {
        for (name, value) in [
            ("APP_LOGIN_RATE_PER_ADDRESS", "0"),
            ("APP_REFRESH_RATE_PER_ADDRESS", "4294967295"),
            ("APP_BODY_TIMEOUT_SECS", "18446744073709551615"),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.set_env(name, value);
                assert!(Settings::load().is_err(), "{name}={value} accepted");
                Ok(())
            });
        }
    }

    #[test]
    fn refuses_short_and_published_secrets() {
        for bad in [PUBLISHED_EXAMPLE_SECRET, "short-secret"] {
            let settings = Settings {
                jwt_secret: Some(SecretString::from(bad)),
                ..Settings::default()
            };
            assert!(settings.resolve_jwt_secret().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn metrics_endpoint_forms() {
        let parse = |raw: &str| {
            serde_json::from_value::<MetricsEndpoint>(serde_json::Value::String(raw.into()))
                .unwrap()
        };
        assert_eq!(parse("main"), MetricsEndpoint::Main);
        assert_eq!(parse("off"), MetricsEndpoint::Off);
        assert_eq!(
            parse("0.0.0.0:9090"),
            MetricsEndpoint::Separate("0.0.0.0:9090".into())
        );
    }

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("rc-secret-{}", uuid::Uuid::now_v7()));
        let path = dir.join("jwt_secret");
        let first = load_or_create_secret(&path).unwrap();
        let second = load_or_create_secret(&path).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(first.expose_secret().len(), 96);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
