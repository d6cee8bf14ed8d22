//! When each product was last pinned: a re-pin restarts what runs from the
//! pin (a countdown), while `first_pinned_at` keeps the stream's history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::at_null;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000021_pin_times"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("stream_products")
                .add_column(at_null("pinned_at"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("UPDATE stream_products SET pinned_at = first_pinned_at")
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table("stream_products")
                .drop_column("pinned_at")
                .to_owned(),
        )
        .await
    }
}
