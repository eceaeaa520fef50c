//! Which organizations' assets and equity a caller may see, as one rule for every feature that
//! holds them. (Organizations themselves have their own, wider rule: `organizations::visible_to`.)

use entity::{ApplicationStatus, application_asset, asset, loan_application};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::auth::{Caller, Tenant, sees_nothing};
use crate::error::{ApiError, FieldError};

/// Whose assets a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetScope {
    /// The county and supervisors.
    Everything,
    /// An operator: its own organization's.
    Organization(Uuid),
    /// Bank staff: the assets of applications to their bank while those are with the bank.
    Bank(Uuid),
    /// A caller bound to nothing it could see.
    Nothing,
}

impl AssetScope {
    pub fn of(caller: &Caller) -> AssetScope {
        match caller.tenant() {
            Tenant::County | Tenant::Supervisor => AssetScope::Everything,
            Tenant::Organization(id) => AssetScope::Organization(id),
            Tenant::Bank(bank) => AssetScope::Bank(bank),
            Tenant::Unbound => AssetScope::Nothing,
        }
    }

    /// The condition on a table's organization column. Bank staff see no equity entities
    /// through it: only the pledged assets themselves (see [`AssetScope::assets`]).
    pub fn condition(self, organization_column: impl ColumnTrait + IntoColumnRef) -> Condition {
        match self {
            AssetScope::Everything => Condition::all(),
            AssetScope::Organization(id) => Condition::all().add(organization_column.eq(id)),
            AssetScope::Bank(_) | AssetScope::Nothing => sees_nothing(),
        }
    }

    /// The condition on the `assets` table.
    pub fn assets(self) -> Condition {
        match self {
            AssetScope::Bank(bank) => Condition::all().add(
                asset::Column::Id.in_subquery(
                    Query::select()
                        .column(application_asset::Column::AssetId)
                        .from(application_asset::Entity)
                        .inner_join(
                            loan_application::Entity,
                            Expr::col((loan_application::Entity, loan_application::Column::Id))
                                .equals((
                                    application_asset::Entity,
                                    application_asset::Column::ApplicationId,
                                )),
                        )
                        .and_where(loan_application::Column::BankId.eq(bank))
                        .and_where(
                            loan_application::Column::Status.is_in(ApplicationStatus::WITH_BANK),
                        )
                        .to_owned(),
                ),
            ),
            other => other.condition(asset::Column::OrganizationId),
        }
    }

    /// May the caller create or change objects of `organization_id`?
    pub fn may_manage(self, organization_id: Uuid) -> bool {
        match self {
            AssetScope::Everything => true,
            AssetScope::Organization(own) => own == organization_id,
            AssetScope::Bank(_) | AssetScope::Nothing => false,
        }
    }
}

/// Resolves the organization a caller acts for: an operator's own, or the one named.
pub fn acting_organization(scope: AssetScope, requested: Option<Uuid>) -> Result<Uuid, ApiError> {
    let organization = match (scope, requested) {
        (_, Some(id)) => id,
        (AssetScope::Organization(own), None) => own,
        _ => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "organization_id",
                "required",
            )]));
        }
    };
    if scope.may_manage(organization) {
        Ok(organization)
    } else {
        Err(ApiError::Validation(vec![FieldError::new(
            "organization_id",
            "unknown_organization",
        )]))
    }
}
