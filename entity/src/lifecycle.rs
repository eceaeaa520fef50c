//! The lifecycles as tables: which action moves which state where (DESIGN.md section 5). The
//! only place that says so; `api::transition` applies a move conditionally in the database.

use crate::{ApplicationStatus, ProductStatus};

/// What can be done to a loan application.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApplicationAction {
    Submit,
    Claim,
    /// The officer hands a claimed application back to the queue.
    Release,
    RequestInfo,
    Resubmit,
    Recommend,
    Approve,
    Reject,
    Disburse,
    /// Nothing is outstanding any more.
    Settle,
    Withdraw,
}

impl ApplicationAction {
    pub const ALL: [ApplicationAction; 11] = [
        ApplicationAction::Submit,
        ApplicationAction::Claim,
        ApplicationAction::Release,
        ApplicationAction::RequestInfo,
        ApplicationAction::Resubmit,
        ApplicationAction::Recommend,
        ApplicationAction::Approve,
        ApplicationAction::Reject,
        ApplicationAction::Disburse,
        ApplicationAction::Settle,
        ApplicationAction::Withdraw,
    ];

    /// The name of the action in audit events (`application.<name>`) and paths.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationAction::Submit => "submit",
            ApplicationAction::Claim => "claim",
            ApplicationAction::Release => "release",
            ApplicationAction::RequestInfo => "request_info",
            ApplicationAction::Resubmit => "resubmit",
            ApplicationAction::Recommend => "recommend",
            ApplicationAction::Approve => "approve",
            ApplicationAction::Reject => "reject",
            ApplicationAction::Disburse => "disburse",
            ApplicationAction::Settle => "settle",
            ApplicationAction::Withdraw => "withdraw",
        }
    }
}

impl ApplicationStatus {
    /// Where `action` takes an application in this state, or `None` when it is not allowed here.
    pub fn may_move(self, action: ApplicationAction) -> Option<ApplicationStatus> {
        use ApplicationAction as A;
        use ApplicationStatus as S;
        match (self, action) {
            (S::Draft, A::Submit) => Some(S::Submitted),
            (S::Submitted, A::Claim) => Some(S::UnderReview),
            (S::UnderReview, A::Release) => Some(S::Submitted),
            (S::UnderReview, A::RequestInfo) => Some(S::InfoRequested),
            (S::InfoRequested, A::Resubmit) => Some(S::UnderReview),
            (S::UnderReview, A::Recommend) => Some(S::Recommended),
            (S::Recommended, A::Approve) => Some(S::Approved),
            (S::Approved, A::Disburse) => Some(S::Disbursed),
            (S::Disbursed, A::Settle) => Some(S::Settled),
            (S::Submitted | S::UnderReview | S::Recommended, A::Reject) => Some(S::Rejected),
            (S::Draft | S::Submitted | S::UnderReview | S::InfoRequested, A::Withdraw) => {
                Some(S::Withdrawn)
            }
            _ => None,
        }
    }

    /// The states `action` may start from.
    pub fn sources_of(action: ApplicationAction) -> Vec<ApplicationStatus> {
        use sea_orm::Iterable;
        ApplicationStatus::iter()
            .filter(|s| s.may_move(action).is_some())
            .collect()
    }
}

/// What can be done to a loan product.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProductAction {
    Activate,
    Retire,
}

impl ProductAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductAction::Activate => "activate",
            ProductAction::Retire => "retire",
        }
    }
}

impl ProductStatus {
    /// Where `action` takes a product in this state, or `None` when it is not allowed here.
    pub fn may_move(self, action: ProductAction) -> Option<ProductStatus> {
        match (self, action) {
            (ProductStatus::Draft, ProductAction::Activate) => Some(ProductStatus::Active),
            (ProductStatus::Active, ProductAction::Retire) => Some(ProductStatus::Retired),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;
    use ApplicationAction as A;
    use ApplicationStatus as S;

    /// DESIGN.md section 5, edge by edge; every pair not listed here must be refused.
    const EDGES: [(S, A, S); 16] = [
        (S::Draft, A::Submit, S::Submitted),
        (S::Submitted, A::Claim, S::UnderReview),
        (S::UnderReview, A::Release, S::Submitted),
        (S::UnderReview, A::RequestInfo, S::InfoRequested),
        (S::InfoRequested, A::Resubmit, S::UnderReview),
        (S::UnderReview, A::Recommend, S::Recommended),
        (S::Recommended, A::Approve, S::Approved),
        (S::Approved, A::Disburse, S::Disbursed),
        (S::Disbursed, A::Settle, S::Settled),
        (S::Submitted, A::Reject, S::Rejected),
        (S::UnderReview, A::Reject, S::Rejected),
        (S::Recommended, A::Reject, S::Rejected),
        (S::Draft, A::Withdraw, S::Withdrawn),
        (S::Submitted, A::Withdraw, S::Withdrawn),
        (S::UnderReview, A::Withdraw, S::Withdrawn),
        (S::InfoRequested, A::Withdraw, S::Withdrawn),
    ];

    #[test]
    fn every_state_and_action_follows_the_design() {
        for state in S::iter() {
            for action in A::ALL {
                let expected = EDGES
                    .iter()
                    .find(|(from, a, _)| *from == state && *a == action)
                    .map(|(_, _, to)| *to);
                assert_eq!(state.may_move(action), expected, "{state:?} {action:?}");
            }
        }
    }

    #[test]
    fn ended_states_go_nowhere() {
        for state in [S::Settled, S::Rejected, S::Withdrawn] {
            assert!(A::ALL.iter().all(|a| state.may_move(*a).is_none()));
        }
    }

    #[test]
    fn sources_are_the_edges_starting_points() {
        assert_eq!(
            S::sources_of(A::Withdraw),
            vec![S::Draft, S::Submitted, S::UnderReview, S::InfoRequested]
        );
        assert_eq!(
            S::sources_of(A::Reject),
            vec![S::Submitted, S::UnderReview, S::Recommended]
        );
    }

    #[test]
    fn products_go_draft_active_retired() {
        use ProductAction as P;
        use ProductStatus as Q;
        assert_eq!(Q::Draft.may_move(P::Activate), Some(Q::Active));
        assert_eq!(Q::Active.may_move(P::Retire), Some(Q::Retired));
        for (state, action) in [
            (Q::Draft, P::Retire),
            (Q::Active, P::Activate),
            (Q::Retired, P::Activate),
            (Q::Retired, P::Retire),
        ] {
            assert_eq!(state.may_move(action), None, "{state:?} {action:?}");
        }
    }
}
