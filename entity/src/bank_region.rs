use sea_orm::entity::prelude::*;

/// A region a bank serves; a county code serves every township and village beneath it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "bank_regions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub bank_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub region_code: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
