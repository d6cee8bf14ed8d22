//! The `plugin_versions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub plugin_id: Uuid,
    pub version: String,
    pub sha256: String,
    #[sea_orm(column_type = "Blob")]
    pub wasm: Vec<u8>,
    #[sea_orm(column_type = "JsonBinary")]
    pub hooks: Json,
    #[sea_orm(column_type = "JsonBinary")]
    pub config_schema: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
