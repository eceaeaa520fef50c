//! The operations on equity entities and shareholdings: plain functions over a connection and
//! an acting user, called by the HTTP handlers and the demo loader alike; each writes its change
//! and its audit event in one transaction.

use entity::{HolderType, Percentage, equity_entity, shareholding};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    CreateEntityRequest, EquityEntityView, ShareholdingRequest, ShareholdingView,
    UpdateEntityRequest, find_visible, parse_share,
};
use crate::auth::Caller;
use crate::domain::{Uscc, parse_name};
use crate::error::{ApiError, FieldError};
use crate::scope::{AssetScope, acting_organization};
use crate::{audit, db, validate};

/// Registers an equity entity of the caller's organization (or, for the county, the one named).
pub async fn create_entity(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    request: CreateEntityRequest,
) -> Result<equity_entity::Model, ApiError> {
    let scope = AssetScope::of(actor);
    let organization_id = acting_organization(scope, request.organization_id)?;
    let (name, uscc) = validate!(
        name = parse_name(&request.name, 128),
        uscc = request.uscc.as_deref().map(Uscc::parse).transpose(),
    )?;
    if entity::organization::Entity::find_by_id(organization_id)
        .one(db)
        .await?
        .is_none()
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "organization_id",
            "unknown_organization",
        )]));
    }
    let now = db::now();
    let model = equity_entity::Model {
        id: Uuid::now_v7(),
        organization_id,
        kind: request.kind,
        name,
        uscc: uscc.map(Uscc::into_inner),
        allocated_bp: 0,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = db.begin().await?;
    equity_entity::Entity::insert(equity_entity::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "equity_entity.create",
        "equity_entity",
        model.id,
        audit::snapshot(&EquityEntityView::from(model.clone())),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Edits an entity (the caller checked `If-Match` against `current`).
pub async fn update_entity(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: equity_entity::Model,
    request: UpdateEntityRequest,
) -> Result<equity_entity::Model, ApiError> {
    let (name, uscc) = validate!(
        name = request
            .name
            .as_deref()
            .map(|n| parse_name(n, 128))
            .transpose(),
        uscc = request.uscc.as_deref().map(Uscc::parse).transpose(),
    )?;
    let txn = db.begin().await?;
    let changed = equity_entity::Entity::update_many()
        .set(equity_entity::ActiveModel {
            kind: request.kind.map_or(sea_orm::ActiveValue::NotSet, Set),
            name: name.map_or(sea_orm::ActiveValue::NotSet, Set),
            uscc: uscc.map_or(sea_orm::ActiveValue::NotSet, |u| Set(Some(u.into_inner()))),
            updated_at: Set(db::now()),
            ..Default::default()
        })
        .col_expr(
            equity_entity::Column::Version,
            Expr::col(equity_entity::Column::Version).add(1),
        )
        .filter(equity_entity::Column::Id.eq(current.id))
        .filter(equity_entity::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    let updated = find_visible(&txn, AssetScope::of(actor), current.id).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "equity_entity.update",
        "equity_entity",
        current.id,
        audit::diff(
            &EquityEntityView::from(current.clone()),
            &EquityEntityView::from(updated.clone()),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}

/// Adds a shareholding to an entity the caller may manage.
pub async fn add_shareholding(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    entity: &equity_entity::Model,
    request: ShareholdingRequest,
) -> Result<shareholding::Model, ApiError> {
    let (holder_name, percentage) = validate!(
        holder_name = parse_name(&request.holder_name, 128),
        percentage = parse_share(request.percentage),
    )?;
    add_share(
        db,
        actor.id(),
        entity.id,
        holder_name,
        request.holder_type,
        percentage,
    )
    .await
}

/// Adds a shareholding if the entity's total stays within 100.00 %.
async fn add_share(
    db: &impl TransactionTrait,
    actor: Uuid,
    entity_id: Uuid,
    holder_name: String,
    holder_type: HolderType,
    percentage: Percentage,
) -> Result<shareholding::Model, ApiError> {
    let txn = db.begin().await?;
    // The update comes first: it takes the row (PostgreSQL) or database (SQLite) write lock,
    // so a racing addition waits and then sees the raised total.
    let raised = equity_entity::Entity::update_many()
        .col_expr(
            equity_entity::Column::AllocatedBp,
            Expr::col(equity_entity::Column::AllocatedBp).add(percentage.scaled()),
        )
        .filter(equity_entity::Column::Id.eq(entity_id))
        .filter(
            Expr::col(equity_entity::Column::AllocatedBp)
                .add(percentage.scaled())
                .lte(Percentage::HUNDRED.scaled()),
        )
        .exec(&txn)
        .await?;
    if raised.rows_affected == 0 {
        return Err(ApiError::Conflict("shares_exceed_100"));
    }
    let model = shareholding::Model {
        id: Uuid::now_v7(),
        entity_id,
        holder_name,
        holder_type,
        percentage,
        created_at: db::now(),
    };
    shareholding::Entity::insert(shareholding::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor),
        "shareholding.add",
        "shareholding",
        model.id,
        audit::snapshot(&ShareholdingView::from(model.clone())),
    )
    .await?;
    txn.commit().await?;
    Ok(model)
}

/// Removes a shareholding no asset is registered on.
pub async fn remove_shareholding(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    entity: &equity_entity::Model,
    sid: Uuid,
) -> Result<(), ApiError> {
    let share = shareholding::Entity::find_by_id(sid)
        .filter(shareholding::Column::EntityId.eq(entity.id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let registered = entity::asset::Entity::find()
        .filter(entity::asset::Column::ShareholdingId.eq(share.id))
        .one(db)
        .await?
        .is_some();
    if registered {
        return Err(ApiError::Conflict("shareholding_registered"));
    }
    let txn = db.begin().await?;
    let removed = shareholding::Entity::delete_by_id(share.id)
        .exec(&txn)
        .await?;
    if removed.rows_affected == 1 {
        equity_entity::Entity::update_many()
            .col_expr(
                equity_entity::Column::AllocatedBp,
                Expr::col(equity_entity::Column::AllocatedBp).sub(share.percentage.scaled()),
            )
            .filter(equity_entity::Column::Id.eq(entity.id))
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            Some(actor.id()),
            "shareholding.remove",
            "shareholding",
            share.id,
            audit::snapshot(&ShareholdingView::from(share.clone())),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}
