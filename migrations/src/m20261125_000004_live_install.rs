//! At most one live install of a plug-in per store. The check in the
//! install path sees committed rows only; this index also holds when two
//! installs race on PostgreSQL. Uninstalled rows stay as history.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000004_live_install"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // A partial index: both engines take this exact statement.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX installs_live ON installs (tenant_id, store_id, plugin_id) \
                 WHERE uninstalled_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS installs_live")
            .await?;
        Ok(())
    }
}
