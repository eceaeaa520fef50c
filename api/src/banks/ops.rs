//! The operations on banks: plain functions over a connection and an acting user, called by
//! the HTTP handlers and the demo loader alike; each writes its change and its audit event in
//! one transaction.

use entity::bank;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, TransactionSession,
    TransactionTrait,
};

use super::{
    BankView, BranchView, CreateBankRequest, CreateBranchRequest, ServedRegionsRequest,
    UpdateBankRequest, find, insert, insert_branch, parse_bank_code, replace_served, view,
};
use crate::auth::Caller;
use crate::domain::{RegionCode, parse_name};
use crate::error::{ApiError, FieldError};
use crate::{audit, db, regions, validate};

/// Registers a bank.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    request: CreateBankRequest,
) -> Result<BankView, ApiError> {
    let (name, code) = validate!(
        name = parse_name(&request.name, 128),
        code = parse_bank_code(&request.code),
    )?;
    let txn = db.begin().await?;
    let bank = insert(&txn, name, code).await?;
    let id = bank.id;
    let shown = view(&txn, bank).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "bank.create",
        "bank",
        id,
        audit::snapshot(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// Renames a bank or changes its code (the caller checked `If-Match` against `current`).
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: bank::Model,
    request: UpdateBankRequest,
) -> Result<BankView, ApiError> {
    let (name, code) = validate!(
        name = request
            .name
            .as_deref()
            .map_or(Ok(current.name.clone()), |n| parse_name(n, 128)),
        code = request
            .code
            .as_deref()
            .map_or(Ok(current.code.clone()), parse_bank_code),
    )?;
    let txn = db.begin().await?;
    let result = bank::Entity::update_many()
        .col_expr(bank::Column::Name, Expr::value(name))
        .col_expr(bank::Column::Code, Expr::value(code))
        .col_expr(bank::Column::UpdatedAt, Expr::value(db::now()))
        .col_expr(
            bank::Column::Version,
            Expr::col(bank::Column::Version).add(1),
        )
        .filter(bank::Column::Id.eq(current.id))
        .filter(bank::Column::Version.eq(current.version))
        .exec(&txn)
        .await;
    match result {
        Ok(r) if r.rows_affected == 0 => return Err(ApiError::PreconditionFailed),
        Ok(_) => {}
        Err(err) if db::is_unique_violation(&err) => {
            return Err(ApiError::Conflict("bank_code_taken"));
        }
        Err(err) => return Err(err.into()),
    }
    let updated = find(&txn, current.id).await?;
    let (before, after) = (view(&txn, current).await?, view(&txn, updated).await?);
    audit::record(
        &txn,
        Some(actor.id()),
        "bank.update",
        "bank",
        after.id,
        audit::diff(&before, &after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Adds a branch to a bank.
pub async fn add_branch(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    bank: &bank::Model,
    request: CreateBranchRequest,
) -> Result<BranchView, ApiError> {
    let (name, region) = validate!(
        name = parse_name(&request.name, 128),
        region_code = request
            .region_code
            .as_deref()
            .map(RegionCode::parse)
            .transpose(),
    )?;
    if let Some(code) = &region {
        regions::require(db, code, None, "region_code").await?;
    }
    let txn = db.begin().await?;
    let branch = BranchView::from(insert_branch(&txn, bank.id, name, region).await?);
    audit::record(
        &txn,
        Some(actor.id()),
        "bank.add_branch",
        "bank_branch",
        branch.id,
        audit::snapshot(&branch),
    )
    .await?;
    txn.commit().await?;
    Ok(branch)
}

/// Replaces the list of regions a bank serves.
pub async fn set_regions(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    bank: bank::Model,
    request: ServedRegionsRequest,
) -> Result<BankView, ApiError> {
    let mut codes = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in request.region_codes.iter().enumerate() {
        match RegionCode::parse(raw) {
            Ok(code) => codes.push((i, code)),
            Err(e) => errors.push(FieldError::new(format!("region_codes[{i}]"), e)),
        }
    }
    let known: Vec<String> = entity::region::Entity::find()
        .select_only()
        .column(entity::region::Column::Code)
        .filter(entity::region::Column::Code.is_in(codes.iter().map(|(_, c)| c.to_string())))
        .into_tuple()
        .all(db)
        .await?;
    for (i, code) in &codes {
        if !known.iter().any(|k| k == code.as_str()) {
            errors.push(FieldError::new(
                format!("region_codes[{i}]"),
                "unknown_region",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let mut unique: Vec<RegionCode> = codes.into_iter().map(|(_, c)| c).collect();
    unique.sort();
    unique.dedup();
    let before = view(db, bank.clone()).await?;
    let txn = db.begin().await?;
    replace_served(&txn, bank.id, &unique).await?;
    let after = view(&txn, bank).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "bank.set_regions",
        "bank",
        after.id,
        audit::diff(&before, &after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}
