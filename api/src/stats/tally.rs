//! The portfolio figures as plain arithmetic: a [`Tally`] takes one application (and each pledged
//! asset) at a time and yields [`PortfolioFigures`]. No database here, so unit tests call it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use entity::{ApplicationStatus, AssetKind, Money};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

use super::Percent;

/// What the figures need of one application.
#[derive(Debug, Clone)]
pub struct ApplicationFacts {
    pub status: ApplicationStatus,
    pub amount: Money,
    pub approved_amount: Option<Money>,
    pub disbursed_amount: Option<Money>,
    pub outstanding_principal: Option<Money>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub disbursed_on: Option<NaiveDate>,
    pub in_shortfall: bool,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PortfolioFigures {
    /// Applications submitted (drafts are the village's own and not in the portfolio).
    pub applications: u64,
    /// Every state after draft, with its count (zeros included), in lifecycle order.
    pub by_status: Vec<StatusCount>,
    /// Σ requested amounts.
    pub requested: Money,
    /// Σ approved amounts (approved, disbursed and settled loans).
    pub approved: Money,
    /// Σ disbursed amounts.
    pub disbursed: Money,
    /// Σ principal still owed on disbursed loans.
    pub outstanding: Money,
    /// Applications approved or rejected.
    pub decisions: u64,
    pub approvals: u64,
    /// approvals / decisions, percent, two places (half up).
    pub approval_rate: Percent,
    /// Median of (decision day − submission day), Beijing calendar days.
    pub median_days_to_decision: Option<Days>,
    /// Median of (disbursement date − decision day); a loan recorded after its contract counts 0.
    pub median_days_to_disbursement: Option<Days>,
    /// Assets under an open lien (reserved or active), by kind: count and Σ current value.
    pub collateral: Vec<PledgedKind>,
    /// Disbursed loans whose collateral no longer covers them.
    pub shortfall: LoanCount,
    /// Disbursed loans with a period past due and not fully paid.
    pub overdue: LoanCount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatusCount {
    pub status: ApplicationStatus,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PledgedKind {
    pub kind: AssetKind,
    pub count: u64,
    /// Σ the assets' current values (an asset without a valid valuation adds nothing).
    pub current_value: Money,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct LoanCount {
    pub loans: u64,
    pub outstanding: Money,
}

/// A number of days with one decimal place (a median of two counts may fall between), as a
/// string in JSON (`"3.5"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, example = "3.5")]
pub struct Days(Decimal);

impl std::fmt::Display for Days {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Days {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The states a portfolio counts: everything after draft.
pub fn portfolio_states() -> impl Iterator<Item = ApplicationStatus> {
    ApplicationStatus::ALL
        .iter()
        .copied()
        .filter(|s| *s != ApplicationStatus::Draft)
}

/// Accumulates applications and pledged assets of one region (or of the whole scope).
#[derive(Debug, Default, Clone)]
pub struct Tally {
    by_status: BTreeMap<&'static str, u64>,
    applications: u64,
    requested: i128,
    approved: i128,
    disbursed: i128,
    outstanding: i128,
    decisions: u64,
    approvals: u64,
    days_to_decision: Vec<i64>,
    days_to_disbursement: Vec<i64>,
    collateral: BTreeMap<&'static str, (AssetKind, u64, i128)>,
    shortfall: (u64, i128),
    overdue: (u64, i128),
}

impl Tally {
    pub fn add_application(&mut self, a: &ApplicationFacts) {
        self.applications += 1;
        *self.by_status.entry(a.status.as_str()).or_default() += 1;
        self.requested += i128::from(a.amount.fen());
        let fen = |m: Option<Money>| i128::from(m.map_or(0, Money::fen));
        self.approved += fen(a.approved_amount);
        self.disbursed += fen(a.disbursed_amount);
        let owed = if a.status == ApplicationStatus::Disbursed {
            fen(a.outstanding_principal)
        } else {
            0
        };
        self.outstanding += owed;
        if let Some(decided) = a.decided_at {
            self.decisions += 1;
            if a.approved_amount.is_some() {
                self.approvals += 1;
            }
            if let Some(submitted) = a.submitted_at {
                self.days_to_decision
                    .push((county_day(decided) - county_day(submitted)).num_days());
            }
            if let Some(disbursed_on) = a.disbursed_on {
                let days = (disbursed_on - county_day(decided)).num_days();
                self.days_to_disbursement.push(days.max(0));
            }
        }
        if a.status == ApplicationStatus::Disbursed {
            if a.in_shortfall {
                self.shortfall.0 += 1;
                self.shortfall.1 += owed;
            }
            if a.overdue {
                self.overdue.0 += 1;
                self.overdue.1 += owed;
            }
        }
    }

    /// One asset under an open lien, with its current value if it has one.
    pub fn add_pledged(&mut self, kind: AssetKind, current_value: Option<Money>) {
        let entry = self.collateral.entry(kind.as_str()).or_insert((kind, 0, 0));
        entry.1 += 1;
        entry.2 += i128::from(current_value.map_or(0, Money::fen));
    }

    pub fn figures(mut self) -> PortfolioFigures {
        let money = |fen: i128| Money::from_fen(i64::try_from(fen).unwrap_or(i64::MAX));
        PortfolioFigures {
            applications: self.applications,
            by_status: portfolio_states()
                .map(|status| StatusCount {
                    status,
                    count: self.by_status.get(status.as_str()).copied().unwrap_or(0),
                })
                .collect(),
            requested: money(self.requested),
            approved: money(self.approved),
            disbursed: money(self.disbursed),
            outstanding: money(self.outstanding),
            decisions: self.decisions,
            approvals: self.approvals,
            approval_rate: Percent::of(self.approvals, self.decisions),
            median_days_to_decision: median(&mut self.days_to_decision),
            median_days_to_disbursement: median(&mut self.days_to_disbursement),
            collateral: AssetKind::ALL
                .iter()
                .filter_map(|kind| self.collateral.get(kind.as_str()))
                .map(|(kind, count, value)| PledgedKind {
                    kind: *kind,
                    count: *count,
                    current_value: money(*value),
                })
                .collect(),
            shortfall: LoanCount {
                loans: self.shortfall.0,
                outstanding: money(self.shortfall.1),
            },
            overdue: LoanCount {
                loans: self.overdue.0,
                outstanding: money(self.overdue.1),
            },
        }
    }

    /// Adds another region's tally into this one (the whole scope is the sum of its regions).
    pub fn absorb(&mut self, other: &Tally) {
        for (status, count) in &other.by_status {
            *self.by_status.entry(status).or_default() += count;
        }
        self.applications += other.applications;
        self.requested += other.requested;
        self.approved += other.approved;
        self.disbursed += other.disbursed;
        self.outstanding += other.outstanding;
        self.decisions += other.decisions;
        self.approvals += other.approvals;
        self.days_to_decision
            .extend_from_slice(&other.days_to_decision);
        self.days_to_disbursement
            .extend_from_slice(&other.days_to_disbursement);
        for (key, (kind, count, value)) in &other.collateral {
            let entry = self.collateral.entry(key).or_insert((*kind, 0, 0));
            entry.1 += count;
            entry.2 += value;
        }
        self.shortfall.0 += other.shortfall.0;
        self.shortfall.1 += other.shortfall.1;
        self.overdue.0 += other.overdue.0;
        self.overdue.1 += other.overdue.1;
    }
}

/// The calendar day in the county (UTC+8) of an instant.
pub fn county_day(at: DateTime<Utc>) -> NaiveDate {
    (at + chrono::TimeDelta::hours(8)).date_naive()
}

fn median(values: &mut [i64]) -> Option<Days> {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut middle = if n % 2 == 1 {
        Decimal::from(values[n / 2])
    } else {
        Decimal::from(values[n / 2 - 1] + values[n / 2]) / Decimal::TWO
    };
    middle.rescale(1);
    Some(Days(middle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0).single().unwrap()
    }

    fn application(status: ApplicationStatus, amount: i64) -> ApplicationFacts {
        ApplicationFacts {
            status,
            amount: Money::from_fen(amount),
            approved_amount: None,
            disbursed_amount: None,
            outstanding_principal: None,
            submitted_at: Some(at(2026, 3, 1, 2)),
            decided_at: None,
            disbursed_on: None,
            in_shortfall: false,
            overdue: false,
        }
    }

    #[test]
    fn a_loan_counts_in_every_figure_it_belongs_to() {
        let mut tally = Tally::default();
        let mut loan = application(ApplicationStatus::Disbursed, 100_000);
        loan.approved_amount = Some(Money::from_fen(90_000));
        loan.disbursed_amount = Some(Money::from_fen(90_000));
        loan.outstanding_principal = Some(Money::from_fen(60_000));
        // Submitted 1 March 10:00 Beijing, decided 4 March 07:00 Beijing (3 March 23:00 UTC).
        loan.decided_at = Some(at(2026, 3, 3, 23));
        loan.disbursed_on = NaiveDate::from_ymd_opt(2026, 3, 9);
        loan.in_shortfall = true;
        loan.overdue = true;
        tally.add_application(&loan);
        let mut rejected = application(ApplicationStatus::Rejected, 50_000);
        rejected.decided_at = Some(at(2026, 3, 2, 1));
        tally.add_application(&rejected);
        tally.add_application(&application(ApplicationStatus::Submitted, 7));
        tally.add_pledged(AssetKind::Building, Some(Money::from_fen(500)));
        tally.add_pledged(AssetKind::Building, None);

        let f = tally.figures();
        assert_eq!(f.applications, 3);
        assert_eq!(f.requested, Money::from_fen(150_007));
        assert_eq!(f.approved, Money::from_fen(90_000));
        assert_eq!(f.outstanding, Money::from_fen(60_000));
        assert_eq!((f.decisions, f.approvals), (2, 1));
        assert_eq!(f.approval_rate.to_string(), "50.00");
        // Decision days: 3 (1 → 4 March) and 1 (1 → 2 March): median 2.0.
        assert_eq!(f.median_days_to_decision.unwrap().to_string(), "2.0");
        assert_eq!(f.median_days_to_disbursement.unwrap().to_string(), "5.0");
        assert_eq!(f.shortfall.loans, 1);
        assert_eq!(f.overdue.outstanding, Money::from_fen(60_000));
        assert_eq!(f.collateral.len(), 1);
        assert_eq!(f.collateral[0].count, 2);
        assert_eq!(f.collateral[0].current_value, Money::from_fen(500));
        assert_eq!(f.by_status.len(), ApplicationStatus::ALL.len() - 1);
        assert!(
            f.by_status
                .iter()
                .any(|s| s.status == ApplicationStatus::Rejected && s.count == 1)
        );
    }

    #[test]
    fn a_median_between_two_counts_keeps_its_half_and_a_late_record_counts_zero() {
        assert_eq!(median(&mut [4, 1]).unwrap().to_string(), "2.5");
        assert_eq!(median(&mut [9, 1, 3]).unwrap().to_string(), "3.0");
        assert_eq!(median(&mut []), None);
        let mut tally = Tally::default();
        let mut loan = application(ApplicationStatus::Settled, 1);
        loan.decided_at = Some(at(2026, 3, 10, 2));
        loan.disbursed_on = NaiveDate::from_ymd_opt(2026, 3, 1);
        tally.add_application(&loan);
        assert_eq!(
            tally
                .figures()
                .median_days_to_disbursement
                .unwrap()
                .to_string(),
            "0.0"
        );
    }

    #[test]
    fn the_whole_is_the_sum_of_its_regions() {
        let mut a = Tally::default();
        a.add_application(&application(ApplicationStatus::Withdrawn, 10));
        a.add_pledged(AssetKind::Machinery, Some(Money::from_fen(3)));
        let mut b = Tally::default();
        b.add_application(&application(ApplicationStatus::Submitted, 5));
        b.add_pledged(AssetKind::Machinery, Some(Money::from_fen(4)));
        let mut whole = Tally::default();
        whole.absorb(&a);
        whole.absorb(&b);
        let f = whole.figures();
        assert_eq!(f.applications, 2);
        assert_eq!(f.requested, Money::from_fen(15));
        assert_eq!(f.collateral[0].current_value, Money::from_fen(7));
    }
}
