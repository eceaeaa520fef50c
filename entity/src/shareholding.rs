use sea_orm::entity::prelude::*;

use crate::{HolderType, Percentage};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shareholdings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub entity_id: Uuid,
    pub holder_name: String,
    pub holder_type: HolderType,
    #[sea_orm(column_name = "percentage_bp")]
    pub percentage: Percentage,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
