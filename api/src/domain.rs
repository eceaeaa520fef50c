//! Typed domain values shared by several features. Each parses once at the edge and is valid
//! from then on; the error is a field code from `i18n::field_message`.

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
}
