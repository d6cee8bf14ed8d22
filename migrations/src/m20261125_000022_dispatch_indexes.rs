//! Open deliveries by status first, so the dispatcher's look for tenants
//! with due deliveries reads what is open, not every delivery ever made.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::index;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000022_dispatch_indexes"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        index(
            m,
            "event_deliveries_open",
            "event_deliveries",
            &["status", "next_attempt_at", "tenant_id"],
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX event_deliveries_open")
            .await?;
        Ok(())
    }
}
