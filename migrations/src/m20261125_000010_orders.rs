//! Orders: customers, orders with their lines, applied adjustments and
//! claims, the plug-ins' bounded counters, per-store order numbers and the
//! outbox. Keys start with `tenant_id`, children point at parents through
//! `(tenant_id, ...)`, and every table is confined by row-level security.

use sea_orm_migration::prelude::*;

use crate::columns::{at, at_null, big, index, int, json, tenant_fk, text, text_null, unique, uuid, uuid_null};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000010_orders"
    }
}

/// Tables in creation order; dropped in reverse.
const TABLES: [&str; 8] = [
    "customers",
    "order_numbers",
    "orders",
    "order_lines",
    "order_adjustments",
    "order_claims",
    "plugin_counters",
    "outbox_events",
];

/// A child row of an order, keyed by its position within the order.
fn order_child(table: &'static str) -> TableCreateStatement {
    Table::create()
        .table(table)
        .col(uuid("tenant_id"))
        .col(uuid("order_id"))
        .col(int("position"))
        .primary_key(Index::create().col("tenant_id").col("order_id").col("position"))
        .foreign_key(&mut tenant_fk(table, "order_id", "orders"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("customers")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(text("email"))
                .col(text("name"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("customers", "store_id", "stores"))
                .to_owned(),
        )
        .await?;
        // Emails are stored normalised, so this is case-insensitive uniqueness.
        unique(m, "customers_email", "customers", &["tenant_id", "store_id", "email"]).await?;
        index(m, "customers_store", "customers", &["tenant_id", "store_id", "id"]).await?;

        // One row per store, bumped inside the checkout transaction: numbers have no gaps from rollbacks.
        m.create_table(
            Table::create()
                .table("order_numbers")
                .col(uuid("tenant_id"))
                .col(uuid("store_id"))
                .col(big("last"))
                .primary_key(Index::create().col("tenant_id").col("store_id"))
                .foreign_key(&mut tenant_fk("order_numbers", "store_id", "stores"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("orders")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(uuid("store_id"))
                .col(big("number"))
                .col(text("status"))
                .col(text("currency"))
                .col(uuid_null("customer_id"))
                .col(text_null("email"))
                .col(text("customer_key"))
                // No foreign key: streams arrive with the live issue and may be reported late.
                .col(uuid_null("stream_id"))
                .col(json("codes"))
                .col(big("subtotal"))
                .col(big("adjustments_total"))
                .col(big("total"))
                .col(json("pricing"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .col(at_null("paid_at"))
                .col(at_null("fulfilled_at"))
                .col(at_null("cancelled_at"))
                .col(at_null("refunded_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .foreign_key(&mut tenant_fk("orders", "store_id", "stores"))
                // Not cascading: an order outlives anything that happens to its customer.
                .foreign_key(
                    ForeignKey::create()
                        .from("orders", ("tenant_id", "customer_id"))
                        .to("customers", ("tenant_id", "id"))
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .check(("orders_total_not_negative", Expr::col("total").gte(0)))
                .to_owned(),
        )
        .await?;
        unique(m, "orders_number", "orders", &["tenant_id", "store_id", "number"]).await?;
        index(m, "orders_store", "orders", &["tenant_id", "store_id", "id"]).await?;
        index(m, "orders_status", "orders", &["tenant_id", "store_id", "status", "id"]).await?;

        m.create_table(
            order_child("order_lines")
                .col(uuid("product_id"))
                .col(uuid("variant_id"))
                .col(text("sku"))
                .col(text("title"))
                .col(big("unit_price"))
                .col(int("quantity"))
                .col(big("total"))
                .col(big("adjusted_total"))
                .check(("order_lines_quantity_positive", Expr::col("quantity").gt(0)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            order_child("order_adjustments")
                .col(ColumnDef::new("line").integer().null())
                .col(big("amount"))
                .col(text("label"))
                .col(text_null("code"))
                .col(text("class"))
                .col(uuid("install_id"))
                .col(uuid("plugin_id"))
                .col(text("plugin_slug"))
                .col(uuid("version_id"))
                .col(text("version"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            order_child("order_claims")
                .col(uuid("install_id"))
                .col(text("key"))
                .col(text("scope_key"))
                .col(big("amount"))
                .to_owned(),
        )
        .await?;

        // `scope_key` is '' for an install-wide counter, else the customer key.
        // No foreign key to the install: counters outlive an uninstall.
        m.create_table(
            Table::create()
                .table("plugin_counters")
                .col(uuid("tenant_id"))
                .col(uuid("install_id"))
                .col(text("key"))
                .col(text("scope_key"))
                .col(big("used"))
                .col(at("updated_at"))
                .primary_key(
                    Index::create()
                        .col("tenant_id")
                        .col("install_id")
                        .col("key")
                        .col("scope_key"),
                )
                .check(("plugin_counters_used_not_negative", Expr::col("used").gte(0)))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("outbox_events")
                .col(uuid("tenant_id"))
                .col(uuid("id"))
                .col(text("topic"))
                .col(uuid("aggregate_id"))
                .col(json("payload"))
                .col(at("created_at"))
                .col(at_null("dispatched_at"))
                .primary_key(Index::create().col("tenant_id").col("id"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "outbox_events_aggregate",
            "outbox_events",
            &["tenant_id", "aggregate_id", "id"],
        )
        .await?;

        for table in TABLES {
            rls::protect(m, table, "tenant_id").await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES.iter().rev() {
            m.drop_table(Table::drop().table(*table).to_owned()).await?;
        }
        Ok(())
    }
}
