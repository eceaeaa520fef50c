//! Typed domain values shared by several features. Each parses once at the edge and is valid
//! from then on; the error is a field code from `i18n::field_message`.

use entity::RegionLevel;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

pub type FieldCode = &'static str;

/// A mainland China mobile number: 11 digits, `1` then `3`–`9`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mobile(String);

impl Mobile {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let digits = raw.trim();
        let valid = digits.len() == 11
            && digits.bytes().all(|b| b.is_ascii_digit())
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        if valid {
            Ok(Mobile(digits.to_owned()))
        } else {
            Err("invalid_mobile")
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A name shown to people: trimmed, not blank, at most `max` characters.
pub fn parse_name(raw: &str, max: usize) -> Result<String, FieldCode> {
    let name = raw.trim();
    if name.is_empty() {
        Err("blank")
    } else if name.chars().count() > max {
        Err("too_long")
    } else {
        Ok(name.to_owned())
    }
}

/// A password good enough to set: 8–128 characters with at least one letter and one digit.
pub struct NewPassword(SecretString);

impl NewPassword {
    pub fn parse(raw: &SecretString) -> Result<Self, FieldCode> {
        let text = raw.expose_secret();
        let length = text.chars().count();
        let strong = (8..=128).contains(&length)
            && text.chars().any(char::is_alphabetic)
            && text.chars().any(|c| c.is_ascii_digit());
        if strong {
            Ok(NewPassword(raw.clone()))
        } else {
            Err("weak_password")
        }
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// A 12-digit administrative division code: 2 province, 2 city, 2 county, 3 township, 3 village
/// digits. The level is the last non-zero segment; every segment before it is non-zero.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RegionCode(String);

/// Where each level's segment ends in the code.
const SEGMENT_ENDS: [(RegionLevel, usize); 5] = [
    (RegionLevel::Province, 2),
    (RegionLevel::City, 4),
    (RegionLevel::County, 6),
    (RegionLevel::Township, 9),
    (RegionLevel::Village, 12),
];

impl RegionCode {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let code = raw.trim();
        if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err("invalid_region_code");
        }
        let mut start = 0;
        let mut seen_zero = false;
        for (_, end) in SEGMENT_ENDS {
            let zero = code[start..end].bytes().all(|b| b == b'0');
            if zero {
                seen_zero = true;
            } else if seen_zero {
                return Err("invalid_region_code");
            }
            start = end;
        }
        if code[..2] == *"00" {
            return Err("invalid_region_code");
        }
        Ok(RegionCode(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Digits that name this region; the rest are zeros.
    fn significant_len(&self) -> usize {
        let mut len = 2;
        let mut start = 0;
        for (_, end) in SEGMENT_ENDS {
            if self.0[start..end].bytes().any(|b| b != b'0') {
                len = end;
            }
            start = end;
        }
        len
    }

    pub fn level(&self) -> RegionLevel {
        let len = self.significant_len();
        SEGMENT_ENDS
            .iter()
            .find(|(_, end)| *end == len)
            .map(|(level, _)| *level)
            .unwrap_or(RegionLevel::Province)
    }

    /// The code of the region directly above, if any.
    pub fn parent(&self) -> Option<RegionCode> {
        let len = self.significant_len();
        let parent_end = SEGMENT_ENDS
            .iter()
            .map(|(_, end)| *end)
            .take_while(|end| *end < len)
            .last()?;
        Some(RegionCode(format!("{:0<12}", &self.0[..parent_end])))
    }

    /// The township a village or township belongs to.
    pub fn township(&self) -> Option<RegionCode> {
        (self.level() >= RegionLevel::Township)
            .then(|| RegionCode(format!("{:0<12}", &self.0[..9])))
    }

    /// Inclusive bounds of every code in this region's subtree (itself included), for
    /// `code BETWEEN low AND high` on an ordinary index.
    pub fn subtree_bounds(&self) -> (String, String) {
        let prefix = &self.0[..self.significant_len()];
        (format!("{prefix:0<12}"), format!("{prefix:9<12}"))
    }

    /// How many leading digits name the regions one level below this one (a village: its own).
    pub fn child_prefix_len(&self) -> usize {
        let len = self.significant_len();
        SEGMENT_ENDS
            .iter()
            .map(|(_, end)| *end)
            .find(|end| *end > len)
            .unwrap_or(12)
    }

    /// True when `other` is this region or lies beneath it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(&self.0[..self.significant_len()])
    }
}

impl std::fmt::Display for RegionCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A unified social credit code (统一社会信用代码), GB 32100-2015: 18 characters from the
/// 31-character set, the last one a check character over the first 17.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Uscc(String);

const USCC_CHARSET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl Uscc {
    pub fn parse(raw: &str) -> Result<Self, FieldCode> {
        let code = raw.trim().to_ascii_uppercase();
        let values: Option<Vec<u32>> = code
            .bytes()
            .map(|b| USCC_CHARSET.iter().position(|c| *c == b).map(|p| p as u32))
            .collect();
        let Some(values) = values.filter(|v| v.len() == 18) else {
            return Err("invalid_uscc");
        };
        if Some(values[17]) != Self::check_value(&values[..17]) {
            return Err("uscc_check_failed");
        }
        Ok(Uscc(code))
    }

    /// The check character for the first 17 characters of a code.
    pub fn check_character(body: &str) -> Option<char> {
        let values: Option<Vec<u32>> = body
            .bytes()
            .map(|b| USCC_CHARSET.iter().position(|c| *c == b).map(|p| p as u32))
            .collect();
        let value = Self::check_value(&values?)?;
        Some(USCC_CHARSET[value as usize] as char)
    }

    fn check_value(values: &[u32]) -> Option<u32> {
        if values.len() != 17 {
            return None;
        }
        let sum: u32 = values.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        Some((31 - sum % 31) % 31)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobiles() {
        assert!(Mobile::parse("13800138000").is_ok());
        assert!(Mobile::parse(" 19912345678 ").is_ok());
        for bad in [
            "12800138000",
            "1380013800",
            "138001380001",
            "1380013800a",
            "+8613800138000",
            "",
        ] {
            assert_eq!(Mobile::parse(bad), Err("invalid_mobile"), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        let ok = |s: &str| NewPassword::parse(&SecretString::from(s.to_owned())).is_ok();
        assert!(ok("abcdefg1"));
        assert!(ok("密码密码密码12"));
        assert!(!ok("abcdefgh"));
        assert!(!ok("12345678"));
        assert!(!ok("abc1"));
        assert!(!ok(&"a1".repeat(65)));
    }

    #[test]
    fn names() {
        assert_eq!(parse_name("  张三 ", 64), Ok("张三".to_owned()));
        assert_eq!(parse_name("   ", 64), Err("blank"));
        assert_eq!(parse_name(&"长".repeat(65), 64), Err("too_long"));
    }

    #[test]
    fn region_codes_know_their_level_parent_and_subtree() {
        let village = RegionCode::parse("140826100201").unwrap();
        assert_eq!(village.level(), RegionLevel::Village);
        assert_eq!(village.parent().unwrap().as_str(), "140826100000");
        assert_eq!(village.township().unwrap().as_str(), "140826100000");
        let county = RegionCode::parse("140826000000").unwrap();
        assert_eq!(county.level(), RegionLevel::County);
        assert_eq!(county.parent().unwrap().as_str(), "140800000000");
        assert_eq!(
            county.subtree_bounds(),
            ("140826000000".into(), "140826999999".into())
        );
        assert!(county.contains(&village));
        assert!(!village.contains(&county));
        let province = RegionCode::parse("140000000000").unwrap();
        assert_eq!(province.level(), RegionLevel::Province);
        assert!(province.parent().is_none());
        assert!(province.township().is_none());
        for bad in [
            "14082610020",
            "1408261002011",
            "14082610020a",
            "000000000000",
            "140026000001",
            "140826000201",
        ] {
            assert_eq!(RegionCode::parse(bad), Err("invalid_region_code"), "{bad}");
        }
    }

    #[test]
    fn uscc_check_character() {
        // Published example codes with valid check characters.
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        assert!(Uscc::parse("91110000600037341L").is_ok());
        assert_eq!(Uscc::parse("91350100M000100Y44"), Err("uscc_check_failed"));
        assert_eq!(Uscc::parse("91350100M000100Y4"), Err("invalid_uscc"));
        assert_eq!(
            Uscc::parse("91350100M000100YI3"),
            Err("invalid_uscc"),
            "I is not in the set"
        );
        assert_eq!(Uscc::check_character("91350100M000100Y4"), Some('3'));
        assert_eq!(
            Uscc::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }
}
