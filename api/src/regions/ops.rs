//! The operation on regions: plain functions over a connection and an acting user, called by
//! the HTTP handler and the demo loader alike.

use entity::region;
use sea_orm::{ConnectionTrait, TransactionSession, TransactionTrait};
use uuid::Uuid;

use super::{RegionView, insert};
use crate::audit;
use crate::auth::Caller;
use crate::domain::RegionCode;
use crate::error::ApiError;

/// Adds a region and its `region.create` event in one transaction.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    code: &RegionCode,
    name: &str,
) -> Result<region::Model, ApiError> {
    let txn = db.begin().await?;
    let created = insert(&txn, code, name).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "region.create",
        "region",
        audit_id(code),
        audit::snapshot(&RegionView::from(created.clone())),
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

/// Regions are keyed by their code; their audit events name them by a UUID derived from it
/// (version 5 in a namespace of their own), so any code maps to the same id everywhere.
pub fn audit_id(code: &RegionCode) -> Uuid {
    const REGIONS: Uuid = Uuid::from_u128(0x6a1e_52d4_0c1b_4f0e_9d3a_5b7c_2e8f_1a40);
    Uuid::new_v5(&REGIONS, code.as_str().as_bytes())
}
