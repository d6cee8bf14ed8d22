//! Billing: plans and plug-in prices (platform), subscriptions, pending
//! items, usage, invoices (tenant-owned), the invoice number counter, the
//! author ledger and the Stripe events already seen (platform).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::{at, at_null, big, flag, index, int, text, text_null, unique, uuid, uuid_null};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261125_000030_billing"
    }
}

fn big_null(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().null().to_owned()
}

/// A tenant-owned table: `(tenant_id, id)` is the key.
fn tenant_table(name: &'static str) -> TableCreateStatement {
    Table::create()
        .table(name)
        .col(uuid("tenant_id"))
        .col(uuid("id"))
        .primary_key(Index::create().col("tenant_id").col("id"))
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("plans")
                .col(uuid("id").primary_key())
                .col(text("slug"))
                .col(text("name"))
                .col(big("price"))
                .col(text("currency"))
                .col(int("trial_days"))
                .col(big_null("max_stores"))
                .col(big_null("max_installs"))
                .col(big_null("max_orders"))
                .col(big_null("max_plugin_calls"))
                .col(flag("archived"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "plans_slug", "plans", &["slug"]).await?;
        rls::platform_table(m, "plans").await?;

        m.create_table(
            Table::create()
                .table("plugin_prices")
                .col(uuid("plugin_id").primary_key())
                .col(big("monthly_price"))
                .col(big("per_thousand_calls"))
                .col(text("currency"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        rls::platform_table(m, "plugin_prices").await?;

        m.create_table(
            tenant_table("subscriptions")
                .col(uuid("plan_id"))
                .col(uuid("period_plan_id"))
                .col(text("status"))
                .col(at("period_start"))
                .col(at("period_end"))
                .col(flag("cancel_at_period_end"))
                .col(at_null("canceled_at"))
                .col(at_null("past_due_since"))
                .col(at_null("suspended_at"))
                .col(text_null("gateway_customer"))
                .col(text_null("payment_method"))
                .col(at("created_at"))
                .col(at("updated_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "subscriptions_tenant", "subscriptions", &["tenant_id"]).await?;
        index(m, "subscriptions_due", "subscriptions", &["period_end"]).await?;

        m.create_table(
            tenant_table("billing_items")
                .col(text("kind"))
                .col(text("description"))
                .col(big("amount"))
                .col(text("currency"))
                .col(uuid_null("plan_id"))
                .col(at("period_start"))
                .col(at("period_end"))
                .col(uuid_null("invoice_id"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        index(m, "billing_items_open", "billing_items", &["tenant_id", "invoice_id"]).await?;

        m.create_table(
            tenant_table("usage_records")
                .col(text("metric"))
                .col(uuid_null("install_id"))
                .col(big("quantity"))
                .col(at("occurred_at"))
                .to_owned(),
        )
        .await?;
        index(m, "usage_records_time", "usage_records", &["tenant_id", "occurred_at"]).await?;

        // One row per tenant, metric and period: limits read one row, not the orders.
        m.create_table(
            Table::create()
                .table("usage_counters")
                .col(uuid("tenant_id"))
                .col(text("metric"))
                .col(at("period_start"))
                .col(big("count"))
                .primary_key(Index::create().col("tenant_id").col("metric").col("period_start"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            tenant_table("invoices")
                .col(text_null("number"))
                .col(text("status"))
                .col(text("currency"))
                .col(big("total"))
                .col(at("period_start"))
                .col(at("period_end"))
                .col(at("created_at"))
                .col(at_null("finalized_at"))
                .col(at_null("paid_at"))
                .col(at_null("voided_at"))
                .col(int("attempts"))
                .col(at_null("next_attempt_at"))
                .col(text_null("gateway_ref"))
                .to_owned(),
        )
        .await?;
        // A period is invoiced once, whatever reruns or crashes happen.
        unique(m, "invoices_period", "invoices", &["tenant_id", "period_start"]).await?;
        unique(m, "invoices_number", "invoices", &["number"]).await?;
        index(m, "invoices_status", "invoices", &["status", "next_attempt_at"]).await?;

        m.create_table(
            tenant_table("invoice_lines")
                .col(uuid("invoice_id"))
                .col(text("kind"))
                .col(text("description"))
                .col(big("quantity"))
                .col(big("amount"))
                .col(uuid_null("plan_id"))
                .col(uuid_null("plugin_id"))
                .col(uuid_null("install_id"))
                .col(at("period_start"))
                .col(at("period_end"))
                .to_owned(),
        )
        .await?;
        index(
            m,
            "invoice_lines_invoice",
            "invoice_lines",
            &["tenant_id", "invoice_id"],
        )
        .await?;

        for table in [
            "subscriptions",
            "billing_items",
            "usage_records",
            "usage_counters",
            "invoices",
            "invoice_lines",
        ] {
            rls::protect(m, table, "tenant_id").await?;
        }

        m.create_table(
            Table::create()
                .table("invoice_counters")
                .col(text("name").primary_key())
                .col(big("next"))
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared("INSERT INTO invoice_counters (name, next) VALUES ('invoice', 1)")
            .await?;
        rls::platform_table(m, "invoice_counters").await?;

        m.create_table(
            Table::create()
                .table("author_ledger")
                .col(uuid("id").primary_key())
                .col(text("author"))
                .col(uuid("plugin_id"))
                .col(uuid("tenant_id"))
                .col(uuid("invoice_id"))
                .col(at("period_start"))
                .col(at("period_end"))
                .col(big("gross"))
                .col(big("share"))
                .col(text("currency"))
                .col(at("created_at"))
                .to_owned(),
        )
        .await?;
        unique(m, "author_ledger_line", "author_ledger", &["invoice_id", "plugin_id"]).await?;
        index(m, "author_ledger_author", "author_ledger", &["author", "period_start"]).await?;
        rls::platform_table(m, "author_ledger").await?;

        m.create_table(
            Table::create()
                .table("stripe_events")
                .col(text("id").primary_key())
                .col(text("kind"))
                .col(at("received_at"))
                .to_owned(),
        )
        .await?;
        rls::platform_table(m, "stripe_events").await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "stripe_events",
            "author_ledger",
            "invoice_counters",
            "invoice_lines",
            "invoices",
            "usage_counters",
            "usage_records",
            "billing_items",
            "subscriptions",
            "plugin_prices",
            "plans",
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
