//! The `plugin_prices` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "plugin_prices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub plugin_id: Uuid,
    pub monthly_price: i64,
    pub per_thousand_calls: i64,
    pub currency: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
