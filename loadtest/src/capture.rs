//! What one request sends to the database, read from PostgreSQL's own statement log, and the
//! database's ceiling for it: `pgbench` running exactly those statements.
//!
//! Capturing: `log_statement = 'all'` is set on the database (new connections only, so the
//! server is started after it), the harness writes a marker statement before and after each
//! request from its own connection, and the log between the markers is read back: every
//! `execute`/`statement` line of another backend, with its `parameters:` detail substituted.

use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection};

/// The newest PostgreSQL server log on this machine.
pub fn server_log() -> anyhow::Result<PathBuf> {
    let mut logs: Vec<PathBuf> = std::fs::read_dir("/var/log/postgresql")
        .context("no /var/log/postgresql: pass --pg-log")?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    logs.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    logs.pop().context("no PostgreSQL log found: pass --pg-log")
}

pub fn log_size(log: &Path) -> u64 {
    std::fs::metadata(log).map_or(0, |m| m.len())
}

/// Writes a marker into the log from the harness's own connection.
pub async fn mark(db: &DatabaseConnection, label: &str) -> anyhow::Result<()> {
    // The harness's connection predates the database's setting: log this session too.
    db.execute_unprepared("SET log_statement = 'all'").await?;
    db.execute_unprepared(&format!("SELECT 'loadtest-marker:{label}'"))
        .await?;
    Ok(())
}

/// The statements of every marked section of the log written since `from`, by label.
pub fn read_sections(log: &Path, from: u64) -> anyhow::Result<BTreeMap<String, Vec<String>>> {
    let mut file = std::fs::File::open(log)?;
    file.seek(SeekFrom::Start(from))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    // Join continuation lines (a statement's own newlines) to their entry.
    let mut entries: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with(|c: char| c.is_ascii_digit()) || entries.is_empty() {
            entries.push(line.to_owned());
        } else if let Some(last) = entries.last_mut() {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    let mut sections = BTreeMap::new();
    let mut current: Option<(String, String, Vec<String>)> = None;
    let mut pending: Option<(String, String)> = None;
    let flush = |pending: &mut Option<(String, String)>,
                 current: &mut Option<(String, String, Vec<String>)>| {
        if let (Some((_, sql)), Some((_, _, statements))) = (pending.take(), current.as_mut()) {
            statements.push(sql);
        }
    };
    for entry in entries {
        let Some((pid, message)) = split_entry(&entry) else {
            continue;
        };
        if let Some(label) = marker(message) {
            flush(&mut pending, &mut current);
            match label.strip_prefix("begin:") {
                Some(name) => current = Some((name.to_owned(), pid.to_owned(), Vec::new())),
                None => {
                    if let Some((name, _, statements)) = current.take() {
                        sections.insert(name, statements);
                    }
                }
            }
            continue;
        }
        let Some((_, marker_pid, _)) = &current else {
            continue;
        };
        if pid == marker_pid {
            continue;
        }
        if let Some(detail) = message.strip_prefix("DETAIL:  parameters: ") {
            if let Some((p, sql)) = pending.take()
                && p == pid
            {
                pending = Some((p, substitute(&sql, detail)));
            }
            continue;
        }
        let sql = message.strip_prefix("LOG:  statement: ").or_else(|| {
            message
                .strip_prefix("LOG:  execute ")
                .and_then(|rest| rest.split_once(": ").map(|(_, sql)| sql))
        });
        if let Some(sql) = sql {
            flush(&mut pending, &mut current);
            pending = Some((pid.to_owned(), sql.to_owned()));
        }
    }
    flush(&mut pending, &mut current);
    Ok(sections)
}

/// `(pid, message)` of a log entry `2026-… UTC [pid] user@db MESSAGE`.
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    let open = entry.find('[')?;
    let close = open + entry[open..].find("] ")?;
    let pid = &entry[open + 1..close];
    let rest = &entry[close + 2..];
    // `user@db ` precedes the message when the session has one.
    let message = match rest.split_once(' ') {
        Some((who, message)) if who.contains('@') => message,
        _ => rest,
    };
    Some((pid, message))
}

fn marker(message: &str) -> Option<&str> {
    let start = message.find("'loadtest-marker:")? + "'loadtest-marker:".len();
    let end = start + message[start..].find('\'')?;
    message.strip_prefix("LOG:  statement: ")?;
    Some(&message[start..end])
}

/// Replaces `$n` with the logged literal, highest number first (`$10` before `$1`).
fn substitute(sql: &str, detail: &str) -> String {
    let mut values: Vec<(usize, String)> = Vec::new();
    let mut rest = detail;
    while let Some(dollar) = rest.find('$') {
        rest = &rest[dollar + 1..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let Ok(n) = digits.parse::<usize>() else {
            continue;
        };
        rest = rest[digits.len()..].trim_start_matches(" = ");
        if let Some(after) = rest.strip_prefix("NULL") {
            values.push((n, "NULL".into()));
            rest = after;
        } else if rest.starts_with('\'') {
            // A quoted literal, '' inside it.
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            values.push((n, rest[..=i.min(bytes.len() - 1)].to_owned()));
            rest = &rest[(i + 1).min(rest.len())..];
        }
    }
    values.sort_by_key(|v| std::cmp::Reverse(v.0));
    let mut out = sql.to_owned();
    for (n, value) in values {
        out = out.replace(&format!("${n}"), &value);
    }
    out
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Ceiling {
    pub tps: f64,
    pub latency_ms: f64,
}

/// Runs the statements as one pgbench transaction, `clients` at once, for `seconds`.
pub fn pgbench(
    url: &Url,
    statements: &[String],
    clients: usize,
    seconds: u64,
    script: &Path,
) -> anyhow::Result<Ceiling> {
    let mut text = String::new();
    for statement in statements {
        text.push_str(statement.trim_end_matches(';'));
        text.push_str(";\n");
    }
    std::fs::write(script, text)?;
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .args(["-c", &clients.to_string(), "-T", &seconds.to_string()])
        .arg("-f")
        .arg(script)
        .args([
            "-h",
            &url.host,
            "-p",
            &url.port.to_string(),
            "-U",
            &url.user,
        ])
        .arg(&url.database)
        .output()
        .context("cannot run pgbench (Debian: postgresql-contrib / postgresql-client)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed: {}{}",
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let number_after = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    Ok(Ceiling {
        tps: number_after("tps = ").context("no tps in pgbench's output")?,
        latency_ms: number_after("latency average = ").unwrap_or(0.0),
    })
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of each statement, as text.
pub async fn explain(db: &DatabaseConnection, statements: &[String]) -> anyhow::Result<String> {
    let mut out = String::new();
    for statement in statements {
        let upper = statement.trim_start().to_ascii_uppercase();
        if !upper.starts_with("SELECT") && !upper.starts_with("WITH") {
            continue;
        }
        out.push_str(&format!("-- {statement}\n"));
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("EXPLAIN (ANALYZE, BUFFERS) {statement}"),
            ))
            .await?;
        for row in rows {
            let line: String = row.try_get_by_index(0)?;
            out.push_str(&abbreviate(&line));
            out.push('\n');
        }
        out.push('\n');
    }
    Ok(out)
}

/// A plan line with its long id lists cut short (`'{…, 20 values}'`), so plans stay readable.
fn abbreviate(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("'{") {
        let Some(len) = rest[start..].find("}'") else {
            break;
        };
        let list = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        if list.len() > 80 {
            out.push_str(&format!("'{{…{} values}}'", list.split(',').count()));
        } else {
            out.push_str(&rest[start..start + len + 2]);
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// The parts of a `postgres://user@host:port/database` URL that pgbench takes.
#[derive(Debug, Clone)]
pub struct Url {
    pub user: String,
    pub host: String,
    pub port: u16,
    pub database: String,
}

impl Url {
    pub fn parse(base: &str, database: &str) -> anyhow::Result<Url> {
        let rest = base
            .strip_prefix("postgres://")
            .or_else(|| base.strip_prefix("postgresql://"))
            .context("--postgres must be postgres://user@host:port")?;
        let rest = rest.trim_end_matches('/');
        let (user, host_port) = rest.split_once('@').unwrap_or(("postgres", rest));
        let user = user.split(':').next().unwrap_or("postgres");
        let (host, port) = host_port.split_once(':').unwrap_or((host_port, "5432"));
        Ok(Url {
            user: user.to_owned(),
            host: host.to_owned(),
            port: port.parse()?,
            database: database.to_owned(),
        })
    }

    pub fn to_database_url(&self) -> String {
        format!(
            "postgres://{}@{}:{}/{}",
            self.user, self.host, self.port, self.database
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_substituted_highest_first_with_quotes_kept() {
        let sql = "SELECT * FROM t WHERE a = $1 AND b = $10 AND c = $2";
        let detail = "$1 = 'x', $2 = 'it''s, here', $10 = NULL";
        assert_eq!(
            substitute(sql, detail),
            "SELECT * FROM t WHERE a = 'x' AND b = NULL AND c = 'it''s, here'"
        );
    }

    #[test]
    fn log_entries_split_into_backend_and_message() {
        let entry = "2026-11-29 00:13:21.939 UTC [1234] postgres@lt LOG:  execute s1: SELECT 1";
        assert_eq!(
            split_entry(entry),
            Some(("1234", "LOG:  execute s1: SELECT 1"))
        );
    }
}
