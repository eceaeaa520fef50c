//! Repayments against a stored schedule, exactly (docs/repayment.md, "Repayments"):
//!
//! - a payment first settles the periods that are due on its date (due date on or before it),
//!   oldest first, each period's interest before its principal;
//! - what is left is a prepayment of principal; the periods not yet due are recomputed from the
//!   new outstanding principal on their original due dates: an annuity keeps its installment and
//!   equal principal its principal per period, so the schedule gets shorter; interest only keeps
//!   its periods with lower interest. Each recomputed period's interest is the principal
//!   outstanding at its start × the monthly rate, rounded half-up to the fen;
//! - a payment above everything owed (due periods in full plus all remaining principal) is
//!   refused, naming that figure; the loan is settled exactly when nothing is owed.

use chrono::NaiveDate;
use entity::{Money, Rate, RepaymentMethod};
use rust_decimal::prelude::*;

use crate::schedule::monthly_rate;

/// One period of a stored schedule, in fen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Period {
    pub period: i32,
    pub due_date: NaiveDate,
    pub principal: i64,
    pub interest: i64,
    pub paid_principal: i64,
    pub paid_interest: i64,
}

impl Period {
    pub fn unpaid(&self) -> i64 {
        self.principal - self.paid_principal + self.interest - self.paid_interest
    }

    pub fn unpaid_principal(&self) -> i64 {
        self.principal - self.paid_principal
    }
}

/// What a payment did: how it split, and the schedule afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub principal: i64,
    pub interest: i64,
    pub periods: Vec<Period>,
}

impl Allocation {
    /// Principal still owed after the payment.
    pub fn outstanding_principal(&self) -> i64 {
        self.periods.iter().map(Period::unpaid_principal).sum()
    }

    /// Nothing at all is owed any more.
    pub fn settles(&self) -> bool {
        self.periods.iter().all(|p| p.unpaid() == 0)
    }
}

/// The payment is more than everything owed on its date.
#[derive(Debug, PartialEq, Eq)]
pub struct Overpayment {
    pub owed: Money,
}

/// Everything owed on `date`: the due periods in full and all remaining principal.
pub fn owed_on(periods: &[Period], date: NaiveDate) -> i64 {
    periods
        .iter()
        .map(|p| {
            if p.due_date <= date {
                p.unpaid()
            } else {
                p.unpaid_principal()
            }
        })
        .sum()
}

/// Applies a payment of `amount` fen made on `date` to `periods` (ordered by period).
pub fn allocate(
    periods: &[Period],
    date: NaiveDate,
    amount: i64,
    annual_rate: Rate,
    method: RepaymentMethod,
) -> Result<Allocation, Overpayment> {
    let owed = owed_on(periods, date);
    if amount > owed {
        return Err(Overpayment {
            owed: Money::from_fen(owed),
        });
    }
    let mut periods = periods.to_vec();
    let mut left = amount;
    let (mut principal, mut interest) = (0, 0);
    for p in periods.iter_mut().filter(|p| p.due_date <= date) {
        let to_interest = left.min(p.interest - p.paid_interest);
        p.paid_interest += to_interest;
        interest += to_interest;
        left -= to_interest;
        let to_principal = left.min(p.unpaid_principal());
        p.paid_principal += to_principal;
        principal += to_principal;
        left -= to_principal;
    }
    if left > 0 {
        principal += left;
        let first_future = periods
            .iter()
            .position(|p| p.due_date > date)
            .unwrap_or(periods.len());
        let future = periods.split_off(first_future);
        let remaining = future.iter().map(Period::unpaid_principal).sum::<i64>() - left;
        periods.extend(recompute(&future, remaining, annual_rate, method));
    }
    Ok(Allocation {
        principal,
        interest,
        periods,
    })
}

fn to_fen(value: Decimal) -> i64 {
    value
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// The not-yet-due periods again, for `outstanding` fen of principal, on their due dates.
fn recompute(
    future: &[Period],
    mut outstanding: i64,
    annual_rate: Rate,
    method: RepaymentMethod,
) -> Vec<Period> {
    let rate = monthly_rate(annual_rate);
    // The regular amount of the schedule: what its first remaining period asked for (the last
    // period of a schedule is irregular, it takes the rest).
    let regular = match future {
        [first, _, ..] => match method {
            RepaymentMethod::Annuity => first.principal + first.interest,
            RepaymentMethod::EqualPrincipal => first.principal,
            RepaymentMethod::InterestOnly => 0,
        },
        _ => 0,
    };
    let mut rows = Vec::with_capacity(future.len());
    for (i, slot) in future.iter().enumerate() {
        if outstanding == 0 {
            break;
        }
        let interest = to_fen(Decimal::from(outstanding) * rate);
        let last = i + 1 == future.len();
        let principal = if last {
            outstanding
        } else {
            match method {
                RepaymentMethod::Annuity => (regular - interest).clamp(0, outstanding),
                RepaymentMethod::EqualPrincipal => regular.min(outstanding),
                RepaymentMethod::InterestOnly => 0,
            }
        };
        outstanding -= principal;
        rows.push(Period {
            period: slot.period,
            due_date: slot.due_date,
            principal,
            interest,
            paid_principal: 0,
            paid_interest: 0,
        });
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::schedule;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn periods(amount: &str, rate: &str, months: u32, method: RepaymentMethod) -> Vec<Period> {
        schedule(
            amount.parse().unwrap(),
            rate.parse().unwrap(),
            months,
            method,
            date(2026, 1, 15),
        )
        .into_iter()
        .map(|r| Period {
            period: r.period as i32,
            due_date: r.due_date,
            principal: r.principal.fen(),
            interest: r.interest.fen(),
            paid_principal: 0,
            paid_interest: 0,
        })
        .collect()
    }

    #[test]
    fn interest_before_principal_oldest_first() {
        let rows = periods("1200.00", "6", 3, RepaymentMethod::EqualPrincipal);
        // Two periods due (406.00 and 404.00); 500.00 pays the first and the second's interest
        // and 90.00 of its principal.
        let paid = allocate(
            &rows,
            date(2026, 3, 20),
            50_000,
            "6".parse().unwrap(),
            RepaymentMethod::EqualPrincipal,
        )
        .unwrap();
        assert_eq!((paid.interest, paid.principal), (1_000, 49_000));
        assert_eq!(paid.periods[0].unpaid(), 0);
        assert_eq!(paid.periods[1].paid_interest, 400);
        assert_eq!(paid.periods[1].paid_principal, 9_000);
        assert_eq!(paid.periods[2], rows[2]);
        assert!(!paid.settles());
    }

    #[test]
    fn more_than_is_owed_is_refused_with_the_figure() {
        let rows = periods("1200.00", "6", 3, RepaymentMethod::EqualPrincipal);
        // On 2026-02-20 one period is due (406.00) and 800.00 of principal remains.
        let refused = allocate(
            &rows,
            date(2026, 2, 20),
            120_601,
            "6".parse().unwrap(),
            RepaymentMethod::EqualPrincipal,
        );
        assert_eq!(
            refused,
            Err(Overpayment {
                owed: "1206.00".parse().unwrap()
            })
        );
        let all = allocate(
            &rows,
            date(2026, 2, 20),
            120_600,
            "6".parse().unwrap(),
            RepaymentMethod::EqualPrincipal,
        )
        .unwrap();
        assert!(all.settles());
        assert_eq!(all.periods.len(), 1);
    }

    #[test]
    fn a_prepayment_shortens_an_annuity_and_keeps_its_installment() {
        let rows = periods("12000.00", "6", 12, RepaymentMethod::Annuity);
        let installment = rows[0].principal + rows[0].interest;
        // The first installment plus 5,000.00 of principal, paid on its due date.
        let paid = allocate(
            &rows,
            rows[0].due_date,
            installment + 500_000,
            "6".parse().unwrap(),
            RepaymentMethod::Annuity,
        )
        .unwrap();
        assert_eq!(paid.interest, rows[0].interest);
        assert!(paid.periods.len() < rows.len());
        let next = &paid.periods[1];
        assert_eq!(next.period, 2);
        assert_eq!(next.due_date, rows[1].due_date);
        assert_eq!(next.principal + next.interest, installment);
        let expected = rows[1..].iter().map(|r| r.principal).sum::<i64>() - 500_000;
        assert_eq!(paid.outstanding_principal(), expected);
    }

    proptest! {
        #[test]
        fn payments_keep_the_books_exact(
            fen in 10_000i64..1_000_000_000,
            rate_bp in 0i32..240_000,
            months in 1u32..=60,
            method in prop::sample::select(vec![
                RepaymentMethod::Annuity,
                RepaymentMethod::EqualPrincipal,
                RepaymentMethod::InterestOnly,
            ]),
            payments in prop::collection::vec((0i64..70, 1i64..1_000_000_000), 1..12),
        ) {
            let rate = Rate::from_scaled(rate_bp);
            let mut rows: Vec<Period> = schedule(Money::from_fen(fen), rate, months, method, date(2026, 1, 31))
                .into_iter()
                .map(|r| Period {
                    period: r.period as i32,
                    due_date: r.due_date,
                    principal: r.principal.fen(),
                    interest: r.interest.fen(),
                    paid_principal: 0,
                    paid_interest: 0,
                })
                .collect();
            let mut principal_paid = 0;
            let mut day = date(2026, 1, 31);
            for (days, amount) in payments {
                day += chrono::Duration::days(days * 10);
                let owed = owed_on(&rows, day);
                if owed == 0 {
                    break;
                }
                let amount = 1 + amount % owed;
                let paid = allocate(&rows, day, amount, rate, method).unwrap();
                prop_assert_eq!(paid.principal + paid.interest, amount);
                prop_assert!(paid.principal >= 0 && paid.interest >= 0);
                principal_paid += paid.principal;
                for p in &paid.periods {
                    prop_assert!(p.principal >= 0 && p.interest >= 0);
                    prop_assert!(p.paid_principal >= 0 && p.paid_principal <= p.principal);
                    prop_assert!(p.paid_interest >= 0 && p.paid_interest <= p.interest);
                }
                prop_assert_eq!(paid.outstanding_principal(), fen - principal_paid);
                prop_assert_eq!(paid.settles(), owed_on(&paid.periods, day) == 0 && paid.outstanding_principal() == 0);
                prop_assert!(paid.periods.len() <= rows.len());
                prop_assert!(allocate(&paid.periods, day, owed_on(&paid.periods, day) + 1, rate, method).is_err());
                rows = paid.periods;
            }
        }
    }
}
