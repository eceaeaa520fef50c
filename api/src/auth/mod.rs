//! Sign-in, sessions and who is calling: `Caller` for any signed-in user, `Authorized<P>` for a
//! caller whose role the permission matrix allows to do `P`.

pub mod guard;
pub mod password;
pub mod permissions;
mod routes;
pub mod sessions;
pub mod tokens;

use std::marker::PhantomData;
use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use chrono::Utc;
use entity::{Role, UserStatus, session, user};
use futures_util::future::LocalBoxFuture;
use sea_orm::EntityTrait;
use uuid::Uuid;

pub use routes::{LoginResponse, routes};

use crate::error::ApiError;
use crate::middleware::SignedIn;
use crate::state::AppState;
use permissions::{Action, Permission, permits};

/// Whom a caller acts for (DESIGN.md section 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tenant {
    /// The county bureau (admins): everything, read and write.
    County,
    /// Read-only oversight of everything.
    Supervisor,
    /// A village operator: its own organization's objects.
    Organization(Uuid),
    /// Bank staff: what reaches their bank.
    Bank(Uuid),
    /// A user whose binding is missing: sees nothing.
    Unbound,
}

/// The condition that matches no row: what a caller who may see nothing of a table gets.
pub fn sees_nothing() -> sea_orm::Condition {
    sea_orm::Condition::all().add(sea_orm::sea_query::Expr::cust("1 = 0"))
}

/// The signed-in user of this request, re-read from the database on every request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: user::Model,
    pub session_id: Uuid,
}

impl Caller {
    pub fn id(&self) -> Uuid {
        self.user.id
    }

    pub fn role(&self) -> Role {
        self.user.role
    }

    /// Whom the caller acts for, from its role and binding: computed here once, mapped by each
    /// feature to its own condition.
    pub fn tenant(&self) -> Tenant {
        match (self.role(), self.user.organization_id, self.user.bank_id) {
            (Role::Admin, _, _) => Tenant::County,
            (Role::Supervisor, _, _) => Tenant::Supervisor,
            (Role::OrgOperator, Some(organization), _) => Tenant::Organization(organization),
            (Role::BankOfficer | Role::BankApprover, _, Some(bank)) => Tenant::Bank(bank),
            _ => Tenant::Unbound,
        }
    }

    /// A user acting outside any request (the demo loader, background jobs): the operations take
    /// the same `Caller` as handlers, with no session behind it.
    pub fn acting_as(user: user::Model) -> Caller {
        Caller {
            user,
            session_id: Uuid::nil(),
        }
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let req = req.clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| anyhow::anyhow!("application state missing"))?;
            let claims = state.tokens.verify(&token?)?;
            let (session, user) = session::Entity::find_by_id(claims.sid)
                .find_also_related(user::Entity)
                .one(&state.db)
                .await?
                .ok_or(ApiError::SessionRevoked)?;
            let user = user.ok_or(ApiError::SessionRevoked)?;
            if session.revoked_at.is_some()
                || session.expires_at <= Utc::now()
                || user.id != claims.sub
                || user.status != UserStatus::Active
            {
                return Err(ApiError::SessionRevoked);
            }
            req.extensions_mut().insert(SignedIn(user.id));
            Ok(Caller {
                user,
                session_id: session.id,
            })
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthenticated)?
        .to_str()
        .map_err(|_| ApiError::InvalidToken)?;
    let (scheme, token) = header.split_once(' ').ok_or(ApiError::InvalidToken)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::InvalidToken);
    }
    Ok(token.trim().to_owned())
}

/// A caller whose role may do `P` (see [`permissions`]); 403 `forbidden` otherwise.
pub struct Authorized<P: Permission> {
    caller: Caller,
    _permission: PhantomData<P>,
}

impl<P: Permission> Deref for Authorized<P> {
    type Target = Caller;

    fn deref(&self) -> &Caller {
        &self.caller
    }
}

impl<P: Permission + 'static> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        Box::pin(async move {
            let caller = caller.await?;
            if caller.user.must_change_password && P::ACTION != Action::UseOwnAccount {
                return Err(ApiError::PasswordChangeRequired);
            }
            if !permits(caller.role(), P::ACTION) {
                tracing::warn!(
                    security_event = "permission_denied",
                    user_id = %caller.id(),
                    role = caller.role().as_str(),
                    action = ?P::ACTION,
                    "role may not do this"
                );
                return Err(ApiError::Forbidden);
            }
            Ok(Authorized {
                caller,
                _permission: PhantomData,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, organization_id: Option<Uuid>, bank_id: Option<Uuid>) -> Caller {
        let now = Utc::now();
        Caller::acting_as(user::Model {
            id: Uuid::now_v7(),
            mobile: "13800000000".into(),
            display_name: "t".into(),
            password_hash: String::new(),
            role,
            organization_id,
            bank_id,
            branch_id: None,
            approval_limit: None,
            status: UserStatus::Active,
            must_change_password: false,
            version: 1,
            created_at: now,
            updated_at: now,
        })
    }

    #[test]
    fn tenant_follows_role_and_binding() {
        let (org, bank) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(caller(Role::Admin, None, None).tenant(), Tenant::County);
        assert_eq!(
            caller(Role::Supervisor, None, None).tenant(),
            Tenant::Supervisor
        );
        assert_eq!(
            caller(Role::OrgOperator, Some(org), None).tenant(),
            Tenant::Organization(org)
        );
        assert_eq!(
            caller(Role::BankApprover, None, Some(bank)).tenant(),
            Tenant::Bank(bank)
        );
        // A binding that does not fit the role binds to nothing.
        assert_eq!(
            caller(Role::OrgOperator, None, Some(bank)).tenant(),
            Tenant::Unbound
        );
        assert_eq!(
            caller(Role::BankOfficer, Some(org), None).tenant(),
            Tenant::Unbound
        );
    }
}
