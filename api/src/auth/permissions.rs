//! The permission matrix: which role may call which kind of endpoint. The only place that says so.
//!
//! Whether the caller may touch *this* object (tenant scoping) is the feature's own rule; this
//! matrix only decides whether the role may call the endpoint at all (403 `forbidden` if not).

use entity::Role;
use entity::Role::{Admin, BankApprover, BankOfficer, OrgOperator, Supervisor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read one's own account, change one's password, sign out.
    UseOwnAccount,
    /// List and read user accounts.
    ReadUsers,
    /// Create users, change their role, status and limits, reset passwords.
    ManageUsers,
}

impl Action {
    pub const ALL: [Action; 3] = [
        Action::UseOwnAccount,
        Action::ReadUsers,
        Action::ManageUsers,
    ];

    pub fn allowed_roles(self) -> &'static [Role] {
        match self {
            Action::UseOwnAccount => &[Admin, Supervisor, OrgOperator, BankOfficer, BankApprover],
            Action::ReadUsers => &[Admin, Supervisor],
            Action::ManageUsers => &[Admin],
        }
    }
}

pub fn permits(role: Role, action: Action) -> bool {
    action.allowed_roles().contains(&role)
}

/// A type-level name of an [`Action`], so that an extractor can demand it:
/// `_: Authorized<ManageUsers>` in a handler's arguments.
pub trait Permission {
    const ACTION: Action;
}

macro_rules! permissions {
    ($($name:ident),+ $(,)?) => {
        $(
            #[doc = concat!("Marker for [`Action::", stringify!($name), "`].")]
            pub struct $name;
            impl Permission for $name {
                const ACTION: Action = Action::$name;
            }
        )+
    };
}

permissions!(UseOwnAccount, ReadUsers, ManageUsers);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisor_writes_nothing() {
        for action in Action::ALL {
            if action != Action::UseOwnAccount && permits(Supervisor, action) {
                assert_eq!(action, Action::ReadUsers, "supervisor may only read");
            }
        }
    }

    #[test]
    fn everyone_uses_their_own_account() {
        for role in Role::ALL {
            assert!(permits(role, Action::UseOwnAccount));
        }
    }
}
