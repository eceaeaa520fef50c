//! The sign-in policy (DESIGN.md section 3), counted in the database so that every instance
//! shares it:
//! - per mobile number, known or not, at most [`PASSWORD_GUESSES`] wrong passwords are checked
//!   before a lock; the slot is taken *before* the password is hashed, so concurrent guesses
//!   cannot overtake the count, and the lock runs 15 minutes from the last counted failure. A
//!   correct password forgives the failures before it (not the attempts still under way);
//! - per client address, sign-ins and refreshes are rate-limited (429 with `Retry-After`), so one
//!   address can neither probe many accounts nor keep them locked.

use actix_web::HttpRequest;
use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::error::ApiError;
use crate::throttle::{self, Limit};

/// Wrong passwords checked per mobile before it locks, and the lock's length.
pub const PASSWORD_GUESSES: Limit = Limit {
    max: 5,
    window: Duration::minutes(15),
};

/// Per-address limits, from the settings.
#[derive(Debug, Clone, Copy)]
pub struct AddressLimits {
    pub login: Limit,
    pub refresh: Limit,
    pub trust_proxy_headers: bool,
}

impl AddressLimits {
    /// The client's address: the peer, or, behind a trusted proxy, the *last* `X-Forwarded-For`
    /// entry — the one the proxy appended; the earlier ones are whatever the client sent. A value
    /// that is not an IP address is ignored.
    pub fn client_address(&self, req: &HttpRequest) -> String {
        if self.trust_proxy_headers
            && let Some(forwarded) = req
                .headers()
                .get_all("x-forwarded-for")
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .last()
            && let Ok(ip) = strip_port(forwarded.trim()).parse::<std::net::IpAddr>()
        {
            return ip.to_string();
        }
        req.peer_addr()
            .map(|addr| addr.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    }
}

fn strip_port(address: &str) -> &str {
    // `[::1]:443` or `203.0.113.7:5000` → the host; a bare IPv6 address has several colons.
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match address.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => address,
    }
}

/// Counts one request of `kind` (`login`, `refresh`) from `address`; 429 when over the limit.
pub async fn count_address(
    db: &impl ConnectionTrait,
    kind: &str,
    address: &str,
    limit: Limit,
) -> Result<(), ApiError> {
    match throttle::take(db, &format!("{kind}-addr:{address}"), limit).await? {
        Ok(()) => Ok(()),
        Err(full) => {
            tracing::warn!(
                security_event = "rate_limited",
                kind,
                client = address,
                "request rate limit reached"
            );
            Err(ApiError::RateLimited {
                retry_after_secs: full.retry_after_secs(),
            })
        }
    }
}

/// Counters of password guesses are keyed by this prefix and the mobile.
const MOBILE_KEY_PREFIX: &str = "login:";

pub fn mobile_key(mobile: &str) -> String {
    format!("{MOBILE_KEY_PREFIX}{mobile}")
}

/// Reserves one password check for `mobile`; 423 while the mobile is locked.
pub async fn reserve_guess(db: &impl ConnectionTrait, mobile: &str) -> Result<(), ApiError> {
    match throttle::take(db, &mobile_key(mobile), PASSWORD_GUESSES).await? {
        Ok(()) => Ok(()),
        Err(full) => Err(ApiError::AccountLocked { until: full.until }),
    }
}

/// The password was right: this check and the failures before it do not count.
pub async fn guess_was_right(db: &impl ConnectionTrait, mobile: &str) -> Result<(), ApiError> {
    throttle::succeed(db, &mobile_key(mobile)).await?;
    Ok(())
}

/// The password was wrong: the check stays counted. 401, or 423 once the guesses are used up
/// (the lock then runs from now).
pub async fn guess_was_wrong(
    db: &impl ConnectionTrait,
    mobile: &str,
    client: &str,
) -> Result<ApiError, ApiError> {
    let key = mobile_key(mobile);
    let masked = mask_mobile(mobile);
    tracing::warn!(security_event = "login_failed", mobile = %masked, client, "sign-in failed");
    throttle::miss(db, &key).await?;
    if throttle::hold_if_full(db, &key, PASSWORD_GUESSES).await? {
        tracing::warn!(security_event = "account_locked", mobile = %masked, client, "sign-in locked for 15 minutes");
        return Ok(ApiError::AccountLocked {
            until: crate::db::now() + PASSWORD_GUESSES.window,
        });
    }
    Ok(ApiError::InvalidCredentials)
}

/// Ends a lock (an admin reset the password).
pub async fn unlock(db: &impl ConnectionTrait, mobile: &str) -> Result<(), ApiError> {
    throttle::clear(db, &mobile_key(mobile)).await?;
    Ok(())
}

/// Until when each of these mobiles is locked, for those that are.
pub async fn locks(
    db: &impl ConnectionTrait,
    mobiles: impl IntoIterator<Item = String>,
) -> Result<Vec<(String, DateTime<Utc>)>, ApiError> {
    let keys = mobiles.into_iter().map(|m| mobile_key(&m)).collect();
    Ok(throttle::full_until(db, keys, PASSWORD_GUESSES)
        .await?
        .into_iter()
        .filter_map(|(key, until)| Some((key.strip_prefix(MOBILE_KEY_PREFIX)?.to_owned(), until)))
        .collect())
}

/// `138****0001`: enough to correlate log lines, not enough to harvest numbers.
fn mask_mobile(mobile: &str) -> String {
    let chars: Vec<char> = mobile.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ports() {
        assert_eq!(strip_port("203.0.113.7:5000"), "203.0.113.7");
        assert_eq!(strip_port("203.0.113.7"), "203.0.113.7");
        assert_eq!(strip_port("[::1]:443"), "::1");
        assert_eq!(strip_port("2001:db8::1"), "2001:db8::1");
    }

    #[test]
    fn masks_mobiles() {
        assert_eq!(mask_mobile("13800000001"), "138****0001");
        assert_eq!(mask_mobile("123"), "***");
    }
}
