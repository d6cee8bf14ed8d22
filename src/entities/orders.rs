//! The `orders` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub number: i64,
    pub status: String,
    pub currency: String,
    pub customer_id: Option<Uuid>,
    pub email: Option<String>,
    pub customer_key: String,
    pub stream_id: Option<Uuid>,
    #[sea_orm(column_type = "JsonBinary")]
    pub codes: Json,
    pub subtotal: i64,
    pub adjustments_total: i64,
    pub total: i64,
    #[sea_orm(column_type = "JsonBinary")]
    pub pricing: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub fulfilled_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub refunded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
