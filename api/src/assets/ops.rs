//! The operations on assets: plain functions over a connection and an acting user, called by
//! the HTTP handlers and the demo loader alike; each writes its change and its audit event in
//! one transaction. Their valuations and documents are added here too.

use entity::{DocumentKind, Verification, asset, asset_document, asset_valuation};
use object_store::{ObjectStoreExt, PutPayload, path::Path as StorePath};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::documents::{remove_blobs, sniff};
use super::valuations::{ValuationRequest, parse_value};
use super::*;
use crate::auth::Caller;
use crate::domain::parse_name;
use crate::error::{ApiError, FieldError};
use crate::scope::{AssetScope, acting_organization};
use crate::storage::Store;
use crate::{audit, db, regions, validate};

/// Registers an asset of the caller's organization (or, for the county, the one named).
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    r: CreateAssetRequest,
) -> Result<AssetView, ApiError> {
    let organization_id = acting_organization(AssetScope::of(actor), r.organization_id)?;
    let fields = KindFields {
        quantity: r.quantity,
        unit: r.unit.trim().to_owned(),
        certificate_no: r.certificate_no.as_deref().map(|c| c.trim().to_owned()),
        head_count: r.head_count,
        ear_tags: r.ear_tags.clone(),
        right_start: r.right_start,
        right_end: r.right_end,
        has_shareholding: r.shareholding_id.is_some(),
    };
    let parsed = crate::validate!(
        name = parse_name(&r.name, 128),
        region_code = RegionCode::parse(&r.region_code),
        address = parse_address(&r.address),
        acquisition_cost = parse_cost(r.acquisition_cost),
    );
    let (name, region_code, address, acquisition_cost) =
        crate::users::with_more_errors(parsed, check_kind(r.kind, &fields))?;
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
    regions::require(db, &region_code, None, "region_code").await?;
    if let Some(share) = r.shareholding_id {
        check_shareholding(db, organization_id, share).await?;
    }
    let now = db::now();
    let model = asset::Model {
        id: Uuid::now_v7(),
        organization_id,
        kind: r.kind,
        name,
        region_code: region_code.to_string(),
        address,
        quantity: fields.quantity,
        unit: fields.unit,
        certificate_no: fields.certificate_no,
        head_count: fields.head_count,
        ear_tags: tags_json(&fields.ear_tags),
        right_start: fields.right_start,
        right_end: fields.right_end,
        acquisition_cost,
        description: r.description.trim().to_owned(),
        shareholding_id: r.shareholding_id,
        verification: Verification::Pending,
        verification_note: None,
        verified_by: None,
        verified_at: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let txn = db.begin().await?;
    asset::Entity::insert(asset::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await
        .map_err(conflict)?;
    let id = model.id;
    let shown = view(&txn, model).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "asset.create",
        "asset",
        id,
        audit::snapshot(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// Edits an asset (the caller checked `If-Match` against `current`): what a lien was granted on
/// may not change under it, and a verified asset whose substance changed is verified again.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: asset::Model,
    r: UpdateAssetRequest,
) -> Result<AssetView, ApiError> {
    let before = kind_fields(&current);
    let after = KindFields {
        quantity: r.quantity.unwrap_or(before.quantity),
        unit: r
            .unit
            .as_deref()
            .map_or(before.unit.clone(), |u| u.trim().to_owned()),
        certificate_no: r
            .certificate_no
            .as_deref()
            .map(|c| c.trim().to_owned())
            .or(before.certificate_no.clone()),
        head_count: r.head_count.or(before.head_count),
        ear_tags: r.ear_tags.clone().or(before.ear_tags.clone()),
        right_start: r.right_start.or(before.right_start),
        right_end: r.right_end.or(before.right_end),
        has_shareholding: before.has_shareholding,
    };
    let parsed = crate::validate!(
        name = r.name.as_deref().map(|n| parse_name(n, 128)).transpose(),
        region_code = r.region_code.as_deref().map(RegionCode::parse).transpose(),
        address = r.address.as_deref().map(parse_address).transpose(),
        acquisition_cost = parse_cost(r.acquisition_cost),
    );
    let (name, region_code, address, acquisition_cost) =
        crate::users::with_more_errors(parsed, check_kind(current.kind, &after))?;
    if let Some(code) = &region_code {
        regions::require(db, code, None, "region_code").await?;
    }
    // What a lien was granted on may not change under it.
    if needs_reverification(&before, &after) {
        refuse_if_encumbered(db, current.id).await?;
    }
    let reverify =
        current.verification == Verification::Verified && needs_reverification(&before, &after);
    let mut changes = asset::ActiveModel {
        name: name.map_or(sea_orm::ActiveValue::NotSet, Set),
        region_code: region_code.map_or(sea_orm::ActiveValue::NotSet, |c| Set(c.to_string())),
        address: address.map_or(sea_orm::ActiveValue::NotSet, Set),
        quantity: Set(after.quantity),
        unit: Set(after.unit.clone()),
        certificate_no: Set(after.certificate_no.clone()),
        head_count: Set(after.head_count),
        ear_tags: Set(tags_json(&after.ear_tags)),
        right_start: Set(after.right_start),
        right_end: Set(after.right_end),
        acquisition_cost: acquisition_cost.map_or(sea_orm::ActiveValue::NotSet, |c| Set(Some(c))),
        description: r
            .description
            .as_deref()
            .map_or(sea_orm::ActiveValue::NotSet, |d| Set(d.trim().to_owned())),
        updated_at: Set(db::now()),
        ..Default::default()
    };
    if reverify {
        changes.verification = Set(Verification::Pending);
        changes.verification_note = Set(None);
        changes.verified_by = Set(None);
        changes.verified_at = Set(None);
    }
    let txn = db.begin().await?;
    let changed = asset::Entity::update_many()
        .set(changes)
        .col_expr(
            asset::Column::Version,
            Expr::col(asset::Column::Version).add(1),
        )
        .filter(asset::Column::Id.eq(current.id))
        .filter(asset::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    let updated = find_visible(&txn, AssetScope::of(actor), current.id).await?;
    let (before, after) = (view(&txn, current).await?, view(&txn, updated).await?);
    audit::record(
        &txn,
        Some(actor.id()),
        "asset.update",
        "asset",
        after.id,
        audit::diff(&before, &after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Removes an asset that is in no application, with its valuations and documents.
pub async fn delete(
    db: &(impl ConnectionTrait + TransactionTrait),
    store: &Store,
    actor: &Caller,
    current: asset::Model,
) -> Result<(), ApiError> {
    refuse_if_encumbered(db, current.id).await?;
    if in_any_application(db, current.id).await? {
        return Err(ApiError::Conflict("asset_in_application"));
    }
    let keys = documents::storage_keys(db, current.id).await?;
    // A draft naming the asset at this very moment makes its foreign keys refuse the delete.
    let txn = db.begin().await?;
    let removed = asset::Entity::delete_many()
        .filter(asset::Column::Id.eq(current.id))
        .filter(asset::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(|err| {
            if db::is_foreign_key_violation(&err) {
                ApiError::Conflict("asset_in_application")
            } else {
                err.into()
            }
        })?;
    if removed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    audit::record(
        &txn,
        Some(actor.id()),
        "asset.delete",
        "asset",
        current.id,
        serde_json::json!({"name": current.name, "kind": current.kind}),
    )
    .await?;
    txn.commit().await?;
    documents::remove_blobs(store, keys).await;
    Ok(())
}

/// The county verifies or rejects an asset (a rejection needs a note).
pub async fn verify(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: asset::Model,
    r: VerificationRequest,
) -> Result<asset::Model, ApiError> {
    let note = r
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    let verification = match r.decision {
        Decision::Verified => Verification::Verified,
        Decision::Rejected if note.is_none() => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "note", "required",
            )]));
        }
        Decision::Rejected => Verification::Rejected,
    };
    let txn = db.begin().await?;
    let changed = asset::Entity::update_many()
        .col_expr(asset::Column::Verification, Expr::value(verification))
        .col_expr(asset::Column::VerificationNote, Expr::value(note.clone()))
        .col_expr(asset::Column::VerifiedBy, Expr::value(actor.id()))
        .col_expr(asset::Column::VerifiedAt, Expr::value(db::now()))
        .col_expr(asset::Column::UpdatedAt, Expr::value(db::now()))
        .col_expr(
            asset::Column::Version,
            Expr::col(asset::Column::Version).add(1),
        )
        .filter(asset::Column::Id.eq(current.id))
        .filter(asset::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    audit::record(
        &txn,
        Some(actor.id()),
        "asset.verify",
        "asset",
        current.id,
        serde_json::json!({
            "from": current.verification,
            "to": verification,
            "note": note,
        }),
    )
    .await?;
    let updated = find_visible(&txn, AssetScope::of(actor), current.id).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Adds an appraisal of an asset (the caller decided who may appraise it), and re-evaluates
/// the shortfall of the loans it secures.
pub async fn add_valuation(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    asset: &asset::Model,
    r: ValuationRequest,
) -> Result<asset_valuation::Model, ApiError> {
    let today = db::today();
    let (value, appraiser, appraisal_date, valid_until) = validate!(
        value = parse_value(r.value),
        appraiser = parse_name(&r.appraiser, 128),
        appraisal_date = if r.appraisal_date > today {
            Err("in_future")
        } else {
            Ok(r.appraisal_date)
        },
        valid_until = if r.valid_until > r.appraisal_date {
            Ok(r.valid_until)
        } else {
            Err("not_after_appraisal_date")
        },
    )?;
    let model = asset_valuation::Model {
        id: Uuid::now_v7(),
        asset_id: asset.id,
        value,
        method: r.method,
        appraiser,
        appraisal_date,
        valid_until,
        created_by: actor.id(),
        created_at: db::now(),
    };
    let txn = db.begin().await?;
    asset_valuation::Entity::insert(asset_valuation::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "valuation.add",
        "valuation",
        model.id,
        serde_json::json!({
            "asset_id": model.asset_id,
            "value": model.value,
            "method": model.method,
            "appraiser": model.appraiser,
            "appraisal_date": model.appraisal_date,
            "valid_until": model.valid_until,
        }),
    )
    .await?;
    // A new value of a pledged asset may open or close a shortfall of the loans it secures.
    for loan in crate::liens::securing(&txn, asset.id).await? {
        crate::applications::ops::evaluate_shortfall(&txn, Some(actor.id()), loan).await?;
    }
    txn.commit().await?;
    Ok(model)
}

/// Stores a document's bytes (JPEG, PNG or PDF, by their first bytes), then its row and audit
/// event in one transaction; the bytes are removed again if that fails.
pub async fn store_document(
    db: &(impl ConnectionTrait + TransactionTrait),
    store: &Store,
    actor: &Caller,
    asset: &asset::Model,
    kind: DocumentKind,
    file_name: String,
    bytes: Vec<u8>,
) -> Result<asset_document::Model, ApiError> {
    let content_type = sniff(&bytes).ok_or_else(|| {
        ApiError::Validation(vec![FieldError::new("file", "unsupported_file_type")])
    })?;
    let id = Uuid::now_v7();
    let storage_key = format!("assets/{}/{id}", asset.id);
    let sha256: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let size = bytes.len() as i64;
    store
        .put(
            &StorePath::from(storage_key.as_str()),
            PutPayload::from(bytes),
        )
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let model = asset_document::Model {
        id,
        asset_id: asset.id,
        kind,
        file_name,
        content_type: content_type.to_owned(),
        size,
        sha256,
        storage_key: storage_key.clone(),
        uploaded_by: actor.id(),
        created_at: db::now(),
    };
    if let Err(err) = record_upload(db, actor.id(), &model).await {
        remove_blobs(store, vec![storage_key]).await;
        return Err(err);
    }
    Ok(model)
}

/// The document's row and its audit event, in one transaction (the bytes are already stored).
async fn record_upload(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: Uuid,
    model: &asset_document::Model,
) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    asset_document::Entity::insert(asset_document::ActiveModel::from(model.clone()))
        .exec_without_returning(&txn)
        .await?;
    audit::record(
        &txn,
        Some(actor),
        "document.upload",
        "document",
        model.id,
        serde_json::json!({
            "asset_id": model.asset_id,
            "kind": model.kind,
            "file_name": model.file_name,
            "size": model.size,
            "sha256": model.sha256,
        }),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
