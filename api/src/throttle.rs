//! Fixed-window counters in the database, so that every API instance counts together.
//!
//! Each counter is one row; taking a slot is a single conditional `UPDATE`, so two requests can
//! never both take the last slot, on any number of instances. Expired rows mean the same as
//! absent ones and are swept periodically ([`sweep`]).

use chrono::{DateTime, Duration, Utc};
use entity::throttle;
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::db;

/// At most `max` hits per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    pub const fn per_minute(max: u32) -> Limit {
        Limit {
            max,
            window: Duration::minutes(1),
        }
    }
}

/// The window is full until this time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full {
    pub until: DateTime<Utc>,
}

impl Full {
    /// Whole seconds to wait, at least one (for `Retry-After`).
    pub fn retry_after_secs(&self) -> u64 {
        let millis = u64::try_from((self.until - db::now()).num_milliseconds()).unwrap_or(0);
        std::cmp::max(millis.div_ceil(1000), 1)
    }
}

/// Takes one slot of `key`'s current window, or reports when the window ends. A window starts at
/// the first hit after the previous one ended.
pub async fn take(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
) -> Result<Result<(), Full>, DbErr> {
    let outcome = match try_take(db, key, limit).await? {
        // The row was swept or cleared between our insert and update: once more.
        Err(None) => try_take(db, key, limit).await?,
        other => other,
    };
    Ok(outcome.map_err(|full| full.unwrap_or(Full { until: db::now() })))
}

/// One attempt: taken, full (until when), or the row was gone (`Err(None)`).
async fn try_take(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
) -> Result<Result<(), Option<Full>>, DbErr> {
    let now = db::now();
    let cutoff = now - limit.window;
    throttle::Entity::insert(throttle::ActiveModel {
        key: Set(key.to_owned()),
        hits: Set(0),
        misses: Set(0),
        window_start: Set(now),
    })
    .on_conflict_do_nothing_on([throttle::Column::Key])
    .exec_without_returning(db)
    .await?;
    let expired = || Expr::col(throttle::Column::WindowStart).lte(cutoff);
    let taken = throttle::Entity::update_many()
        .col_expr(
            throttle::Column::Hits,
            CaseStatement::new()
                .case(expired(), 1)
                .finally(Expr::col(throttle::Column::Hits).add(1))
                .into(),
        )
        .col_expr(
            throttle::Column::Misses,
            CaseStatement::new()
                .case(expired(), 0)
                .finally(Expr::col(throttle::Column::Misses))
                .into(),
        )
        .col_expr(
            throttle::Column::WindowStart,
            CaseStatement::new()
                .case(expired(), now)
                .finally(Expr::col(throttle::Column::WindowStart))
                .into(),
        )
        .filter(throttle::Column::Key.eq(key))
        .filter(expired().or(Expr::col(throttle::Column::Hits).lt(limit.max as i32)))
        .exec(db)
        .await?
        .rows_affected
        == 1;
    if taken {
        return Ok(Ok(()));
    }
    Ok(Err(window_end(db, key, limit)
        .await?
        .map(|until| Full { until })))
}

/// The attempt failed: its slot stays taken and is remembered as a miss.
pub async fn miss(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    throttle::Entity::update_many()
        .col_expr(
            throttle::Column::Misses,
            Expr::col(throttle::Column::Misses).add(1),
        )
        .filter(throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// The attempt succeeded: its own slot and those of the misses before it are given back; slots
/// of attempts still under way stay taken.
pub async fn succeed(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    let remaining = Expr::col(throttle::Column::Hits)
        .sub(1)
        .sub(Expr::col(throttle::Column::Misses));
    throttle::Entity::update_many()
        .col_expr(
            throttle::Column::Hits,
            CaseStatement::new()
                .case(remaining.clone().gt(0), remaining)
                .finally(0)
                .into(),
        )
        .col_expr(throttle::Column::Misses, Expr::value(0))
        .filter(throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// When the window is full, restarts it now, so that the wait runs from the last counted hit.
/// True when it did (the caller may log the lock-out).
pub async fn hold_if_full(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
) -> Result<bool, DbErr> {
    Ok(throttle::Entity::update_many()
        .col_expr(throttle::Column::WindowStart, Expr::value(db::now()))
        .filter(throttle::Column::Key.eq(key))
        .filter(throttle::Column::Hits.gte(limit.max as i32))
        .exec(db)
        .await?
        .rows_affected
        == 1)
}

/// Until when the keys' windows are full, for those that are.
pub async fn full_until(
    db: &impl ConnectionTrait,
    keys: Vec<String>,
    limit: Limit,
) -> Result<Vec<(String, DateTime<Utc>)>, DbErr> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let now = db::now();
    Ok(throttle::Entity::find()
        .filter(throttle::Column::Key.is_in(keys))
        .filter(throttle::Column::Hits.gte(limit.max as i32))
        .filter(throttle::Column::WindowStart.gt(now - limit.window))
        .all(db)
        .await?
        .into_iter()
        .map(|row| (row.key, row.window_start + limit.window))
        .collect())
}

/// Forgets a counter (an admin reset a password: the lock ends).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DbErr> {
    throttle::Entity::delete_many()
        .filter(throttle::Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes counters whose window ended more than `older_than` ago; safe on every instance.
pub async fn sweep(db: &impl ConnectionTrait, older_than: Duration) -> Result<u64, DbErr> {
    Ok(throttle::Entity::delete_many()
        .filter(throttle::Column::WindowStart.lt(db::now() - older_than))
        .exec(db)
        .await?
        .rows_affected)
}

async fn window_end(
    db: &impl ConnectionTrait,
    key: &str,
    limit: Limit,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    Ok(throttle::Entity::find_by_id(key.to_owned())
        .one(db)
        .await?
        .map(|row| row.window_start + limit.window))
}
