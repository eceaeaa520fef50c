//! Liens (encumbrances) on assets: the only module that reads or writes the `liens` table.
//!
//! A lien is `reserved` at submit, `active` at disbursement and `released` when the application
//! ends. An asset has at most one *open* (reserved or active) lien: the partial unique index of
//! migration 4 decides between racing applications, on every backend and instance.

use std::collections::HashSet;

use entity::{LienStatus, asset, lien};
use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::db;
use crate::error::ApiError;

/// Lien states that encumber an asset.
pub const OPEN: [LienStatus; 2] = [LienStatus::Reserved, LienStatus::Active];

/// Which of these assets carry an open lien, optionally not counting `except`'s own.
pub async fn encumbered_among(
    db: &impl ConnectionTrait,
    asset_ids: impl IntoIterator<Item = Uuid>,
    except: Option<Uuid>,
) -> Result<HashSet<Uuid>, ApiError> {
    let mut open = lien::Entity::find()
        .select_only()
        .column(lien::Column::AssetId)
        .filter(lien::Column::AssetId.is_in(asset_ids))
        .filter(lien::Column::Status.is_in(OPEN));
    if let Some(application) = except {
        open = open.filter(lien::Column::ApplicationId.ne(application));
    }
    Ok(open
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The ids of all assets under an open lien, as a subquery for list filters.
pub fn encumbered_assets() -> SelectStatement {
    Query::select()
        .column(lien::Column::AssetId)
        .from(lien::Entity)
        .and_where(lien::Column::Status.is_in(OPEN))
        .to_owned()
}

/// The applications holding an open lien on the asset.
pub async fn holders_of(db: &impl ConnectionTrait, asset_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(lien::Entity::find()
        .select_only()
        .column(lien::Column::ApplicationId)
        .filter(lien::Column::AssetId.eq(asset_id))
        .filter(lien::Column::Status.is_in(OPEN))
        .into_tuple()
        .all(db)
        .await?)
}

/// Why a reservation failed. The transaction it ran in is unusable afterwards (PostgreSQL
/// aborts it): drop it, then ask [`explain`] outside it.
#[derive(Debug)]
pub struct NotReserved;

/// Reserves a lien on each asset for the application, in the caller's transaction. Each asset
/// must still be at the version the caller checked: reserving raises it, so a concurrent edit of
/// the asset fails its own version check, and an edit made since the check fails this one.
pub async fn reserve(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
    checked: &[(Uuid, i32)],
) -> Result<Result<(), NotReserved>, ApiError> {
    for (asset_id, version) in checked {
        let unchanged = asset::Entity::update_many()
            .col_expr(
                asset::Column::Version,
                Expr::col(asset::Column::Version).add(1),
            )
            .filter(asset::Column::Id.eq(*asset_id))
            .filter(asset::Column::Version.eq(*version))
            .exec(txn)
            .await?;
        if unchanged.rows_affected == 0 {
            return Ok(Err(NotReserved));
        }
    }
    let now = db::now();
    let inserted = lien::Entity::insert_many(checked.iter().map(|(asset_id, _)| {
        lien::ActiveModel::from(lien::Model {
            id: Uuid::now_v7(),
            asset_id: *asset_id,
            application_id,
            status: LienStatus::Reserved,
            created_at: now,
            updated_at: now,
        })
    }))
    .exec_without_returning(txn)
    .await;
    match inserted {
        Ok(_) => Ok(Ok(())),
        Err(err) if db::is_unique_violation(&err) => Ok(Err(NotReserved)),
        Err(err) => Err(err.into()),
    }
}

/// After [`NotReserved`]: 409 `asset_encumbered` naming the first asset another application
/// holds, or 409 `asset_changed` when none is held (the asset was edited since it was checked).
pub async fn explain(
    db: &impl ConnectionTrait,
    asset_ids: &[Uuid],
    application_id: Uuid,
) -> ApiError {
    match encumbered_among(db, asset_ids.iter().copied(), Some(application_id)).await {
        Ok(held) => match asset_ids.iter().find(|id| held.contains(id)) {
            Some(taken) => ApiError::AssetEncumbered(*taken),
            None => ApiError::Conflict("asset_changed"),
        },
        Err(err) => err,
    }
}

/// Releases the application's reserved liens (withdraw, reject).
pub async fn release_reserved(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<u64, ApiError> {
    Ok(lien::Entity::update_many()
        .col_expr(lien::Column::Status, Expr::value(LienStatus::Released))
        .col_expr(lien::Column::UpdatedAt, Expr::value(db::now()))
        .filter(lien::Column::ApplicationId.eq(application_id))
        .filter(lien::Column::Status.eq(LienStatus::Reserved))
        .exec(txn)
        .await?
        .rows_affected)
}

/// Releases the application's reserved liens on these assets only (collateral dropped at a
/// resubmission).
pub async fn release_reserved_on(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
    asset_ids: &[Uuid],
) -> Result<u64, ApiError> {
    Ok(lien::Entity::update_many()
        .col_expr(lien::Column::Status, Expr::value(LienStatus::Released))
        .col_expr(lien::Column::UpdatedAt, Expr::value(db::now()))
        .filter(lien::Column::ApplicationId.eq(application_id))
        .filter(lien::Column::AssetId.is_in(asset_ids.iter().copied()))
        .filter(lien::Column::Status.eq(LienStatus::Reserved))
        .exec(txn)
        .await?
        .rows_affected)
}

/// At disbursement the mortgage is registered: the reserved liens become active.
pub async fn activate(txn: &impl ConnectionTrait, application_id: Uuid) -> Result<u64, ApiError> {
    Ok(lien::Entity::update_many()
        .col_expr(lien::Column::Status, Expr::value(LienStatus::Active))
        .col_expr(lien::Column::UpdatedAt, Expr::value(db::now()))
        .filter(lien::Column::ApplicationId.eq(application_id))
        .filter(lien::Column::Status.eq(LienStatus::Reserved))
        .exec(txn)
        .await?
        .rows_affected)
}

/// At settlement the active liens are released.
pub async fn release_active(
    txn: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<u64, ApiError> {
    Ok(lien::Entity::update_many()
        .col_expr(lien::Column::Status, Expr::value(LienStatus::Released))
        .col_expr(lien::Column::UpdatedAt, Expr::value(db::now()))
        .filter(lien::Column::ApplicationId.eq(application_id))
        .filter(lien::Column::Status.eq(LienStatus::Active))
        .exec(txn)
        .await?
        .rows_affected)
}

/// The disbursed loans secured by the asset (its active lien's application).
pub async fn securing(db: &impl ConnectionTrait, asset_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
    Ok(lien::Entity::find()
        .select_only()
        .column(lien::Column::ApplicationId)
        .filter(lien::Column::AssetId.eq(asset_id))
        .filter(lien::Column::Status.eq(LienStatus::Active))
        .into_tuple()
        .all(db)
        .await?)
}

/// The application's liens, as (asset, status), for views and checks.
pub async fn of_application(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<(Uuid, LienStatus)>, ApiError> {
    Ok(lien::Entity::find()
        .select_only()
        .column(lien::Column::AssetId)
        .column(lien::Column::Status)
        .filter(lien::Column::ApplicationId.eq(application_id))
        .into_tuple()
        .all(db)
        .await?)
}
