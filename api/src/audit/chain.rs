//! Sealing and verifying the audit chains. One streaming walk over every event, chain by chain
//! in position order, checks each link (position, previous hash, own hash), each chain's head
//! row, and recomputes the newest seal's root; memory stays flat whatever the number of events.

use chrono::{DateTime, Utc};
use entity::{audit_chain, audit_event, audit_seal};
use futures_util::TryStreamExt;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryOrder, Statement,
    StreamTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;

/// What verification found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Report {
    /// No break anywhere.
    pub ok: bool,
    pub events_checked: u64,
    pub seals_checked: u64,
    /// The first break found, walking chain by chain; absent when `ok`.
    pub first_break: Option<Break>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Break {
    /// The event where the chain breaks (for a missing newest event: the chain's last one).
    pub event_id: Option<Uuid>,
    /// The seal that no longer matches, for `seal_*` reasons.
    pub seal_id: Option<Uuid>,
    /// `hash_mismatch` (a field was changed), `prev_hash_mismatch`, `missing_event` (one before
    /// it is gone), `head_mismatch` (newest events gone), `empty_chain`, `seal_link_mismatch`,
    /// `seal_hash_mismatch`, `seal_mismatch` (chains differ from what the seal recorded).
    pub reason: String,
}

#[derive(Debug, FromQueryResult)]
struct Link {
    id: Uuid,
    actor_id: Option<Uuid>,
    action: String,
    object_type: String,
    object_id: Uuid,
    summary: String,
    at: DateTime<Utc>,
    seq: i64,
    prev_hash: String,
    hash: String,
    head_seq: Option<i64>,
    head_hash: Option<String>,
}

/// Every event with its chain's head, chain by chain, in position order. No parameters: the
/// same text on both backends.
const WALK: &str = "SELECT e.id, e.actor_id, e.action, e.object_type, e.object_id, e.summary, \
     e.at, e.seq, e.prev_hash, e.hash, c.head_seq, c.head_hash \
     FROM audit_events e LEFT JOIN audit_chains c \
     ON c.object_type = e.object_type AND c.object_id = e.object_id \
     ORDER BY e.object_type, e.object_id, e.seq";

/// A chain head without any event left.
const EMPTY_CHAIN: &str = "SELECT c.object_type, c.object_id FROM audit_chains c \
     WHERE NOT EXISTS (SELECT 1 FROM audit_events e \
     WHERE e.object_type = c.object_type AND e.object_id = c.object_id)";

/// The root over the chains' last events up to an instant, as a seal records it.
struct Root {
    covers_until: DateTime<Utc>,
    hasher: Sha256,
    chains: i64,
    events: i64,
}

impl Root {
    fn new(covers_until: DateTime<Utc>) -> Root {
        Root {
            covers_until,
            hasher: Sha256::new(),
            chains: 0,
            events: 0,
        }
    }

    fn add_chain(&mut self, last: Option<&(String, Uuid, i64, String)>, covered: i64) {
        if let Some((object_type, object_id, seq, hash)) = last {
            self.hasher
                .update(format!("{object_type}|{object_id}|{seq}|{hash}\n").as_bytes());
            self.chains += 1;
            self.events += covered;
        }
    }

    fn finish(self) -> (String, i64, i64) {
        (
            audit_event::hex(&self.hasher.finalize()),
            self.chains,
            self.events,
        )
    }
}

/// The last link walked in a chain, with the chain's head row.
struct Tail {
    id: Uuid,
    seq: i64,
    hash: String,
    head_seq: Option<i64>,
    head_hash: Option<String>,
}

impl Tail {
    /// The head row must name this last link: if not, newest events are gone.
    fn head_mismatch(&self) -> Option<Break> {
        (Some(self.seq) != self.head_seq || Some(&self.hash) != self.head_hash.as_ref()).then(
            || Break {
                event_id: Some(self.id),
                seal_id: None,
                reason: "head_mismatch".to_owned(),
            },
        )
    }
}

struct Walked {
    events: u64,
    first_break: Option<Break>,
    root: Option<(String, i64, i64)>,
}

/// Walks every chain, stopping at the first break; computes the root up to `covers_until`.
async fn walk<C>(db: &C, covers_until: Option<DateTime<Utc>>) -> Result<Walked, ApiError>
where
    C: ConnectionTrait + StreamTrait,
{
    let backend = ConnectionTrait::get_database_backend(db);
    let mut rows = Link::find_by_statement(Statement::from_string(backend, WALK))
        .stream(db)
        .await?;
    let mut root = covers_until.map(Root::new);
    let mut events = 0;
    // The chain being walked: its key, last link, and last covered link.
    let mut current: Option<(String, Uuid)> = None;
    let mut last: Option<Tail> = None;
    let mut covered: Option<(String, Uuid, i64, String)> = None;
    let mut covered_count = 0;
    let broken = |event_id: Uuid, reason: &str| Break {
        event_id: Some(event_id),
        seal_id: None,
        reason: reason.to_owned(),
    };
    while let Some(link) = rows.try_next().await? {
        let key = (link.object_type.clone(), link.object_id);
        if current.as_ref() != Some(&key) {
            if let Some(found) = last.as_ref().and_then(Tail::head_mismatch) {
                return Ok(Walked {
                    events,
                    first_break: Some(found),
                    root: None,
                });
            }
            if let Some(root) = root.as_mut() {
                root.add_chain(covered.as_ref(), covered_count);
            }
            current = Some(key);
            last = None;
            covered = None;
            covered_count = 0;
        }
        events += 1;
        let (expected_seq, expected_prev) = match &last {
            Some(tail) => (tail.seq + 1, tail.hash.clone()),
            None => (1, audit_event::GENESIS.to_owned()),
        };
        let event = audit_event::Model {
            id: link.id,
            actor_id: link.actor_id,
            action: link.action,
            object_type: link.object_type,
            object_id: link.object_id,
            summary: link.summary,
            at: link.at,
            seq: link.seq,
            prev_hash: link.prev_hash,
            hash: link.hash,
        };
        let reason = if event.seq != expected_seq {
            Some("missing_event")
        } else if event.prev_hash != expected_prev {
            Some("prev_hash_mismatch")
        } else if event.chain_hash() != event.hash {
            Some("hash_mismatch")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Ok(Walked {
                events,
                first_break: Some(broken(event.id, reason)),
                root: None,
            });
        }
        if root.as_ref().is_some_and(|r| event.at <= r.covers_until) {
            covered = Some((
                event.object_type.clone(),
                event.object_id,
                event.seq,
                event.hash.clone(),
            ));
            covered_count += 1;
        }
        last = Some(Tail {
            id: event.id,
            seq: event.seq,
            hash: event.hash,
            head_seq: link.head_seq,
            head_hash: link.head_hash,
        });
    }
    if let Some(found) = last.as_ref().and_then(Tail::head_mismatch) {
        return Ok(Walked {
            events,
            first_break: Some(found),
            root: None,
        });
    }
    if let Some(root) = root.as_mut() {
        root.add_chain(covered.as_ref(), covered_count);
    }
    drop(rows);
    let empty = db
        .query_one_raw(Statement::from_string(backend, EMPTY_CHAIN))
        .await?;
    if empty.is_some() {
        return Ok(Walked {
            events,
            first_break: Some(Break {
                event_id: None,
                seal_id: None,
                reason: "empty_chain".to_owned(),
            }),
            root: None,
        });
    }
    Ok(Walked {
        events,
        first_break: None,
        root: root.map(Root::finish),
    })
}

/// A seal's own hash: over its predecessor's and its fields.
fn seal_hash(seal: &audit_seal::Model) -> String {
    let canonical = serde_json::json!([
        seal.prev_hash,
        seal.id,
        seal.sealed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        seal.covers_until
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        seal.chains,
        seal.events,
        seal.root,
    ]);
    audit_event::hex(&Sha256::digest(canonical.to_string().as_bytes()))
}

/// Verifies every chain, the seals' own chain, and the newest seal's root.
pub async fn verify(db: &DatabaseConnection) -> Result<Report, ApiError> {
    let seals = audit_seal::Entity::find()
        .order_by_asc(audit_seal::Column::SealedAt)
        .order_by_asc(audit_seal::Column::Id)
        .all(db)
        .await?;
    let mut prev = audit_event::GENESIS.to_owned();
    let mut seals_checked = 0;
    for seal in &seals {
        let reason = if seal.prev_hash != prev {
            Some("seal_link_mismatch")
        } else if seal_hash(seal) != seal.hash {
            Some("seal_hash_mismatch")
        } else {
            None
        };
        if let Some(reason) = reason {
            return Ok(Report {
                ok: false,
                events_checked: 0,
                seals_checked,
                first_break: Some(Break {
                    event_id: None,
                    seal_id: Some(seal.id),
                    reason: reason.to_owned(),
                }),
            });
        }
        prev = seal.hash.clone();
        seals_checked += 1;
    }
    let newest = seals.last();
    let walked = walk(db, newest.map(|s| s.covers_until)).await?;
    let mut first_break = walked.first_break;
    if let (None, Some(seal), Some((root, chains, events))) = (&first_break, newest, walked.root)
        && (root != seal.root || chains != seal.chains || events != seal.events)
    {
        first_break = Some(Break {
            event_id: None,
            seal_id: Some(seal.id),
            reason: "seal_mismatch".to_owned(),
        });
    }
    Ok(Report {
        ok: first_break.is_none(),
        events_checked: walked.events,
        seals_checked,
        first_break,
    })
}

/// Seals the chains as they stand up to `covers_until`, if they verify. Two instances sealing
/// at once cannot fork the seals' chain: a seal names its predecessor, and the predecessor can
/// have one successor (a unique index); the loser's seal is dropped. Returns the new seal.
pub async fn seal(
    db: &DatabaseConnection,
    covers_until: DateTime<Utc>,
) -> Result<Option<audit_seal::Model>, ApiError> {
    let walked = walk(db, Some(covers_until)).await?;
    if let Some(found) = walked.first_break {
        tracing::error!(reason = %found.reason, event_id = ?found.event_id, "audit chains do not verify: not sealed");
        return Ok(None);
    }
    let Some((root, chains, events)) = walked.root else {
        return Ok(None);
    };
    let prev = audit_seal::Entity::find()
        .order_by_desc(audit_seal::Column::SealedAt)
        .order_by_desc(audit_seal::Column::Id)
        .one(db)
        .await?
        .map_or(audit_event::GENESIS.to_owned(), |s| s.hash);
    let mut seal = audit_seal::Model {
        id: Uuid::now_v7(),
        sealed_at: db::now(),
        covers_until,
        chains,
        events,
        root,
        prev_hash: prev,
        hash: String::new(),
    };
    seal.hash = seal_hash(&seal);
    match audit_seal::Entity::insert(audit_seal::ActiveModel::from(seal.clone()))
        .exec_without_returning(db)
        .await
    {
        Ok(_) => Ok(Some(seal)),
        Err(err) if db::is_unique_violation(&err) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// `count` edits of one asset as a whole chain, hashed exactly as [`super::record`] chains them:
/// for measuring verification at scale (the load harness, the million-event test).
pub fn synthetic_chain(
    object_id: Uuid,
    at: DateTime<Utc>,
    count: i64,
) -> (Vec<audit_event::Model>, audit_chain::Model) {
    let mut prev = audit_event::GENESIS.to_owned();
    let mut events = Vec::new();
    for seq in 1..=count {
        let mut event = audit_event::Model {
            id: Uuid::now_v7(),
            actor_id: None,
            action: "asset.update".into(),
            object_type: "asset".into(),
            object_id,
            summary: format!(
                "{{\"before\":{{\"n\":{}}},\"after\":{{\"n\":{seq}}}}}",
                seq - 1
            ),
            at,
            seq,
            prev_hash: prev,
            hash: String::new(),
        };
        event.hash = event.chain_hash();
        prev = event.hash.clone();
        events.push(event);
    }
    let head = audit_chain::Model {
        object_type: "asset".into(),
        object_id,
        head_seq: count,
        head_hash: prev,
    };
    (events, head)
}
