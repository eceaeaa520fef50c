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
    /// Read administrative divisions.
    ReadRegions,
    /// Add administrative divisions.
    ManageRegions,
    /// Read organizations and their incomes (scoped: operators their own, bank staff those in
    /// the regions their bank serves).
    ReadOrganizations,
    /// Edit an organization: the admin any field, an operator its own contact details.
    EditOrganization,
    /// Register and import organizations, set their status and incomes.
    ManageOrganizations,
    /// Read banks, their branches and served regions.
    ReadBanks,
    /// Create and edit banks, branches and served regions.
    ManageBanks,
    /// County income statistics.
    ReadIncomeStats,
    /// Portfolio statistics (scoped: bank staff their own bank's book).
    ReadPortfolioStats,
    /// Read assets, valuations, documents, equity entities (scoped: operators their own
    /// organization's; bank staff only assets pledged to their bank).
    ReadAssets,
    /// Register and edit assets, upload documents, register equity entities and shareholdings
    /// (operators for their own organization).
    ManageAssets,
    /// Verify or reject assets.
    VerifyAssets,
    /// Add valuations: the county, or a bank officer for an asset pledged to that bank.
    AppraiseAssets,
    /// Read loan products.
    ReadProducts,
    /// Create, edit, activate and retire the products of one's own bank.
    ManageProducts,
    /// Quote: see which products match a request and why not.
    QuoteLoans,
    /// Read applications (scoped: operators their own; bank staff those submitted to their bank).
    ReadApplications,
    /// Create, edit, submit, resubmit and withdraw applications for one's own organization.
    ApplyForLoans,
    /// Claim, hand back, ask for information on and recommend applications of one's own bank.
    ReviewApplications,
    /// Approve recommended applications of one's own bank, up to one's approval limit.
    ApproveApplications,
    /// Reject applications of one's own bank (the assigned officer or an approver).
    RejectApplications,
    /// Disburse approved loans of one's own bank and record their repayments.
    ServiceLoans,
    /// Read and verify the audit record.
    ReadAudit,
}

impl Action {
    pub const ALL: [Action; 26] = [
        Action::UseOwnAccount,
        Action::ReadUsers,
        Action::ManageUsers,
        Action::ReadRegions,
        Action::ManageRegions,
        Action::ReadOrganizations,
        Action::EditOrganization,
        Action::ManageOrganizations,
        Action::ReadBanks,
        Action::ManageBanks,
        Action::ReadIncomeStats,
        Action::ReadPortfolioStats,
        Action::ReadAssets,
        Action::ManageAssets,
        Action::VerifyAssets,
        Action::AppraiseAssets,
        Action::ReadProducts,
        Action::ManageProducts,
        Action::QuoteLoans,
        Action::ReadApplications,
        Action::ApplyForLoans,
        Action::ReviewApplications,
        Action::ApproveApplications,
        Action::RejectApplications,
        Action::ServiceLoans,
        Action::ReadAudit,
    ];

    pub fn allowed_roles(self) -> &'static [Role] {
        const EVERYONE: &[Role] = &[Admin, Supervisor, OrgOperator, BankOfficer, BankApprover];
        match self {
            Action::UseOwnAccount
            | Action::ReadRegions
            | Action::ReadOrganizations
            | Action::ReadBanks
            | Action::ReadAssets
            | Action::ReadProducts
            | Action::ReadApplications => EVERYONE,
            Action::ReadUsers | Action::ReadIncomeStats | Action::ReadAudit => &[Admin, Supervisor],
            Action::EditOrganization | Action::ManageAssets | Action::QuoteLoans => {
                &[Admin, OrgOperator]
            }
            Action::ApplyForLoans => &[OrgOperator],
            Action::ManageProducts | Action::ApproveApplications => &[BankApprover],
            Action::ReviewApplications => &[BankOfficer],
            Action::RejectApplications | Action::ServiceLoans => &[BankOfficer, BankApprover],
            Action::ReadPortfolioStats => &[Admin, Supervisor, BankOfficer, BankApprover],
            Action::AppraiseAssets => &[Admin, BankOfficer],
            Action::ManageUsers
            | Action::ManageRegions
            | Action::ManageOrganizations
            | Action::ManageBanks
            | Action::VerifyAssets => &[Admin],
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

permissions!(
    UseOwnAccount,
    ReadUsers,
    ManageUsers,
    ReadRegions,
    ManageRegions,
    ReadOrganizations,
    EditOrganization,
    ManageOrganizations,
    ReadBanks,
    ManageBanks,
    ReadIncomeStats,
    ReadPortfolioStats,
    ReadAssets,
    ManageAssets,
    VerifyAssets,
    AppraiseAssets,
    ReadProducts,
    ManageProducts,
    QuoteLoans,
    ReadApplications,
    ApplyForLoans,
    ReviewApplications,
    ApproveApplications,
    RejectApplications,
    ServiceLoans,
    ReadAudit,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn supervisor_writes_nothing() {
        for action in Action::ALL {
            if permits(Supervisor, action) {
                assert!(
                    !matches!(
                        action,
                        Action::ManageUsers
                            | Action::ManageRegions
                            | Action::EditOrganization
                            | Action::ManageOrganizations
                            | Action::ManageBanks
                            | Action::ManageAssets
                            | Action::VerifyAssets
                            | Action::AppraiseAssets
                            | Action::ManageProducts
                            | Action::ApplyForLoans
                            | Action::ReviewApplications
                            | Action::ApproveApplications
                            | Action::RejectApplications
                            | Action::ServiceLoans
                    ),
                    "supervisor may only read: {action:?}"
                );
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
