//! The income figures, as pure functions. Rounding is half-up (away from zero) everywhere:
//! the mean and a median between two incomes to the fen, shares to two decimal places.

use entity::Money;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Serialize, Serializer};
use utoipa::ToSchema;

/// The county's income tiers: 50,000 and 100,000 CNY.
pub const TIER_LOW: Money = Money::from_fen(5_000_000);
pub const TIER_HIGH: Money = Money::from_fen(10_000_000);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IncomeFigures {
    /// Organizations with an income recorded for the year.
    pub organization_count: u64,
    pub total: Money,
    pub mean: Option<Money>,
    pub median: Option<Money>,
    pub count_at_least_50000: u64,
    pub share_at_least_50000: Percent,
    pub count_at_least_100000: u64,
    pub share_at_least_100000: Percent,
}

/// A percentage with two decimal places, as a string in JSON (`"84.96"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ToSchema)]
#[schema(value_type = String, example = "84.96")]
pub struct Percent(Decimal);

impl Percent {
    /// `part / whole` as a percentage, half-up to two places; 0.00 when `whole` is 0.
    pub fn of(part: u64, whole: u64) -> Percent {
        if whole == 0 {
            return Percent(Decimal::new(0, 2));
        }
        let mut value = (Decimal::from(part) * Decimal::ONE_HUNDRED / Decimal::from(whole))
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        value.rescale(2);
        Percent(value)
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Percent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

pub fn income_figures(amounts: &[Money]) -> IncomeFigures {
    let count = amounts.len() as u64;
    let total_fen: i128 = amounts.iter().map(|m| i128::from(m.fen())).sum();
    let total = Money::from_fen(i64::try_from(total_fen).unwrap_or(i64::MAX));
    let mean = (count > 0).then(|| half_up_div(total_fen, i128::from(count)));
    let mut sorted: Vec<i64> = amounts.iter().map(|m| m.fen()).collect();
    sorted.sort_unstable();
    let median = match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(Money::from_fen(sorted[n / 2])),
        n => Some(half_up_div(
            i128::from(sorted[n / 2 - 1]) + i128::from(sorted[n / 2]),
            2,
        )),
    };
    let at_least = |tier: Money| amounts.iter().filter(|m| **m >= tier).count() as u64;
    let low = at_least(TIER_LOW);
    let high = at_least(TIER_HIGH);
    IncomeFigures {
        organization_count: count,
        total,
        mean,
        median,
        count_at_least_50000: low,
        share_at_least_50000: Percent::of(low, count),
        count_at_least_100000: high,
        share_at_least_100000: Percent::of(high, count),
    }
}

/// `numerator / denominator` fen, rounded half away from zero.
fn half_up_div(numerator: i128, denominator: i128) -> Money {
    let quotient =
        Decimal::from_i128_with_scale(numerator, 0) / Decimal::from_i128_with_scale(denominator, 0);
    let fen = quotient
        .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero)
        .try_into()
        .unwrap_or(i64::MAX);
    Money::from_fen(fen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yuan(v: i64) -> Money {
        Money::from_fen(v * 100)
    }

    #[test]
    fn shares_round_half_up_to_two_places() {
        assert_eq!(Percent::of(113, 133).to_string(), "84.96");
        assert_eq!(Percent::of(133, 133).to_string(), "100.00");
        assert_eq!(Percent::of(1, 8).to_string(), "12.50");
        assert_eq!(Percent::of(1, 3).to_string(), "33.33");
        assert_eq!(Percent::of(2, 3).to_string(), "66.67");
        assert_eq!(Percent::of(0, 0).to_string(), "0.00");
    }

    #[test]
    fn tiers_count_at_or_above() {
        let f = income_figures(&[yuan(49_999), yuan(50_000), yuan(99_999), yuan(100_000)]);
        assert_eq!(f.count_at_least_50000, 3);
        assert_eq!(f.count_at_least_100000, 1);
        assert_eq!(f.share_at_least_50000.to_string(), "75.00");
        assert_eq!(f.total.to_string(), "299998.00");
    }

    #[test]
    fn mean_and_median_round_half_up_to_the_fen() {
        let f = income_figures(&[Money::from_fen(1), Money::from_fen(2)]);
        assert_eq!(f.mean, Some(Money::from_fen(2)), "1.5 fen rounds up");
        assert_eq!(f.median, Some(Money::from_fen(2)));
        let f = income_figures(&[yuan(3), yuan(1), yuan(2)]);
        assert_eq!(f.median, Some(yuan(2)));
        assert_eq!(f.mean, Some(yuan(2)));
        let empty = income_figures(&[]);
        assert_eq!(empty.mean, None);
        assert_eq!(empty.total, Money::ZERO);
    }
}
