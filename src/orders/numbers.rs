//! Order numbers on PostgreSQL, handed out without a lock held to commit.
//!
//! A store's orders are numbered from 1, each number used once. On SQLite
//! the writer takes the next number in the order's own batch, one order at
//! a time, so numbers have no gaps. On PostgreSQL orders of a store commit
//! side by side, and a number taken in the order's transaction would lock
//! the store's counter row until that commit is on disk: one order of a
//! store per flush of the log, however many variants the orders touch.
//! Instead this process reserves numbers in blocks, each in a short
//! transaction of its own (`order_numbers.last` is then the highest number
//! reserved), and hands them out from memory:
//!
//! - A block is one number when the store's previous reservation is more
//!   than a second old, and twice the previous block (up to
//!   [`MAX_BLOCK`]) while they come faster: a quiet store reserves one
//!   number per order, a live sale one reservation per 32 orders.
//! - A checkout that is refused after taking its number gives it back, and
//!   the store's next checkout takes the smallest number given back first;
//!   so one process running alone numbers orders without gaps, though an
//!   order may carry a smaller number than one placed just before it.
//! - Numbers reserved and not used when the process stops are not used
//!   (a gap of less than a block per store), and processes sharing a
//!   database take numbers from different blocks: unique, not in the
//!   order the orders were placed.
//!
//! The unique index on `(tenant_id, store_id, number)` holds whatever a
//! process does.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::db::{self, Db};
use crate::error::ApiResult;

/// The largest block reserved at once.
pub const MAX_BLOCK: i64 = 32;

/// Reservations closer together than this grow the block.
const BUSY: Duration = Duration::from_secs(1);

/// Reserves `size` numbers after the store's highest, creating its counter
/// with its first block; answers the block's last number.
const RESERVE: &str = "INSERT INTO order_numbers (tenant_id, store_id, last) VALUES (?, ?, ?) \
     ON CONFLICT (tenant_id, store_id) DO UPDATE SET last = order_numbers.last + excluded.last \
     RETURNING last";

/// This process's numbers, per store.
#[derive(Default)]
pub struct Numbers {
    stores: Mutex<HashMap<Uuid, Arc<Store>>>,
}

/// One store's numbers in hand.
#[derive(Default)]
struct Store {
    hand: Mutex<Hand>,
    /// Held while a block is reserved, so one checkout reserves it and the
    /// others take from it.
    reserving: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct Hand {
    given_back: BTreeSet<i64>,
    /// The next number of the block, and the first after it.
    next: i64,
    end: i64,
    block: i64,
    reserved_at: Option<Instant>,
}

impl Hand {
    fn take(&mut self) -> Option<i64> {
        if let Some(n) = self.given_back.pop_first() {
            return Some(n);
        }
        (self.next < self.end).then(|| {
            self.next += 1;
            self.next - 1
        })
    }

    /// The size of the block to reserve at `now`.
    fn next_block(&mut self, now: Instant) -> i64 {
        let busy = self.reserved_at.is_some_and(|at| now.duration_since(at) < BUSY);
        self.block = if busy { (self.block * 2).clamp(1, MAX_BLOCK) } else { 1 };
        self.reserved_at = Some(now);
        self.block
    }

    /// The block that ends at `last`.
    fn add(&mut self, last: i64, size: i64) {
        self.next = last - size + 1;
        self.end = last + 1;
    }
}

/// A number taken for an order: given back when dropped unless [`kept`](OrderNumber::kept).
pub struct OrderNumber {
    number: i64,
    store: Arc<Store>,
    kept: bool,
}

impl OrderNumber {
    pub fn number(&self) -> i64 {
        self.number
    }

    /// The order is about to commit with this number: it is not given back
    /// (if the commit fails, the number is not used again).
    pub fn kept(mut self) {
        self.kept = true;
    }
}

impl Drop for OrderNumber {
    fn drop(&mut self) {
        if !self.kept {
            lock(&self.store.hand).given_back.insert(self.number);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A hand is consistent between statements, so a panic elsewhere leaves it usable.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Numbers {
    /// The store's next number, reserving a block when none is in hand.
    pub async fn take(&self, db: &Db, tenant_id: Uuid, store_id: Uuid) -> ApiResult<OrderNumber> {
        let store = Arc::clone(lock(&self.stores).entry(store_id).or_default());
        let taken = |number| OrderNumber {
            number,
            store: Arc::clone(&store),
            kept: false,
        };
        if let Some(n) = lock(&store.hand).take() {
            return Ok(taken(n));
        }
        let _reserving = store.reserving.lock().await;
        // Another checkout may have reserved while this one waited.
        if let Some(n) = lock(&store.hand).take() {
            return Ok(taken(n));
        }
        let size = lock(&store.hand).next_block(Instant::now());
        let last = reserve(db, tenant_id, store_id, size).await?;
        let mut hand = lock(&store.hand);
        hand.add(last, size);
        let n = hand
            .take()
            .ok_or_else(|| anyhow::anyhow!("a reserved block held no number"))?;
        Ok(taken(n))
    }
}

async fn reserve(db: &Db, tenant_id: Uuid, store_id: Uuid, size: i64) -> ApiResult<i64> {
    let txn = db.tenant_aside(tenant_id).await?;
    let statement = Statement::from_sql_and_values(
        DbBackend::Postgres,
        db::placeholders(DbBackend::Postgres, RESERVE),
        [tenant_id.into(), store_id.into(), size.into()],
    );
    let row = txn
        .query_one_raw(statement)
        .await?
        .ok_or_else(|| anyhow::anyhow!("reserving order numbers answered no row"))?;
    let last: i64 = row.try_get_by_index(0)?;
    txn.commit().await?;
    Ok(last)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{Hand, MAX_BLOCK};

    #[test]
    fn blocks_grow_while_reservations_come_fast_and_start_over_after_a_pause() {
        let mut hand = Hand::default();
        let start = Instant::now();
        let sizes: Vec<i64> = (0..8)
            .map(|i| hand.next_block(start + Duration::from_millis(100 * i)))
            .collect();
        assert_eq!(sizes, [1, 2, 4, 8, 16, 32, MAX_BLOCK, MAX_BLOCK]);
        assert_eq!(hand.next_block(start + Duration::from_secs(5)), 1);
    }

    #[test]
    fn numbers_given_back_are_taken_first_smallest_first() {
        let mut hand = Hand::default();
        assert_eq!(hand.take(), None);
        hand.add(8, 4);
        assert_eq!((hand.take(), hand.take()), (Some(5), Some(6)));
        hand.given_back.insert(6);
        hand.given_back.insert(5);
        assert_eq!(
            [hand.take(), hand.take(), hand.take(), hand.take()],
            [Some(5), Some(6), Some(7), Some(8)]
        );
        assert_eq!(hand.take(), None);
    }
}
