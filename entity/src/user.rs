use sea_orm::entity::prelude::*;

use crate::{Money, Role, UserStatus};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub mobile: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    /// Set exactly when `role` is `org_operator`.
    pub organization_id: Option<Uuid>,
    /// Set exactly when `role` is a bank role.
    pub bank_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    /// Only approvers have one: the largest amount they may approve.
    pub approval_limit: Option<Money>,
    pub status: UserStatus,
    /// Set when an admin chose the password (new user, reset): until the user changes it at
    /// `/me/password`, every other route answers 403 `password_change_required`.
    pub must_change_password: bool,
    /// Optimistic concurrency: bumped on every change, exposed as the ETag.
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
