//! What each kind of asset must and may carry, as plain functions.

use chrono::NaiveDate;
use entity::AssetKind::{self, *};
use entity::Quantity;

use crate::error::FieldError;

/// Units an asset of this kind may be counted in.
pub fn units(kind: AssetKind) -> &'static [&'static str] {
    match kind {
        LandManagementRight => &["亩", "公顷", "㎡"],
        ForestRight => &["亩", "公顷"],
        ConstructionLandUseRight => &["㎡", "亩"],
        ProductionFacility => &["座", "栋", "个", "㎡", "亩"],
        Machinery => &["台", "套", "辆"],
        Building => &["㎡", "座", "栋"],
        Livestock => &["头", "只", "羽", "匹"],
        Equity => &["%", "股"],
    }
}

/// Rights granted for a term (land, forest, construction land): they need start and end dates.
pub fn is_term_limited(kind: AssetKind) -> bool {
    matches!(
        kind,
        LandManagementRight | ForestRight | ConstructionLandUseRight
    )
}

/// Facilities and livestock may be pledged without a title certificate (2025 notice on
/// agricultural facility and livestock mortgages); everything else needs one.
pub fn needs_certificate(kind: AssetKind) -> bool {
    !matches!(kind, ProductionFacility | Livestock)
}

/// The kind-dependent fields of an asset, as they would be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindFields {
    pub quantity: Quantity,
    pub unit: String,
    pub certificate_no: Option<String>,
    pub head_count: Option<i32>,
    pub ear_tags: Option<Vec<String>>,
    pub right_start: Option<NaiveDate>,
    pub right_end: Option<NaiveDate>,
    pub has_shareholding: bool,
}

/// Everything wrong with these fields for this kind.
pub fn check_kind(kind: AssetKind, f: &KindFields) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut push = |field: &str, code: &'static str| errors.push(FieldError::new(field, code));
    if f.quantity.scaled() <= 0 {
        push("quantity", "out_of_range");
    }
    if !units(kind).contains(&f.unit.as_str()) {
        push("unit", "unit_not_allowed_for_kind");
    }
    match &f.certificate_no {
        None if needs_certificate(kind) => push("certificate_no", "required_for_kind"),
        Some(no) if no.trim().is_empty() || no.chars().count() > 64 => {
            push("certificate_no", "invalid_value")
        }
        _ => {}
    }
    if is_term_limited(kind) {
        if f.right_start.is_none() {
            push("right_start", "required_for_kind");
        }
        if f.right_end.is_none() {
            push("right_end", "required_for_kind");
        }
    }
    if let (Some(start), Some(end)) = (f.right_start, f.right_end)
        && end <= start
    {
        push("right_end", "not_after_start");
    }
    if kind == Livestock {
        match f.head_count {
            None => push("head_count", "required_for_kind"),
            Some(n) if n <= 0 => push("head_count", "out_of_range"),
            _ => {}
        }
        if let Some(tags) = &f.ear_tags {
            let mut seen = std::collections::HashSet::new();
            for (i, tag) in tags.iter().enumerate() {
                let tag = tag.trim();
                if tag.is_empty() || tag.chars().count() > 32 || !seen.insert(tag) {
                    push(&format!("ear_tags[{i}]"), "invalid_value");
                }
            }
        }
    } else {
        if f.head_count.is_some() {
            push("head_count", "not_allowed_for_kind");
        }
        if f.ear_tags.is_some() {
            push("ear_tags", "not_allowed_for_kind");
        }
    }
    match (kind == Equity, f.has_shareholding) {
        (true, false) => push("shareholding_id", "required_for_kind"),
        (false, true) => push("shareholding_id", "not_allowed_for_kind"),
        _ => {}
    }
    errors
}

/// Whether an edit touches what the county verified: certificate, dates or quantity.
pub fn needs_reverification(before: &KindFields, after: &KindFields) -> bool {
    before.certificate_no != after.certificate_no
        || before.right_start != after.right_start
        || before.right_end != after.right_end
        || before.quantity != after.quantity
}

#[cfg(test)]
mod tests {
    use super::*;

    fn land() -> KindFields {
        KindFields {
            quantity: "50".parse().unwrap(),
            unit: "亩".into(),
            certificate_no: Some("晋(2021)绛县农村土地经营权第0001号".into()),
            head_count: None,
            ear_tags: None,
            right_start: NaiveDate::from_ymd_opt(2021, 1, 1),
            right_end: NaiveDate::from_ymd_opt(2035, 12, 31),
            has_shareholding: false,
        }
    }

    fn codes(errors: Vec<FieldError>) -> Vec<(String, &'static str)> {
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn a_land_right_needs_a_certificate_and_a_term() {
        assert!(check_kind(LandManagementRight, &land()).is_empty());
        let mut bare = land();
        bare.certificate_no = None;
        bare.right_start = None;
        bare.unit = "台".into();
        assert_eq!(
            codes(check_kind(LandManagementRight, &bare)),
            vec![
                ("unit".into(), "unit_not_allowed_for_kind"),
                ("certificate_no".into(), "required_for_kind"),
                ("right_start".into(), "required_for_kind"),
            ]
        );
        let mut backwards = land();
        backwards.right_end = NaiveDate::from_ymd_opt(2020, 1, 1);
        assert_eq!(
            codes(check_kind(LandManagementRight, &backwards)),
            vec![("right_end".into(), "not_after_start")]
        );
    }

    #[test]
    fn facilities_and_livestock_go_without_certificates() {
        let facility = KindFields {
            unit: "座".into(),
            certificate_no: None,
            right_start: None,
            right_end: None,
            ..land()
        };
        assert!(check_kind(ProductionFacility, &facility).is_empty());
        let herd = KindFields {
            unit: "头".into(),
            head_count: Some(120),
            ear_tags: Some(vec!["A001".into(), "A002".into()]),
            ..facility.clone()
        };
        assert!(check_kind(Livestock, &herd).is_empty());
        let duplicate_tags = KindFields {
            ear_tags: Some(vec!["A001".into(), "A001".into()]),
            ..herd.clone()
        };
        assert_eq!(
            codes(check_kind(Livestock, &duplicate_tags)),
            vec![("ear_tags[1]".into(), "invalid_value")]
        );
        assert_eq!(
            codes(check_kind(ProductionFacility, &herd)),
            vec![
                ("unit".into(), "unit_not_allowed_for_kind"),
                ("head_count".into(), "not_allowed_for_kind"),
                ("ear_tags".into(), "not_allowed_for_kind"),
            ]
        );
    }

    #[test]
    fn equity_refers_to_a_shareholding() {
        let share = KindFields {
            unit: "%".into(),
            right_start: None,
            right_end: None,
            ..land()
        };
        assert_eq!(
            codes(check_kind(Equity, &share)),
            vec![("shareholding_id".into(), "required_for_kind")]
        );
        let registered = KindFields {
            has_shareholding: true,
            ..share
        };
        assert!(check_kind(Equity, &registered).is_empty());
    }

    #[test]
    fn only_certificate_dates_and_quantity_send_back_to_pending() {
        let before = land();
        let mut renamed = land();
        renamed.unit = "公顷".into();
        assert!(!needs_reverification(&before, &renamed));
        let mut bigger = land();
        bigger.quantity = "51".parse().unwrap();
        assert!(needs_reverification(&before, &bigger));
    }
}
