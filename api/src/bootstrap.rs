//! The first admin: from `APP_ADMIN_MOBILE`/`APP_ADMIN_PASSWORD`, or generated and printed once.

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
    match (&settings.admin_mobile, &settings.admin_password) {
        (Some(mobile), Some(secret)) => {
            let mobile = Mobile::parse(mobile)
                .map_err(|_| anyhow::anyhow!("APP_ADMIN_MOBILE is not a valid mobile number"))?;
            let password = NewPassword::parse(secret).map_err(|_| {
                anyhow::anyhow!(
                    "APP_ADMIN_PASSWORD is too weak: 8-128 characters with a letter and a digit"
                )
            })?;
            let exists = user::Entity::find()
                .filter(user::Column::Mobile.eq(mobile.as_str()))
                .count(db)
                .await?
                > 0;
            if !exists {
                create(db, mobile, password.secret().clone()).await?;
                tracing::info!("created the configured admin");
            }
        }
        (None, None) => {
            let admins = user::Entity::find()
                .filter(user::Column::Role.eq(Role::Admin))
                .count(db)
                .await?;
            if admins == 0 {
                let generated = password::generate();
                let mobile = Mobile::parse(DEFAULT_ADMIN_MOBILE)
                    .map_err(|_| anyhow::anyhow!("default admin mobile invalid"))?;
                if create(db, mobile, SecretString::from(generated.clone())).await? {
                    // Printed, not logged: log collectors must never see it.
                    println!(
                        "Created admin {DEFAULT_ADMIN_MOBILE} with password {generated} \
                         (shown once; change it with POST /api/v1/me/password)"
                    );
                }
            }
        }
        _ => anyhow::bail!("set both APP_ADMIN_MOBILE and APP_ADMIN_PASSWORD, or neither"),
    }
    Ok(())
}

/// Creates an admin; false when another instance created the same one first.
async fn create(
    db: &DatabaseConnection,
    mobile: Mobile,
    secret: SecretString,
) -> anyhow::Result<bool> {
    let password_hash = password::hash(secret).await?;
    let new = NewUser {
        mobile,
        display_name: "Administrator".into(),
        role: Role::Admin,
        binding: Binding::default(),
        password_hash,
    };
    match users::insert(db, new).await {
        Ok(_) => Ok(true),
        Err(ApiError::Conflict(_)) => Ok(false),
        Err(err) => Err(anyhow::anyhow!("cannot create admin: {err}")),
    }
}
