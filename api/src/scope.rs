//! Which organizations' assets and equity a caller may see, as one rule for every feature that
//! holds them. (Organizations themselves have their own, wider rule: `organizations::visible_to`.)

use entity::Role;
use sea_orm::sea_query::{Expr, IntoColumnRef};
use sea_orm::{ColumnTrait, Condition};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, FieldError};

/// Whose assets a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssetScope {
    /// The county and supervisors.
    Everything,
    /// An operator: its own organization's.
    Organization(Uuid),
    /// Bank staff see only assets pledged in applications to their bank; none are yet
    /// (applications arrive with the loan-application feature), so they see none.
    Nothing,
}

impl AssetScope {
    pub fn of(caller: &Caller) -> AssetScope {
        match (caller.role(), caller.user.organization_id) {
            (Role::Admin | Role::Supervisor, _) => AssetScope::Everything,
            (Role::OrgOperator, Some(id)) => AssetScope::Organization(id),
            _ => AssetScope::Nothing,
        }
    }

    /// The condition on a table's organization column.
    pub fn condition(self, organization_column: impl ColumnTrait + IntoColumnRef) -> Condition {
        match self {
            AssetScope::Everything => Condition::all(),
            AssetScope::Organization(id) => Condition::all().add(organization_column.eq(id)),
            AssetScope::Nothing => Condition::all().add(Expr::cust("1 = 0")),
        }
    }

    /// May the caller create or change objects of `organization_id`?
    pub fn may_manage(self, organization_id: Uuid) -> bool {
        match self {
            AssetScope::Everything => true,
            AssetScope::Organization(own) => own == organization_id,
            AssetScope::Nothing => false,
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
