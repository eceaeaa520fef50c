//! Sessions and refresh-token rotation, as plain functions over the database.

use chrono::{DateTime, Utc};
use entity::{UserStatus, refresh_token, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

use super::tokens::{REFRESH_TOKEN_TTL, TokenKeys, hash_refresh_token, new_refresh_token};
use crate::db;
use crate::error::ApiError;

pub struct IssuedTokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Opens a session for a user who has just proved who they are.
pub async fn open(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    user: &user::Model,
) -> Result<IssuedTokens, ApiError> {
    let now = db::now();
    let session_id = Uuid::now_v7();
    let refresh_token = new_refresh_token();
    let txn = db.begin().await?;
    session::Entity::insert(session::ActiveModel {
        id: Set(session_id),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + REFRESH_TOKEN_TTL),
        revoked_at: Set(None),
    })
    .exec_without_returning(&txn)
    .await?;
    insert_refresh_token(&txn, session_id, &refresh_token, now).await?;
    txn.commit().await?;
    Ok(IssuedTokens {
        access_token: keys.issue(user, session_id)?,
        refresh_token,
    })
}

/// Exchanges a refresh token for a new pair. A token that was already exchanged is evidence of
/// theft: its whole session is revoked, for the thief and the owner alike.
pub async fn rotate(
    db: &DatabaseConnection,
    keys: &TokenKeys,
    presented: &str,
) -> Result<(IssuedTokens, user::Model), ApiError> {
    let now = db::now();
    let hash = hash_refresh_token(presented);
    let txn = db.begin().await?;
    // Claim the token first: only one of two racing refreshes can move it out of "unrotated".
    // Writing before reading also takes SQLite's write lock up front, so a racing transaction
    // waits for it instead of failing on a stale snapshot.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RotatedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
        .filter(refresh_token::Column::RotatedAt.is_null())
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    let Some(token) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&txn)
        .await?
    else {
        return Err(ApiError::InvalidRefreshToken);
    };
    if !claimed {
        revoke(&txn, token.session_id, now).await?;
        txn.commit().await?;
        tracing::warn!(session_id = %token.session_id, "rotated refresh token reused; session revoked");
        return Err(ApiError::InvalidRefreshToken);
    }
    let (session, user) = session::Entity::find_by_id(token.session_id)
        .find_also_related(user::Entity)
        .one(&txn)
        .await?
        .ok_or(ApiError::InvalidRefreshToken)?;
    let user = user.ok_or(ApiError::InvalidRefreshToken)?;
    if session.revoked_at.is_some() || session.expires_at <= now {
        return Err(ApiError::InvalidRefreshToken);
    }
    if user.status != UserStatus::Active {
        return Err(ApiError::AccountDisabled);
    }
    let refresh_token = new_refresh_token();
    insert_refresh_token(&txn, session.id, &refresh_token, now).await?;
    txn.commit().await?;
    let tokens = IssuedTokens {
        access_token: keys.issue(&user, session.id)?,
        refresh_token,
    };
    Ok((tokens, user))
}

async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    refresh_token::Entity::insert(refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(hash_refresh_token(token)),
        created_at: Set(now),
        rotated_at: Set(None),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn revoke(
    db: &impl ConnectionTrait,
    session_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(now))
        .filter(session::Column::Id.eq(session_id))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of a user except, optionally, the one making the request.
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    let mut update = session::Entity::update_many()
        .col_expr(session::Column::RevokedAt, Expr::value(db::now()))
        .filter(session::Column::UserId.eq(user_id))
        .filter(session::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        update = update.filter(session::Column::Id.ne(keep));
    }
    update.exec(db).await?;
    Ok(())
}
