//! What every request handler can reach: the database, the token keys, the document store.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

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
}
