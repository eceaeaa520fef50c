use sea_orm::entity::prelude::*;

use std::fmt;
use std::str::FromStr;

use crate::{LoanPurpose, Money, ProductStatus, Rate, RepaymentMethod};

/// A bank's loan product.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "loan_products")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub bank_id: Uuid,
    pub name: String,
    pub amount_min: Money,
    pub amount_max: Money,
    pub term_min: i32,
    pub term_max: i32,
    pub annual_rate: Rate,
    /// In the bank's order of preference.
    pub repayment_methods: RepaymentMethods,
    pub purposes: LoanPurposes,
    pub status: ProductStatus,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A list stored as one JSON array in a text column, parsed once when the row is read: a row
/// that does not parse fails the read loudly instead of becoming an empty list.
macro_rules! json_list {
    ($(#[$meta:meta])* $name:ident, $item:ty) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, Eq, DeriveValueType)]
        #[sea_orm(value_type = "String")]
        pub struct $name(pub Vec<$item>);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let text = serde_json::to_string(&self.0).map_err(|_| fmt::Error)?;
                f.write_str(&text)
            }
        }

        impl FromStr for $name {
            type Err = sea_orm::sea_query::ValueTypeErr;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                serde_json::from_str(s)
                    .map($name)
                    .map_err(|_| sea_orm::sea_query::ValueTypeErr)
            }
        }

        impl std::ops::Deref for $name {
            type Target = Vec<$item>;

            fn deref(&self) -> &Vec<$item> {
                &self.0
            }
        }
    };
}

json_list!(
    /// A product's repayment methods.
    RepaymentMethods,
    RepaymentMethod
);
json_list!(
    /// The purposes a product lends for.
    LoanPurposes,
    LoanPurpose
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_round_trip_and_refuse_garbage() {
        let methods = RepaymentMethods(vec![
            RepaymentMethod::Annuity,
            RepaymentMethod::InterestOnly,
        ]);
        let text = methods.to_string();
        assert_eq!(text, r#"["annuity","interest_only"]"#);
        assert_eq!(text.parse::<RepaymentMethods>().unwrap(), methods);
        assert!("not json".parse::<RepaymentMethods>().is_err());
        assert!(r#"["teleport"]"#.parse::<LoanPurposes>().is_err());
    }
}
