//! Rules about user accounts, as plain functions.

use entity::{Money, Role};
use uuid::Uuid;

use crate::error::FieldError;

/// The tenant a user is bound to, and an approver's limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Binding {
    pub organization_id: Option<Uuid>,
    pub bank_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub approval_limit: Option<Money>,
}

/// Operators belong to one organization; bank staff to one bank (and maybe a branch); only
/// approvers have an approval limit, and they must have one; admins and supervisors belong to
/// no tenant.
pub fn check_binding(role: Role, binding: &Binding) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut rule = |field: &str, present: bool, wanted: Wanted| match (wanted, present) {
        (Wanted::Required, false) => errors.push(FieldError::new(field, "required_for_role")),
        (Wanted::Forbidden, true) => errors.push(FieldError::new(field, "not_allowed_for_role")),
        _ => {}
    };
    let (org, bank, branch, limit) = match role {
        Role::OrgOperator => (
            Wanted::Required,
            Wanted::Forbidden,
            Wanted::Forbidden,
            Wanted::Forbidden,
        ),
        Role::BankOfficer => (
            Wanted::Forbidden,
            Wanted::Required,
            Wanted::Optional,
            Wanted::Forbidden,
        ),
        Role::BankApprover => (
            Wanted::Forbidden,
            Wanted::Required,
            Wanted::Optional,
            Wanted::Required,
        ),
        Role::Admin | Role::Supervisor => (
            Wanted::Forbidden,
            Wanted::Forbidden,
            Wanted::Forbidden,
            Wanted::Forbidden,
        ),
    };
    rule("organization_id", binding.organization_id.is_some(), org);
    rule("bank_id", binding.bank_id.is_some(), bank);
    rule("branch_id", binding.branch_id.is_some(), branch);
    rule("approval_limit", binding.approval_limit.is_some(), limit);
    if binding.approval_limit.is_some_and(Money::is_negative) {
        errors.push(FieldError::new("approval_limit", "negative"));
    }
    errors
}

#[derive(Clone, Copy)]
enum Wanted {
    Required,
    Optional,
    Forbidden,
}

/// The binding after a change of role: what the new role may not have is dropped, unless the
/// request set it explicitly (then `check_binding` reports it).
pub fn rebind(role: Role, current: &Binding, requested: &Binding) -> Binding {
    let keep = |field: &str| {
        !check_binding(role, current)
            .iter()
            .any(|e| e.field == field && e.code == "not_allowed_for_role")
    };
    let pick = |req: Option<Uuid>, cur: Option<Uuid>, field: &str| {
        req.or(if keep(field) { cur } else { None })
    };
    Binding {
        organization_id: pick(
            requested.organization_id,
            current.organization_id,
            "organization_id",
        ),
        bank_id: pick(requested.bank_id, current.bank_id, "bank_id"),
        branch_id: pick(requested.branch_id, current.branch_id, "branch_id"),
        approval_limit: requested.approval_limit.or(if keep("approval_limit") {
            current.approval_limit
        } else {
            None
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: Vec<FieldError>) -> Vec<(String, &'static str)> {
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn operator_needs_an_organization_and_nothing_else() {
        let errors = check_binding(
            Role::OrgOperator,
            &Binding {
                bank_id: Some(Uuid::now_v7()),
                ..Default::default()
            },
        );
        assert_eq!(
            fields(errors),
            vec![
                ("organization_id".into(), "required_for_role"),
                ("bank_id".into(), "not_allowed_for_role")
            ]
        );
    }

    #[test]
    fn approver_needs_a_non_negative_limit() {
        let bank = Some(Uuid::now_v7());
        let missing = check_binding(
            Role::BankApprover,
            &Binding {
                bank_id: bank,
                ..Default::default()
            },
        );
        assert_eq!(
            fields(missing),
            vec![("approval_limit".into(), "required_for_role")]
        );
        let negative = check_binding(
            Role::BankApprover,
            &Binding {
                bank_id: bank,
                approval_limit: Some(Money::from_fen(-1)),
                ..Default::default()
            },
        );
        assert_eq!(
            fields(negative),
            vec![("approval_limit".into(), "negative")]
        );
    }

    #[test]
    fn admins_belong_to_no_tenant() {
        assert!(check_binding(Role::Admin, &Binding::default()).is_empty());
        assert!(
            !check_binding(
                Role::Supervisor,
                &Binding {
                    organization_id: Some(Uuid::now_v7()),
                    ..Default::default()
                }
            )
            .is_empty()
        );
    }

    #[test]
    fn demoting_an_approver_drops_the_limit_but_keeps_the_bank() {
        let current = Binding {
            bank_id: Some(Uuid::now_v7()),
            approval_limit: Some(Money::from_fen(100)),
            ..Default::default()
        };
        let next = rebind(Role::BankOfficer, &current, &Binding::default());
        assert_eq!(next.bank_id, current.bank_id);
        assert_eq!(next.approval_limit, None);
        assert!(check_binding(Role::BankOfficer, &next).is_empty());
    }
}
