//! Exact money: CNY with two decimal places, stored as integer fen.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::DeriveValueType;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of CNY, exact to the fen (0.01).
///
/// Stored as `BIGINT` fen because a sea-orm `Decimal` column is a float on SQLite.
/// In JSON it is a decimal string with two places, e.g. `"12345.67"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, DeriveValueType)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("not a decimal number")]
    NotDecimal,
    #[error("more than two decimal places")]
    TooPrecise,
    #[error("out of range")]
    OutOfRange,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub const fn from_fen(fen: i64) -> Self {
        Money(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// Exact conversion: refuses anything finer than a fen instead of rounding it away.
    pub fn from_decimal(value: Decimal) -> Result<Self, MoneyError> {
        let fen = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .ok_or(MoneyError::OutOfRange)?;
        if fen.fract() != Decimal::ZERO {
            return Err(MoneyError::TooPrecise);
        }
        i64::try_from(fen)
            .map(Money)
            .map_err(|_| MoneyError::OutOfRange)
    }

    pub fn to_decimal(self) -> Decimal {
        Decimal::new(self.0, 2)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::from_decimal(parse_plain_decimal(s)?)
    }
}

/// Plain decimal notation only: no exponent, no thousands separators, no sign games.
pub(crate) fn parse_plain_decimal(s: &str) -> Result<Decimal, MoneyError> {
    let trimmed = s.trim();
    let valid = !trimmed.is_empty()
        && trimmed
            .trim_start_matches('-')
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.')
        && trimmed.matches('.').count() <= 1;
    if !valid {
        return Err(MoneyError::NotDecimal);
    }
    Decimal::from_str_exact(trimmed).map_err(|e| match e {
        rust_decimal::Error::ExceedsMaximumPossibleValue
        | rust_decimal::Error::LessThanMinimumPossibleValue => MoneyError::OutOfRange,
        _ => MoneyError::NotDecimal,
    })
}

/// `value × 10^scale` as an integer, refusing anything finer than the scale.
pub(crate) fn to_scaled(value: Decimal, scale: u32) -> Result<i64, MoneyError> {
    let scaled = value
        .checked_mul(Decimal::from(10i64.pow(scale)))
        .ok_or(MoneyError::OutOfRange)?;
    if scaled.fract() != Decimal::ZERO {
        return Err(MoneyError::TooPrecise);
    }
    i64::try_from(scaled).map_err(|_| MoneyError::OutOfRange)
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_decimal())
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(|e: MoneyError| {
            serde::de::Error::custom(format_args!("invalid amount {text:?}: {e}"))
        })
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(r"^-?\d+(\.\d{1,2})?$"))
            .description(Some(
                "Amount in CNY as a decimal string with at most two places",
            ))
            .examples([serde_json::json!("12345.67")])
            .into()
    }
}

impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_two_places() {
        let m: Money = "0.1".parse().unwrap();
        assert_eq!(m.fen(), 10);
        assert_eq!(m.to_string(), "0.10");
        assert_eq!("12345.67".parse::<Money>().unwrap().to_string(), "12345.67");
        assert_eq!("5".parse::<Money>().unwrap().to_string(), "5.00");
    }

    #[test]
    fn largest_demo_amount_is_exact() {
        let m: Money = "9999999999999999.99".parse().unwrap();
        assert_eq!(m.fen(), 999_999_999_999_999_999);
        assert_eq!(m.to_string(), "9999999999999999.99");
    }

    #[test]
    fn refuses_what_is_not_exact() {
        assert_eq!("1.234".parse::<Money>(), Err(MoneyError::TooPrecise));
        assert_eq!("1e5".parse::<Money>(), Err(MoneyError::NotDecimal));
        assert_eq!("abc".parse::<Money>(), Err(MoneyError::NotDecimal));
        assert_eq!("".parse::<Money>(), Err(MoneyError::NotDecimal));
        assert_eq!("1,000".parse::<Money>(), Err(MoneyError::NotDecimal));
        assert_eq!(
            "99999999999999999999".parse::<Money>(),
            Err(MoneyError::OutOfRange)
        );
    }

    #[test]
    fn json_is_a_string() {
        let m: Money = serde_json::from_str("\"0.20\"").unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), "\"0.20\"");
        assert!(serde_json::from_str::<Money>("0.2").is_err());
    }
}
