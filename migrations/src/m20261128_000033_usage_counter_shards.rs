//! A period's usage count in shards (`shard`, part of the key): a tenant
//! whose plan sets no limit on a metric adds to one of several rows,
//! picked by the record's id, so its checkouts do not queue for one row
//! that each holds until its commit; under a limit the count goes to shard
//! 0, guarded by the sum of all of them (`src/billing/usage.rs`). Existing
//! counts become shard 0.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::columns::{at, big, int, text, uuid};
use crate::rls;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261128_000033_usage_counter_shards"
    }
}

/// Replaces `usage_counters` with a table of the same counts, keyed with
/// or without `shard`; `copy` selects its rows from the old table. One
/// batch on one connection, so no statement of it meets a schema that
/// another connection has not seen change yet.
async fn replace(m: &SchemaManager<'_>, sharded: bool, copy: &str) -> Result<(), DbErr> {
    let mut table = Table::create();
    table
        .table("usage_counters_next")
        .col(uuid("tenant_id"))
        .col(text("metric"))
        .col(at("period_start"));
    let mut key = Index::create();
    key.col("tenant_id").col("metric").col("period_start");
    if sharded {
        table.col(int("shard"));
        key.col("shard");
    }
    table.col(big("count")).primary_key(&mut key);
    let backend = m.get_database_backend();
    let batch = [
        backend.build(&table).to_string(),
        format!("INSERT INTO usage_counters_next {copy}"),
        backend
            .build(&Table::drop().table("usage_counters").to_owned())
            .to_string(),
        backend
            .build(
                &Table::rename()
                    .table("usage_counters_next", "usage_counters")
                    .to_owned(),
            )
            .to_string(),
    ]
    .join("; ");
    m.get_connection().execute_unprepared(&batch).await?;
    rls::protect(m, "usage_counters", "tenant_id").await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(
            m,
            true,
            "(tenant_id, metric, period_start, shard, count) \
             SELECT tenant_id, metric, period_start, 0, count FROM usage_counters",
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        replace(
            m,
            false,
            "(tenant_id, metric, period_start, count) \
             SELECT tenant_id, metric, period_start, sum(count) FROM usage_counters \
             GROUP BY tenant_id, metric, period_start",
        )
        .await
    }
}
