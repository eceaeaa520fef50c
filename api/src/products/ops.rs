//! The operations on loan products: plain functions over a connection and an acting user,
//! called by the HTTP handlers, the demo loader and the benchmarks alike; each writes its change
//! and its audit event in one transaction. Status moves go through `transition::move_product`.

use entity::loan_product::{self, LoanPurposes, RepaymentMethods};
use entity::{ProductAction, ProductStatus};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};
use uuid::Uuid;

use super::{
    ProductPatch, ProductView, Terms, check_terms, find, insert, replace_collateral, view,
};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::transition;
use crate::{audit, db};

/// Creates a draft product of `bank_id` with its audit event, in one transaction: the one way
/// products come to be (handlers and the demo loader alike).
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: Uuid,
    bank_id: Uuid,
    terms: Terms,
) -> Result<loan_product::Model, ApiError> {
    let errors = check_terms(&terms);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let txn = db.begin().await?;
    let product = insert(&txn, bank_id, terms, ProductStatus::Draft).await?;
    audit::record(
        &txn,
        Some(actor),
        "product.create",
        "product",
        product.id,
        audit::snapshot(&view(&txn, product.clone()).await?),
    )
    .await?;
    txn.commit().await?;
    Ok(product)
}

/// Changes some of a product's terms (the caller checked `If-Match` against `current`); a
/// retired product cannot change.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: loan_product::Model,
    patch: ProductPatch,
) -> Result<ProductView, ApiError> {
    if current.status == ProductStatus::Retired {
        return Err(ApiError::Conflict("product_retired"));
    }
    let terms = patch.apply(view(db, current.clone()).await?);
    let errors = check_terms(&terms);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let txn = db.begin().await?;
    let changed = loan_product::Entity::update_many()
        .set(loan_product::ActiveModel {
            name: Set(terms.name.clone()),
            amount_min: Set(terms.amount_min),
            amount_max: Set(terms.amount_max),
            term_min: Set(terms.term_min),
            term_max: Set(terms.term_max),
            annual_rate: Set(terms.annual_rate),
            repayment_methods: Set(RepaymentMethods(terms.repayment_methods.clone())),
            purposes: Set(LoanPurposes(terms.purposes.clone())),
            updated_at: Set(db::now()),
            ..Default::default()
        })
        .col_expr(
            loan_product::Column::Version,
            Expr::col(loan_product::Column::Version).add(1),
        )
        .filter(loan_product::Column::Id.eq(current.id))
        .filter(loan_product::Column::Version.eq(current.version))
        .exec(&txn)
        .await?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    replace_collateral(&txn, current.id, &terms.collateral).await?;
    let updated = find(&txn, current.id).await?;
    let (before, after) = (view(&txn, current).await?, view(&txn, updated).await?);
    audit::record(
        &txn,
        Some(actor.id()),
        "product.update",
        "product",
        after.id,
        audit::diff(&before, &after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Moves a product by `action` (activate, retire) in its own transaction.
pub async fn move_product(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: &loan_product::Model,
    action: ProductAction,
) -> Result<loan_product::Model, ApiError> {
    let txn = db.begin().await?;
    transition::move_product(&txn, actor.id(), current, action).await?;
    let moved = find(&txn, current.id).await?;
    txn.commit().await?;
    Ok(moved)
}
