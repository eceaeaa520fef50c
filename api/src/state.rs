//! What every request handler can reach: the database, the token keys, the document store.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::guard::AddressLimits;
use crate::auth::tokens::TokenKeys;
use crate::storage::Store;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub tokens: TokenKeys,
    /// Verified against when a mobile is unknown; see `auth::password::dummy_hash`.
    pub dummy_hash: Arc<str>,
    /// Document bytes.
    pub store: Store,
    /// How long a client may take to send a request body.
    pub body_timeout: std::time::Duration,
    /// Sign-in and refresh limits per client address.
    pub limits: AddressLimits,
}
