//! The operations on organizations: plain functions over a connection and an acting user,
//! called by the HTTP handlers and the demo loader alike; each writes its change and its audit
//! event in one transaction. The CSV import is [`import`].

use entity::{OrganizationStatus, RegionLevel, Role, organization, organization_income};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionSession,
    TransactionTrait,
};

pub use super::import::import_csv as import;
use super::incomes::{IncomeRequest, parse_income, parse_year, upsert};
use super::{
    CreateOrganizationRequest, NewOrganization, OrganizationView, UpdateOrganizationRequest,
    conflict, find_visible, parse_households, view,
};
use crate::auth::Caller;
use crate::domain::{Mobile, RegionCode, Uscc, parse_name};
use crate::error::{ApiError, FieldError};
use crate::{audit, db, regions, validate};

/// Registers an organization in an existing village.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    r: CreateOrganizationRequest,
) -> Result<OrganizationView, ApiError> {
    let (name, uscc, region_code, legal_rep_name, legal_rep_mobile, member_households) = validate!(
        name = parse_name(&r.name, 128),
        uscc = Uscc::parse(&r.uscc),
        region_code = RegionCode::parse(&r.region_code),
        legal_rep_name = parse_name(&r.legal_rep_name, 64),
        legal_rep_mobile = Mobile::parse(&r.legal_rep_mobile),
        member_households = parse_households(r.member_households),
    )?;
    regions::require(db, &region_code, Some(RegionLevel::Village), "region_code").await?;
    let model = NewOrganization {
        name,
        uscc,
        region_code,
        legal_rep_name,
        legal_rep_mobile,
        member_households,
        status: r.status.unwrap_or(OrganizationStatus::Active),
        shares_village: r.shares_village,
    }
    .into_model();
    let active: organization::ActiveModel = model.clone().into();
    let txn = db.begin().await?;
    organization::Entity::insert(active)
        .exec_without_returning(&txn)
        .await
        .map_err(conflict)?;
    let id = model.id;
    let shown = view(&txn, model).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "organization.create",
        "organization",
        id,
        audit::snapshot(&shown),
    )
    .await?;
    txn.commit().await?;
    Ok(shown)
}

/// Edits an organization (the caller checked `If-Match` against `current`): the admin may change
/// anything, an operator only its legal representative and member households.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    current: organization::Model,
    r: UpdateOrganizationRequest,
) -> Result<OrganizationView, ApiError> {
    if actor.role() != Role::Admin {
        let admin_only = [
            ("name", r.name.is_some()),
            ("uscc", r.uscc.is_some()),
            ("region_code", r.region_code.is_some()),
            ("status", r.status.is_some()),
            ("shares_village", r.shares_village.is_some()),
        ];
        let errors: Vec<FieldError> = admin_only
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(field, _)| FieldError::new(field, "not_allowed_for_role"))
            .collect();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    let (name, uscc, region_code, legal_rep_name, legal_rep_mobile, member_households) = validate!(
        name = r.name.as_deref().map(|v| parse_name(v, 128)).transpose(),
        uscc = r.uscc.as_deref().map(Uscc::parse).transpose(),
        region_code = r.region_code.as_deref().map(RegionCode::parse).transpose(),
        legal_rep_name = r
            .legal_rep_name
            .as_deref()
            .map(|v| parse_name(v, 64))
            .transpose(),
        legal_rep_mobile = r.legal_rep_mobile.as_deref().map(Mobile::parse).transpose(),
        member_households = r.member_households.map(parse_households).transpose(),
    )?;
    if let Some(code) = &region_code {
        regions::require(db, code, Some(RegionLevel::Village), "region_code").await?;
    }
    let changes = organization::ActiveModel {
        name: name.map_or(sea_orm::ActiveValue::NotSet, Set),
        uscc: uscc.map_or(sea_orm::ActiveValue::NotSet, |u| Set(u.into_inner())),
        region_code: region_code.map_or(sea_orm::ActiveValue::NotSet, |c| Set(c.to_string())),
        legal_rep_name: legal_rep_name.map_or(sea_orm::ActiveValue::NotSet, Set),
        legal_rep_mobile: legal_rep_mobile
            .map_or(sea_orm::ActiveValue::NotSet, |m| Set(m.into_inner())),
        member_households: member_households.map_or(sea_orm::ActiveValue::NotSet, Set),
        status: r.status.map_or(sea_orm::ActiveValue::NotSet, Set),
        shares_village: r.shares_village.map_or(sea_orm::ActiveValue::NotSet, Set),
        updated_at: Set(db::now()),
        ..Default::default()
    };
    let txn = db.begin().await?;
    let changed = organization::Entity::update_many()
        .set(changes)
        .col_expr(
            organization::Column::Version,
            Expr::col(organization::Column::Version).add(1),
        )
        .filter(organization::Column::Id.eq(current.id))
        .filter(organization::Column::Version.eq(current.version))
        .exec(&txn)
        .await
        .map_err(conflict)?;
    if changed.rows_affected == 0 {
        return Err(ApiError::PreconditionFailed);
    }
    let updated = find_visible(&txn, actor, current.id).await?;
    let (before, after) = (view(&txn, current).await?, view(&txn, updated).await?);
    audit::record(
        &txn,
        Some(actor.id()),
        "organization.update",
        "organization",
        after.id,
        audit::diff(&before, &after),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// Sets (or corrects) an organization's income for a year.
pub async fn set_income(
    db: &(impl ConnectionTrait + TransactionTrait),
    actor: &Caller,
    organization: &organization::Model,
    year: i32,
    request: IncomeRequest,
) -> Result<organization_income::Model, ApiError> {
    let (year, amount) = validate!(
        year = parse_year(year),
        amount = parse_income(request.amount),
    )?;
    let row = organization_income::Model {
        organization_id: organization.id,
        year,
        amount,
        updated_at: db::now(),
    };
    let txn = db.begin().await?;
    upsert(&txn, std::slice::from_ref(&row)).await?;
    audit::record(
        &txn,
        Some(actor.id()),
        "organization.set_income",
        "organization",
        organization.id,
        serde_json::json!({"year": row.year, "amount": row.amount}),
    )
    .await?;
    txn.commit().await?;
    Ok(row)
}
