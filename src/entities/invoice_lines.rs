//! The `invoice_lines` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "invoice_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub invoice_id: Uuid,
    pub kind: String,
    pub description: String,
    pub quantity: i64,
    pub amount: i64,
    pub plan_id: Option<Uuid>,
    pub plugin_id: Option<Uuid>,
    pub install_id: Option<Uuid>,
    pub period_start: DateTimeUtc,
    pub period_end: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
