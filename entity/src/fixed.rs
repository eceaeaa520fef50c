//! Other exact decimals, stored as scaled integers like [`crate::Money`]:
//! quantities (hundredths of a unit), percentages (basis points, hundredths of a percent),
//! annual rates (percent at scale 4: 4.35 % is 43500) and ratios such as loan-to-value caps
//! (scale 4: 0.7 is 7000).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sea_orm::DeriveValueType;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::money::{MoneyError, parse_plain_decimal, to_scaled};

macro_rules! scaled_decimal {
    ($name:ident, $inner:ty, $scale:expr, $pattern:expr, $example:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, DeriveValueType)]
        pub struct $name($inner);

        impl $name {
            pub const SCALE: u32 = $scale;

            pub const fn from_scaled(value: $inner) -> Self {
                $name(value)
            }

            pub const fn scaled(self) -> $inner {
                self.0
            }

            pub fn to_decimal(self) -> Decimal {
                Decimal::new(i64::from(self.0), $scale)
            }
        }

        impl FromStr for $name {
            type Err = MoneyError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let scaled = to_scaled(parse_plain_decimal(s)?, $scale)?;
                <$inner>::try_from(scaled)
                    .map($name)
                    .map_err(|_| MoneyError::OutOfRange)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.to_decimal())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(|e: MoneyError| {
                    serde::de::Error::custom(format_args!("invalid decimal {text:?}: {e}"))
                })
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($doc))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

scaled_decimal!(
    Quantity,
    i64,
    2,
    r"^\d+(\.\d{1,2})?$",
    "50.00",
    "A quantity of the asset's unit as a decimal string with at most two places"
);

scaled_decimal!(
    Percentage,
    i32,
    2,
    r"^\d{1,3}(\.\d{1,2})?$",
    "30.00",
    "A percentage as a decimal string with at most two places"
);

scaled_decimal!(
    Rate,
    i32,
    4,
    r"^\d{1,3}(\.\d{1,4})?$",
    "4.35",
    "An annual interest rate in percent as a decimal string with at most four places"
);

scaled_decimal!(
    Ratio,
    i32,
    4,
    r"^[01](\.\d{1,4})?$",
    "0.70",
    "A ratio between 0 and 1 as a decimal string with at most four places"
);

impl Ratio {
    pub const ONE: Ratio = Ratio(10_000);
}

impl Percentage {
    pub const HUNDRED: Percentage = Percentage(10_000);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_and_percentages_are_exact() {
        assert_eq!("50.5".parse::<Quantity>().unwrap().scaled(), 5050);
        assert_eq!("50.5".parse::<Quantity>().unwrap().to_string(), "50.50");
        assert_eq!("30".parse::<Percentage>().unwrap().scaled(), 3000);
        assert_eq!("12.345".parse::<Percentage>(), Err(MoneyError::TooPrecise));
        assert_eq!(Percentage::HUNDRED.to_string(), "100.00");
        assert!(serde_json::from_str::<Quantity>("5").is_err());
    }
}
