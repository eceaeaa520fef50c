//! Connecting to the database. This is the one place that knows which backend it talks to.

use std::time::Duration;

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::LikeExpr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqlErr, TransactionTrait,
};

pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        // A ping before every checkout doubled the round trips of a read (one per statement);
        // only a connection idle long enough to have been dropped is tested.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets readers run beside the writer; the busy timeout makes a second writer wait
        // for the lock instead of failing at once.
        // A writer holds its connection while it waits for the file lock, so a burst of writes
        // can keep every connection busy for seconds: a checkout waits as long as the lock may.
        options
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        if let Some(path) = sqlite_file(url)
            && let Some(dir) = std::path::Path::new(path).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
    } else {
        // While PostgreSQL is down, sqlx retries a refused connection until the checkout's
        // deadline: that deadline is how long a request hangs before its 503. Two seconds is
        // also far beyond any healthy wait for one of 20 connections.
        options
            .max_connections(20)
            .acquire_timeout(Duration::from_secs(2));
    }
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database ({})", redact(url)))
}

pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("database migration failed")
}

/// A transaction that holds the write lock from its first statement. SQLite starts a plain
/// `BEGIN` as a reader: a transaction that reads and then writes fails at once with "database is
/// locked" when another writer committed in between. Writing first (a statement that changes
/// nothing) takes the lock up front, so concurrent writers queue on the busy timeout instead.
/// PostgreSQL locks rows as they are written and needs no such statement (it would cost a
/// round trip).
pub async fn begin_writing(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        txn.execute_unprepared("DELETE FROM throttles WHERE 1 = 0")
            .await?;
    }
    Ok(txn)
}

/// The current time as stored: PostgreSQL keeps microseconds, so nothing finer is handed out,
/// and what a response shows equals what a later read returns.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

/// Today's date in the county (Beijing time, UTC+8): what "valid today" means for valuations.
pub fn today() -> chrono::NaiveDate {
    let beijing_offset = chrono::TimeDelta::hours(8);
    (chrono::Utc::now() + beijing_offset).date_naive()
}

/// The first instant of a day in the county (UTC+8), as stored.
pub fn county_day_start(day: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
    day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - chrono::TimeDelta::hours(8)
}

/// True when the database could not be reached or dropped the connection (down, restarting,
/// the pool exhausted), as opposed to refusing the statement.
pub fn is_unavailable(err: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx};
    let runtime = match err {
        DbErr::ConnectionAcquire(_) => return true,
        DbErr::Conn(runtime) | DbErr::Exec(runtime) | DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let RuntimeErr::SqlxError(cause) = runtime else {
        return matches!(err, DbErr::Conn(_));
    };
    match cause.as_ref() {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's "connection exception" class, and the server shutting down or starting.
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => matches!(err, DbErr::Conn(_)),
    }
}

/// True when the statement failed on a unique constraint, on either backend.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A `LIKE` pattern matching `needle` anywhere, case-insensitively when compared against a
/// lower-cased column, with `%`, `_` and `\\` taken literally on both backends.
pub fn contains_pattern(needle: &str) -> LikeExpr {
    let mut escaped = String::with_capacity(needle.len() + 2);
    escaped.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    LikeExpr::new(escaped).escape('\\')
}

/// True when the statement failed on a foreign key, on either backend.
pub fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(SqlErr::ForeignKeyConstraintViolation(_))
    )
}

/// True when a unique violation names `needle` (a column or index name). SQLite reports
/// `table.column`, PostgreSQL the constraint name; both contain the column for our indexes.
pub fn unique_violation_on(err: &DbErr, needle: &str) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(msg)) if msg.contains(needle))
}

fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// A URL fit for an error message: the password, if any, is hidden.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{ConnAcquireErr, RuntimeErr, sqlx};

    #[test]
    fn a_database_out_of_reach_is_unavailable_and_a_refused_statement_is_not() {
        let sqlx_error = |e: sqlx::Error| DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)));
        assert!(is_unavailable(&DbErr::ConnectionAcquire(
            ConnAcquireErr::Timeout
        )));
        assert!(is_unavailable(&sqlx_error(sqlx::Error::Io(
            std::io::Error::other("connection reset")
        ))));
        assert!(is_unavailable(&sqlx_error(sqlx::Error::PoolTimedOut)));
        assert!(!is_unavailable(&sqlx_error(sqlx::Error::RowNotFound)));
        assert!(!is_unavailable(&DbErr::RecordNotFound("x".into())));
    }

    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/rc"),
            "postgres://app:***@db:5432/rc"
        );
        assert_eq!(
            redact("sqlite://data/x.db?mode=rwc"),
            "sqlite://data/x.db?mode=rwc"
        );
    }

    #[test]
    fn finds_sqlite_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/a.db?mode=rwc"),
            Some("./data/a.db")
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
