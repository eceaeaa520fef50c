//! The first admin: `APP_ADMIN_MOBILE` with `APP_ADMIN_PASSWORD`, or a generated password printed
//! once (for that mobile, or for [`DEFAULT_ADMIN_MOBILE`] when no admin exists at all).

use entity::{Role, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use secrecy::SecretString;

use crate::auth::password;
use crate::config::Settings;
use crate::domain::{Mobile, NewPassword};
use crate::error::ApiError;
use crate::users::{self, Binding, NewUser};

/// Mobile of the generated admin when none is configured.
pub const DEFAULT_ADMIN_MOBILE: &str = "19900000000";

pub async fn ensure_admin(db: &DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    let mobile = match &settings.admin_mobile {
        Some(mobile) => Mobile::parse(mobile)
            .map_err(|_| anyhow::anyhow!("APP_ADMIN_MOBILE is not a valid mobile number"))?,
        None if settings.admin_password.is_some() => {
            anyhow::bail!("APP_ADMIN_PASSWORD is set but APP_ADMIN_MOBILE is not")
        }
        None => {
            let admins = user::Entity::find()
                .filter(user::Column::Role.eq(Role::Admin))
                .count(db)
                .await?;
            if admins > 0 {
                return Ok(());
            }
            Mobile::parse(DEFAULT_ADMIN_MOBILE)
                .map_err(|_| anyhow::anyhow!("default admin mobile invalid"))?
        }
    };
    let exists = user::Entity::find()
        .filter(user::Column::Mobile.eq(mobile.as_str()))
        .count(db)
        .await?
        > 0;
    if exists {
        return Ok(());
    }
    match &settings.admin_password {
        Some(secret) => {
            let password = NewPassword::parse(secret).map_err(|_| {
                anyhow::anyhow!(
                    "APP_ADMIN_PASSWORD is too weak: 8-128 characters with a letter and a digit"
                )
            })?;
            if create(db, mobile, password.secret().clone(), false).await? {
                tracing::info!("created the configured admin");
            }
        }
        None => {
            let generated = password::generate();
            let shown = mobile.as_str().to_owned();
            if create(db, mobile, SecretString::from(generated.clone()), true).await? {
                // Printed, not logged: log collectors must never see it.
                println!(
                    "Created admin {shown} with one-time password {generated} \
                     (change it at first sign-in: POST /api/v1/me/password)"
                );
            }
        }
    }
    Ok(())
}

/// Creates an admin; false when another instance created the same one first.
async fn create(
    db: &DatabaseConnection,
    mobile: Mobile,
    secret: SecretString,
    must_change_password: bool,
) -> anyhow::Result<bool> {
    let password_hash = password::hash(secret).await?;
    let new = NewUser {
        mobile,
        display_name: "Administrator".into(),
        role: Role::Admin,
        binding: Binding::default(),
        password_hash,
        must_change_password,
    };
    match users::ops::register(db, None, new).await {
        Ok(_) => Ok(true),
        Err(ApiError::Conflict(_)) => Ok(false),
        Err(err) => Err(anyhow::anyhow!("cannot create admin: {err}")),
    }
}
