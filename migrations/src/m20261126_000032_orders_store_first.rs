//! The orders' secondary indexes lead with the store instead of the tenant.
//!
//! A foreign key's check (`SELECT 1 FROM orders WHERE tenant_id = $1 AND
//! id = $2`, for each of an order's lines, adjustments and claims) is
//! planned once per connection and kept. Planned while `orders` was empty,
//! PostgreSQL took `(tenant_id, store_id, status, id)` as good as the
//! primary key, and kept it: each check then read every index entry of the
//! tenant, more with every order, at the commit, while the checkout held
//! the rows other checkouts wait for. With the store first, only the
//! primary key serves that lookup, whatever the statistics say; every query
//! that uses these indexes names the store. Uniqueness of the order number
//! is unchanged (the same three columns).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000032_orders_store_first"
    }
}

/// Drops and creates the three indexes in one batch, on one connection.
async fn replace(m: &SchemaManager<'_>, first: &str, then: &str) -> Result<(), DbErr> {
    let sql = format!(
        "DROP INDEX IF EXISTS orders_number; DROP INDEX IF EXISTS orders_store; DROP INDEX IF EXISTS orders_status; \
         CREATE UNIQUE INDEX orders_number ON orders ({first}, {then}, number); \
         CREATE INDEX orders_store ON orders ({first}, {then}, id); \
         CREATE INDEX orders_status ON orders ({first}, {then}, status, id)"
    );
    m.get_connection().execute_unprepared(&sql).await?;
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, "store_id", "tenant_id").await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(m, "tenant_id", "store_id").await
    }
}
