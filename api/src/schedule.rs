//! Repayment schedules, exactly (docs/repayment.md):
//!
//! - the monthly rate is the annual rate / 12, exactly (a `Decimal`, no float);
//! - each period's interest is outstanding × monthly rate, rounded half-up to the fen;
//! - annuity (等额本息): the installment is the annuity formula rounded half-up to the fen,
//!   principal = installment − interest;
//! - equal principal (等额本金): principal = amount / n rounded half-up to the fen;
//! - interest only (先息后本): interest each month, all principal in the last period;
//! - the last period always pays the whole remaining principal, so principals sum to the amount;
//! - due dates are monthly from the disbursement date, clamped to the month's last day.

use chrono::{Months, NaiveDate};
use entity::{Money, Rate, RepaymentMethod};
use rust_decimal::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Installment {
    pub period: u32,
    pub due_date: NaiveDate,
    pub principal: Money,
    pub interest: Money,
    /// principal + interest
    pub payment: Money,
    /// Principal still owed after this payment.
    pub remaining: Money,
}

fn to_fen(value: Decimal) -> i64 {
    value
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}

/// The monthly rate as a fraction: annual percent / 100 / 12.
pub fn monthly_rate(annual: Rate) -> Decimal {
    annual.to_decimal() / Decimal::from(1200)
}

/// The annuity installment in fen, rounded half-up.
fn annuity_payment(amount_fen: i64, rate: Decimal, months: u32) -> i64 {
    let principal = Decimal::from(amount_fen);
    if rate.is_zero() {
        return to_fen(principal / Decimal::from(months));
    }
    let growth = (Decimal::ONE + rate).powu(u64::from(months));
    to_fen(principal * rate * growth / (growth - Decimal::ONE))
}

/// The whole schedule. `months` must be at least 1 and `amount` positive.
pub fn schedule(
    amount: Money,
    annual_rate: Rate,
    months: u32,
    method: RepaymentMethod,
    disbursed: NaiveDate,
) -> Vec<Installment> {
    let months = months.max(1);
    let rate = monthly_rate(annual_rate);
    let annuity = annuity_payment(amount.fen(), rate, months);
    let equal_principal = to_fen(Decimal::from(amount.fen()) / Decimal::from(months));
    let mut outstanding = amount.fen();
    let mut rows = Vec::with_capacity(months as usize);
    for period in 1..=months {
        let interest = to_fen(Decimal::from(outstanding) * rate);
        let principal = if period == months {
            outstanding
        } else {
            match method {
                RepaymentMethod::Annuity => (annuity - interest).clamp(0, outstanding),
                RepaymentMethod::EqualPrincipal => equal_principal.min(outstanding),
                RepaymentMethod::InterestOnly => 0,
            }
        };
        outstanding -= principal;
        rows.push(Installment {
            period,
            due_date: disbursed
                .checked_add_months(Months::new(period))
                .unwrap_or(disbursed),
            principal: Money::from_fen(principal),
            interest: Money::from_fen(interest),
            payment: Money::from_fen(principal + interest),
            remaining: Money::from_fen(outstanding),
        });
    }
    rows
}

/// First installment and total repayment (principal + interest) of a schedule.
pub fn estimate(rows: &[Installment]) -> (Money, Money) {
    let first = rows.first().map_or(Money::ZERO, |r| r.payment);
    let total: i64 = rows.iter().map(|r| r.payment.fen()).sum();
    (first, Money::from_fen(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn the_documented_annuity_example() {
        let rows = schedule(
            "1000000.00".parse().unwrap(),
            "4.35".parse().unwrap(),
            36,
            RepaymentMethod::Annuity,
            date(2026, 1, 15),
        );
        assert_eq!(rows.len(), 36);
        assert_eq!(rows[0].payment.to_string(), "29679.93");
        assert_eq!(rows[0].principal.to_string(), "26054.93");
        assert_eq!(rows[0].interest.to_string(), "3625.00");
        assert_eq!(rows[35].payment.to_string(), "29680.10");
        let interest: i64 = rows.iter().map(|r| r.interest.fen()).sum();
        assert_eq!(Money::from_fen(interest).to_string(), "68477.65");
        assert_eq!(rows[35].remaining, Money::ZERO);
        assert_eq!(rows[0].due_date, date(2026, 2, 15));
    }

    #[test]
    fn due_dates_clamp_to_the_end_of_the_month() {
        let rows = schedule(
            "1200.00".parse().unwrap(),
            "6".parse().unwrap(),
            3,
            RepaymentMethod::EqualPrincipal,
            date(2026, 1, 31),
        );
        let dates: Vec<NaiveDate> = rows.iter().map(|r| r.due_date).collect();
        assert_eq!(
            dates,
            vec![date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
        );
        assert_eq!(rows[0].principal.to_string(), "400.00");
        assert_eq!(rows[0].interest.to_string(), "6.00");
        assert_eq!(rows[1].interest.to_string(), "4.00");
    }

    #[test]
    fn interest_only_pays_the_principal_last() {
        let rows = schedule(
            "100000.00".parse().unwrap(),
            "4.8".parse().unwrap(),
            12,
            RepaymentMethod::InterestOnly,
            date(2026, 3, 1),
        );
        assert!(
            rows[..11]
                .iter()
                .all(|r| r.principal == Money::ZERO && r.interest.to_string() == "400.00")
        );
        assert_eq!(rows[11].payment.to_string(), "100400.00");
    }

    #[test]
    fn zero_rate_splits_evenly() {
        let rows = schedule(
            "100.00".parse().unwrap(),
            "0".parse().unwrap(),
            3,
            RepaymentMethod::Annuity,
            date(2026, 1, 1),
        );
        let principals: Vec<String> = rows.iter().map(|r| r.principal.to_string()).collect();
        assert_eq!(principals, vec!["33.33", "33.33", "33.34"]);
    }

    proptest! {
        #[test]
        fn principal_sums_to_the_amount_and_nothing_is_negative(
            fen in 100i64..10_000_000_000,
            rate_bp in 0i32..240_000,
            months in 1u32..=360,
            method in prop::sample::select(vec![
                RepaymentMethod::Annuity,
                RepaymentMethod::EqualPrincipal,
                RepaymentMethod::InterestOnly,
            ]),
        ) {
            let rows = schedule(
                Money::from_fen(fen),
                Rate::from_scaled(rate_bp),
                months,
                method,
                date(2026, 1, 31),
            );
            prop_assert_eq!(rows.len() as u32, months);
            let principal: i64 = rows.iter().map(|r| r.principal.fen()).sum();
            prop_assert_eq!(principal, fen);
            for r in &rows {
                prop_assert!(r.principal.fen() >= 0 && r.interest.fen() >= 0 && r.remaining.fen() >= 0);
                prop_assert_eq!(r.payment.fen(), r.principal.fen() + r.interest.fen());
            }
            prop_assert_eq!(rows.last().unwrap().remaining, Money::ZERO);
        }
    }
}
