//! The record of plug-in calls, written in the background: a priced cart or
//! a checkout hands its calls over and goes on, and one writer task turns
//! whatever has queued meanwhile into one transaction per tenant. Under load
//! that is a few writes a second instead of one per request, and none of
//! them on the shopper's path (on SQLite, one fewer turn at the only writer).
//!
//! Reads of an install's calls first [`CallJournal::flush`], so a merchant
//! reading through the node that served the calls sees every one of them.

use std::collections::BTreeMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::db::{self, insert, Access, Db, TenantTxn};
use crate::entities::install_calls;
use crate::error::ApiResult;

/// Entries waiting for the writer; a sender waits when it is full, so a
/// writer that falls behind slows requests down instead of losing records.
const QUEUE: usize = 4096;
/// Rows per INSERT: 11 columns stay well inside SQLite's 32,766 parameters.
const ROWS_PER_INSERT: usize = 500;

/// One request's calls, or a request to be told when all before it are written.
enum Entry {
    Calls {
        tenant_id: Uuid,
        rows: Vec<install_calls::Model>,
        /// Installs whose history to trim to the newest `calls_kept`.
        prune: Vec<Uuid>,
    },
    Flush(oneshot::Sender<()>),
}

/// The sending side; cheap to clone, shared by every handler of the process.
#[derive(Clone, Debug)]
pub struct CallJournal {
    tx: mpsc::Sender<Entry>,
}

impl CallJournal {
    /// Starts the writer task; it ends when the last `CallJournal` is dropped,
    /// after writing what was queued.
    pub fn start(db: Db, calls_kept: u32) -> CallJournal {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(write_loop(db, calls_kept, rx));
        CallJournal { tx }
    }

    /// Queues `rows` of `tenant_id`; `prune` names installs to trim.
    pub async fn record(&self, tenant_id: Uuid, rows: Vec<install_calls::Model>, prune: Vec<Uuid>) {
        let entry = Entry::Calls { tenant_id, rows, prune };
        if self.tx.send(entry).await.is_err() {
            tracing::warn!(tenant = %tenant_id, "call journal stopped; calls not recorded");
        }
    }

    /// Waits until everything queued before this call is written.
    pub async fn flush(&self) {
        let (done, written) = oneshot::channel();
        if self.tx.send(Entry::Flush(done)).await.is_ok() {
            // An error means the writer stopped; there is nothing left to wait for.
            let _ = written.await;
        }
    }
}

async fn write_loop(db: Db, calls_kept: u32, mut rx: mpsc::Receiver<Entry>) {
    let mut batch = Vec::new();
    while rx.recv_many(&mut batch, QUEUE).await > 0 {
        let mut by_tenant: BTreeMap<Uuid, (Vec<install_calls::Model>, Vec<Uuid>)> = BTreeMap::new();
        let mut flushes = Vec::new();
        for entry in batch.drain(..) {
            match entry {
                Entry::Calls { tenant_id, rows, prune } => {
                    let (all_rows, all_prune) = by_tenant.entry(tenant_id).or_default();
                    all_rows.extend(rows);
                    all_prune.extend(prune);
                }
                Entry::Flush(done) => flushes.push(done),
            }
        }
        for (tenant_id, (rows, mut prune)) in by_tenant {
            prune.sort_unstable();
            prune.dedup();
            let count = rows.len();
            if let Err(error) = write(&db, tenant_id, rows, &prune, calls_kept).await {
                // The calls themselves happened; only their record is lost.
                tracing::warn!(tenant = %tenant_id, count, error = %error, "recording plug-in calls failed");
            }
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

async fn write(
    db: &Db,
    tenant_id: Uuid,
    mut rows: Vec<install_calls::Model>,
    prune: &[Uuid],
    calls_kept: u32,
) -> ApiResult<()> {
    let txn = db.tenant(tenant_id, Access::Write).await?;
    // Plug-in calls are metered for billing in the same transaction that records them.
    let metered: Vec<(Uuid, Uuid)> = rows.iter().map(|row| (row.id, row.install_id)).collect();
    crate::billing::usage::record_calls(&txn, &metered, chrono::Utc::now()).await?;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_INSERT));
        if let Some((sql, values)) = insert::rows(std::mem::replace(&mut rows, rest)) {
            db::execute(&*txn, &sql, values).await?;
        }
    }
    for install_id in prune {
        trim(&txn, *install_id, calls_kept).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Deletes the install's calls older than its `keep` newest.
async fn trim(txn: &TenantTxn, install_id: Uuid, keep: u32) -> ApiResult<()> {
    // The oldest call to keep; ids are UUIDv7, so id order is time order.
    let cutoff: Option<Uuid> = install_calls::Entity::find()
        .filter(install_calls::Column::TenantId.eq(txn.tenant_id()))
        .filter(install_calls::Column::InstallId.eq(install_id))
        .select_only()
        .column(install_calls::Column::Id)
        .order_by_desc(install_calls::Column::Id)
        .offset(u64::from(keep.max(1) - 1))
        .limit(1)
        .into_tuple()
        .one(&**txn)
        .await?;
    if let Some(cutoff) = cutoff {
        install_calls::Entity::delete_many()
            .filter(install_calls::Column::TenantId.eq(txn.tenant_id()))
            .filter(install_calls::Column::InstallId.eq(install_id))
            .filter(install_calls::Column::Id.lt(cutoff))
            .exec(&**txn)
            .await?;
    }
    Ok(())
}
