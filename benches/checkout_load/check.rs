//! The oversell check, read through the database after a cell: for every
//! variant of the store, units sold in order lines equal the stock it lost,
//! no stock is below zero, and there is one order per success counted.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use livemall::db::Access;
use livemall::entities::{order_lines, orders, outbox_events, variants};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::mall::{Mall, HOT_STOCK, SPREAD_STOCK};

pub struct Check {
    pub orders: u64,
    pub placed: u64,
    pub units: i64,
    /// Variants whose lost stock differs from the units sold.
    pub mismatched: usize,
    pub negative: usize,
}

impl Check {
    pub fn ok(&self) -> bool {
        self.orders == self.placed && self.mismatched == 0 && self.negative == 0
    }

    pub fn text(&self) -> String {
        if self.ok() {
            format!("ok ({} orders, {} units)", self.orders, self.units)
        } else {
            format!(
                "FAILED: {} orders for {} successes, {} variants off, {} below zero",
                self.orders, self.placed, self.mismatched, self.negative
            )
        }
    }
}

pub async fn oversell(mall: &Mall) -> anyhow::Result<Check> {
    let txn = mall.state.db.tenant(mall.tenant_id, Access::Read).await?;
    let stock: Vec<(Uuid, i64)> = variants::Entity::find()
        .filter(variants::Column::StoreId.eq(mall.store.id))
        .select_only()
        .column(variants::Column::Id)
        .column(variants::Column::Stock)
        .into_tuple()
        .all(&*txn)
        .await?;
    let sold: HashMap<Uuid, i64> = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::VariantId)
        .column_as(Expr::col(order_lines::Column::Quantity).sum(), "units")
        .group_by(order_lines::Column::VariantId)
        .into_tuple::<(Uuid, i64)>()
        .all(&*txn)
        .await?
        .into_iter()
        .collect();
    let orders = orders::Entity::find()
        .filter(orders::Column::StoreId.eq(mall.store.id))
        .count(&*txn)
        .await?;
    let mut check = Check {
        orders,
        placed: mall.placed.load(Ordering::Relaxed),
        units: sold.values().sum(),
        mismatched: 0,
        negative: 0,
    };
    for (id, left) in stock {
        let initial = if id == mall.hot.id { HOT_STOCK } else { SPREAD_STOCK };
        if initial - left != sold.get(&id).copied().unwrap_or(0) {
            check.mismatched += 1;
        }
        if left < 0 {
            check.negative += 1;
        }
    }
    Ok(check)
}

/// Kept plug-in calls (each install keeps its newest ~1,000) by outcome:
/// failures (e.g. `deadline` on a busy machine) mean some checkouts were
/// priced without that plug-in.
pub async fn calls_by_outcome(mall: &Mall) -> anyhow::Result<Vec<(String, i64)>> {
    use livemall::entities::install_calls;
    mall.state.calls.flush().await;
    let txn = mall.state.db.tenant(mall.tenant_id, Access::Read).await?;
    Ok(install_calls::Entity::find()
        .select_only()
        .column(install_calls::Column::Outcome)
        .column_as(Expr::col(install_calls::Column::Id).count(), "calls")
        .group_by(install_calls::Column::Outcome)
        .into_tuple()
        .all(&*txn)
        .await?)
}

/// Waits until the dispatcher has routed every event written so far (at
/// most `limit`), so that a cell does not share the machine with routing
/// the events of the cells before it; answers how long that took and how
/// many events were waiting when it began.
pub async fn drained(mall: &Mall, limit: Duration) -> anyhow::Result<(Duration, u64)> {
    let start = Instant::now();
    let mut first = None;
    loop {
        let txn = mall.state.db.tenant(mall.tenant_id, Access::Read).await?;
        let waiting = outbox_events::Entity::find()
            .filter(outbox_events::Column::DispatchedAt.is_null())
            .count(&*txn)
            .await?;
        drop(txn);
        let first = *first.get_or_insert(waiting);
        if waiting == 0 || start.elapsed() >= limit {
            return Ok((start.elapsed(), first));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
