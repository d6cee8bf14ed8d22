//! The plug-in catalogue (platform-wide: plug-ins and their immutable
//! versions, module bytes included) and installs per store (tenant-owned),
//! with each install's recent calls.

use sea_orm_migration::prelude::*;

use crate::columns::{at, at_null, big, flag, index, int, json, tenant_fk, text, unique, uuid};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000003_marketplace"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("plugins")
                .col(uuid("id").primary_key())
                .col(text("slug"))
                .col(text("name"))
                .col(text("description"))
                .col(text("author"))
                .col(flag("listed"))
                .col(json("config_schema"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "plugins_slug", "plugins", &["slug"]).await?;
        rls::platform_table(m, "plugins").await?;

        m.create_table(
            Table::create()
                .table("plugin_versions")
                .col(uuid("id").primary_key())
                .col(uuid("plugin_id"))
                .col(text("version"))
                .col(text("sha256"))
                .col(ColumnDef::new("wasm").blob().not_null())
                .col(json("hooks"))
                .col(json("config_schema"))
                .col(at("created_at"))
                .foreign_key(
                    ForeignKey::create()
                        .from("plugin_versions", "plugin_id")
                        .to("plugins", "id")
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        unique(
            m,
            "plugin_versions_version",
            "plugin_versions",
            &["plugin_id", "version"],
        )
        .await?;
        rls::platform_table(m, "plugin_versions").await?;

        m.create_table(
            Table::create()
                .table("installs")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(uuid("plugin_id"))
                .col(uuid("version_id"))
                .col(flag("enabled"))
                .col(json("config"))
                .col(int("priority"))
                .col(flag("breaker_open"))
                .col(ColumnDef::new("breaker_reason").text().null())
                .col(at("created_at"))
                .col(at("updated_at"))
                .col(at_null("uninstalled_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("installs", "store_id", "stores"))
                .to_owned(),
        )
        .await?;
        index(m, "installs_store", "installs", &["tenant_id", "store_id"]).await?;
        rls::protect(m, "installs", "tenant_id").await?;

        m.create_table(
            Table::create()
                .table("install_calls")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("install_id"))
                .col(uuid("version_id"))
                .col(text("hook"))
                .col(text("outcome"))
                .col(ColumnDef::new("message").text().null())
                .col(big("fuel"))
                .col(big("duration_us"))
                .col(big("peak_memory"))
                .col(at("created_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("install_calls", "install_id", "installs"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "install_calls_install",
            "install_calls",
            &["tenant_id", "install_id", "id"],
        )
        .await?;
        rls::protect(m, "install_calls", "tenant_id").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in ["install_calls", "installs", "plugin_versions", "plugins"] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
