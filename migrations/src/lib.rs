//! Database migrations for livemall, applied in order at start-up or with
//! `livemall migrate`. Each works on SQLite and PostgreSQL; PostgreSQL also
//! gets row-level security for every tenant-owned table.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261125_000001_foundation;
mod m20261125_000002_catalog;
mod m20261125_000003_marketplace;
mod m20261125_000004_live_install;
mod m20261125_000010_orders;
mod m20261125_000020_live;
mod m20261125_000021_pin_times;
mod m20261125_000022_dispatch_indexes;
mod m20261125_000030_billing;
mod m20261126_000031_deferred_order_children;
mod m20261126_000032_orders_store_first;
pub mod rls;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_catalog::Migration),
            Box::new(m20261125_000003_marketplace::Migration),
            Box::new(m20261125_000004_live_install::Migration),
            Box::new(m20261125_000010_orders::Migration),
            Box::new(m20261125_000020_live::Migration),
            Box::new(m20261125_000021_pin_times::Migration),
            Box::new(m20261125_000022_dispatch_indexes::Migration),
            Box::new(m20261125_000030_billing::Migration),
            Box::new(m20261126_000031_deferred_order_children::Migration),
            Box::new(m20261126_000032_orders_store_first::Migration),
        ]
    }
}
