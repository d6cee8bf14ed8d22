//! PostgreSQL: the foreign keys from an order's children (lines,
//! adjustments, claims) to the order are checked at commit, so checkout can
//! write the children first and the order, with its number, last: the
//! store's order number row is locked from that statement to the commit,
//! and every checkout of the store waits for it. SQLite has one writer at a
//! time and keeps the order-first sequence.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261126_000031_deferred_order_children"
    }
}

fn alter(timing: &str) -> String {
    format!(
        "DO $$ DECLARE r record; BEGIN \
           FOR r IN SELECT conrelid::regclass AS child, conname FROM pg_constraint \
                    WHERE contype = 'f' AND confrelid = 'orders'::regclass \
                      AND conrelid IN ('order_lines'::regclass, 'order_adjustments'::regclass, 'order_claims'::regclass) \
           LOOP EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I {timing}', r.child, r.conname); END LOOP; \
         END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection()
                .execute_unprepared(&alter("DEFERRABLE INITIALLY DEFERRED"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if m.get_database_backend() == DbBackend::Postgres {
            m.get_connection().execute_unprepared(&alter("NOT DEFERRABLE")).await?;
        }
        Ok(())
    }
}
