//! Live streams, their public feed, and the event pipeline: deliveries of
//! outbox events to plug-in installs, and the timers plug-ins set.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::{at, at_null, big, index, int, json, tenant_fk, text, text_null, uuid};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000020_live"
    }
}

const TABLES: [&str; 5] = [
    "streams",
    "stream_products",
    "stream_feed",
    "event_deliveries",
    "plugin_timers",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("streams")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(text("title"))
                .col(text("status"))
                .col(at("scheduled_at"))
                .col(at_null("started_at"))
                .col(at_null("ended_at"))
                .col(big("viewers"))
                .col(big("peak_viewers"))
                .col(big("comments"))
                // The last feed sequence number handed out; bumping it locks the row,
                // so feed rows of one stream commit in sequence order.
                .col(big("feed_seq"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("streams", "store_id", "stores"))
                .to_owned(),
        )
        .await?;
        index(m, "streams_store", "streams", &["tenant_id", "store_id", "id"]).await?;

        // Every product ever pinned in a stream; `position` is set while it is pinned.
        m.create_table(
            Table::create()
                .table("stream_products")
                .col(uuid("tenant_id"))
                .col(uuid("stream_id"))
                .col(uuid("product_id"))
                .col(ColumnDef::new("position").big_integer().null())
                .col(at("first_pinned_at"))
                .primary_key(Index::create().col("tenant_id").col("stream_id").col("product_id"))
                .foreign_key(&mut tenant_fk("stream_products", "stream_id", "streams"))
                .foreign_key(&mut tenant_fk("stream_products", "product_id", "products"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("stream_feed")
                .col(uuid("tenant_id"))
                .col(uuid("stream_id"))
                .col(big("seq"))
                .col(text("kind"))
                .col(json("data"))
                .col(at("created_at"))
                .primary_key(Index::create().col("tenant_id").col("stream_id").col("seq"))
                .foreign_key(&mut tenant_fk("stream_feed", "stream_id", "streams"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("event_deliveries")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("event_id"))
                .col(text("hook"))
                .col(uuid("install_id"))
                .col(uuid("store_id"))
                // Deliveries of one lane (a stream, or an order without one) to one
                // install go out in event order.
                .col(uuid("lane"))
                .col(text("status"))
                .col(int("attempts"))
                .col(at("next_attempt_at"))
                .col(text_null("last_error"))
                .col(at("created_at"))
                .col(at_null("delivered_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("event_deliveries", "install_id", "installs"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "event_deliveries_due",
            "event_deliveries",
            &["tenant_id", "status", "next_attempt_at"],
        )
        .await?;
        index(
            m,
            "event_deliveries_lane",
            "event_deliveries",
            &["tenant_id", "install_id", "lane", "event_id"],
        )
        .await?;
        index(
            m,
            "event_deliveries_install",
            "event_deliveries",
            &["tenant_id", "install_id", "id"],
        )
        .await?;

        m.create_table(
            Table::create()
                .table("plugin_timers")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("install_id"))
                .col(text("key"))
                .col(big("at_ms"))
                .col(json("payload"))
                .col(at("created_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("plugin_timers", "install_id", "installs"))
                .to_owned(),
        )
        .await?;
        crate::columns::unique(
            m,
            "plugin_timers_key",
            "plugin_timers",
            &["tenant_id", "install_id", "key"],
        )
        .await?;
        index(m, "plugin_timers_due", "plugin_timers", &["at_ms"]).await?;

        // The dispatcher looks for undispatched events across tenants; both engines take this.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX outbox_events_pending ON outbox_events (tenant_id, id) WHERE dispatched_at IS NULL",
            )
            .await?;

        for table in TABLES {
            rls::protect(m, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS outbox_events_pending")
            .await?;
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
