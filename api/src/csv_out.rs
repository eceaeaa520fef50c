//! Writing CSV for spreadsheets. A text cell that begins with `=`, `+`, `-`, `@`, a tab or a
//! carriage return would be run as a formula by Excel or WPS (CSV injection), so it is written
//! with a leading `'` (OWASP's rule). The stored value stays literal; only the export changes.
//! Every text cell of every CSV the API writes goes through [`text_cell`]; figures the API
//! computes itself are written as they are.

use std::borrow::Cow;

use actix_web::HttpRequest;
use actix_web::http::header::ACCEPT;

/// The client asked for CSV (`Accept: text/csv`); JSON otherwise.
pub fn wanted(request: &HttpRequest) -> bool {
    request
        .headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.to_ascii_lowercase().contains("text/csv"))
}

pub fn text_cell(value: &str) -> Cow<'_, str> {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{value}")),
        _ => Cow::Borrowed(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralizes_formula_starts_only() {
        assert_eq!(text_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        for risky in ["+1+cmd", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert!(text_cell(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(text_cell("古绛镇"), "古绛镇");
        assert_eq!(text_cell("a=b"), "a=b");
        assert_eq!(text_cell(""), "");
    }
}
