//! Access tokens (JWT, HS256, 15 minutes) and opaque refresh tokens (30 days, stored hashed).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, Utc};
use entity::Role;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

pub const ACCESS_TOKEN_TTL: Duration = Duration::minutes(15);
pub const REFRESH_TOKEN_TTL: Duration = Duration::days(30);

/// What an access token says. The database stays the authority: every request re-reads the
/// session and user, so a revoked session or disabled user stops at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// User id.
    pub sub: Uuid,
    /// Session id.
    pub sid: Uuid,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank: Option<Uuid>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
        }
    }

    pub fn issue(&self, user: &entity::user::Model, session_id: Uuid) -> anyhow::Result<String> {
        let now = Utc::now();
        let claims = Claims {
            sub: user.id,
            sid: session_id,
            role: user.role,
            org: user.organization_id,
            bank: user.bank_id,
            iat: now.timestamp(),
            exp: (now + ACCESS_TOKEN_TTL).timestamp(),
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::ExpiredSignature => ApiError::TokenExpired,
                _ => ApiError::InvalidToken,
            })
    }
}

/// A fresh opaque refresh token: 32 random bytes, URL-safe base64.
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What the database keeps of a refresh token. SHA-256 suffices: the token is 256 random bits.
pub fn hash_refresh_token(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> entity::user::Model {
        let now = Utc::now();
        entity::user::Model {
            id: Uuid::now_v7(),
            mobile: "13800000000".into(),
            display_name: "t".into(),
            password_hash: String::new(),
            role: Role::Admin,
            organization_id: None,
            bank_id: None,
            branch_id: None,
            approval_limit: None,
            status: entity::UserStatus::Active,
            must_change_password: false,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn round_trip_and_rejections() {
        let keys = TokenKeys::new(&SecretString::from("k".repeat(32)));
        let sid = Uuid::now_v7();
        let token = keys.issue(&user(), sid).unwrap();
        assert_eq!(keys.verify(&token).unwrap().sid, sid);

        let other = TokenKeys::new(&SecretString::from("x".repeat(32)));
        assert!(matches!(other.verify(&token), Err(ApiError::InvalidToken)));
        assert!(matches!(
            keys.verify("garbage"),
            Err(ApiError::InvalidToken)
        ));
    }

    #[test]
    fn refresh_tokens_are_random_and_hashed() {
        let a = new_refresh_token();
        assert_ne!(a, new_refresh_token());
        assert_eq!(hash_refresh_token(&a).len(), 64);
        assert_eq!(hash_refresh_token(&a), hash_refresh_token(&a));
    }
}
