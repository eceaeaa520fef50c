//! Typed configuration: defaults, then an optional `config.toml`, then environment variables.
//!
//! | key            | environment          | default                               |
//! |----------------|----------------------|---------------------------------------|
//! | bind           | `APP_BIND`           | `127.0.0.1:8080`                      |
//! | database_url   | `DATABASE_URL`       | SQLite file `<data_dir>/rural-collateral.db` |
//! | data_dir       | `APP_DATA_DIR`       | `./data`                              |
//! | jwt_secret     | `APP_JWT_SECRET`     | generated once, kept in `<data_dir>/jwt_secret` |
//! | admin_mobile   | `APP_ADMIN_MOBILE`   | none                                  |
//! | admin_password | `APP_ADMIN_PASSWORD` | none                                  |
//! | log_format     | `APP_LOG_FORMAT`     | `json` (`pretty` for humans)          |
//! | storage_url    | `APP_STORAGE_URL`    | documents in `<data_dir>/documents`   |

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub bind: String,
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub jwt_secret: Option<SecretString>,
    pub admin_mobile: Option<String>,
    pub admin_password: Option<SecretString>,
    #[serde(default)]
    pub log_format: LogFormat,
    /// Where documents are stored (`s3://bucket/prefix`); the data dir when absent.
    #[serde(default)]
    pub storage_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Pretty,
}

/// The defaults as a serialisable layer for figment (secrets have no default).
#[derive(Serialize)]
struct Defaults {
    bind: &'static str,
    data_dir: &'static str,
}

impl Settings {
    /// Defaults → `config.toml` in the working directory (if present) → `APP_*` and `DATABASE_URL`.
    pub fn load() -> anyhow::Result<Self> {
        Figment::from(Serialized::defaults(Defaults {
            bind: "127.0.0.1:8080",
            data_dir: "./data",
        }))
        .merge(Toml::file("config.toml"))
        .merge(Env::prefixed("APP_"))
        .merge(Env::raw().only(&["DATABASE_URL"]))
        .extract()
        .context("invalid configuration")
    }

    /// The database to use: `DATABASE_URL`, or the embedded SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.clone(),
            _ => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("rural-collateral.db").display()
            ),
        }
    }

    /// The configured JWT secret, or the one generated on first start and kept in the data dir.
    pub fn resolve_jwt_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.jwt_secret
            && !secret.expose_secret().is_empty()
        {
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
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_secrets() {
        let settings = Settings {
            bind: "127.0.0.1:0".into(),
            database_url: None,
            data_dir: "./data".into(),
            jwt_secret: Some(SecretString::from("super-secret-key")),
            admin_mobile: Some("13800000000".into()),
            admin_password: Some(SecretString::from("hunter2hunter2")),
            log_format: LogFormat::Json,
            storage_url: None,
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("super-secret-key"));
        assert!(!debug.contains("hunter2hunter2"));
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
