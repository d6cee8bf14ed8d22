//! Fan-out of feed events to this process's viewers. One task per stream
//! that has viewers here tails the feed table (woken at once by a change
//! made in this process, by polling for changes made by others), turns each
//! row into its server-sent-event bytes once, and hands the same bytes to
//! every viewer through a tokio broadcast channel.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::web::Bytes;
use tokio::sync::{broadcast, Notify};
use uuid::Uuid;

use crate::db::{Access, Db};
use crate::entities::stream_feed;
use crate::error::{ApiError, ApiResult};
use crate::live::feed;

/// Frames a slow viewer may fall behind before it catches up from the table.
const CHANNEL_CAPACITY: usize = 1024;
/// Rows read per query while tailing.
const BATCH: u64 = 500;

/// One feed event, serialised once.
#[derive(Debug, Clone)]
pub struct Frame {
    pub seq: i64,
    pub bytes: Bytes,
}

struct Channel {
    tx: broadcast::Sender<Frame>,
    wake: Notify,
}

pub struct Hub {
    db: Db,
    poll: Duration,
    channels: Mutex<HashMap<Uuid, Arc<Channel>>>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("poll", &self.poll).finish()
    }
}

/// The server-sent-event form of a row: `id`, `event` and one `data` line.
pub fn frame(seq: i64, kind: &str, data: &serde_json::Value) -> Bytes {
    // serde_json never writes a raw newline, so the data is one line.
    Bytes::from(format!("id: {seq}\nevent: {kind}\ndata: {data}\n\n"))
}

pub fn row_frame(row: &stream_feed::Model) -> Frame {
    Frame {
        seq: row.seq,
        bytes: frame(row.seq, &row.kind, &row.data),
    }
}

impl Hub {
    pub fn new(db: Db, poll: Duration) -> Hub {
        Hub {
            db,
            poll,
            channels: Mutex::new(HashMap::new()),
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Wakes the stream's task, if it has viewers here: a change committed.
    pub fn poke(&self, stream_id: Uuid) {
        if let Ok(channels) = self.channels.lock() {
            if let Some(channel) = channels.get(&stream_id) {
                channel.wake.notify_one();
            }
        }
    }

    /// Streams with viewers in this process.
    pub fn streams(&self) -> usize {
        self.channels.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn existing(&self, stream_id: Uuid) -> ApiResult<Option<broadcast::Receiver<Frame>>> {
        let channels = self.channels.lock().map_err(|_| poisoned())?;
        Ok(channels.get(&stream_id).map(|c| c.tx.subscribe()))
    }

    /// A receiver of the stream's frames from now on. Everything committed
    /// before this returns is in the table, so a viewer reads the table after
    /// subscribing and never misses an event in between.
    pub async fn subscribe(
        self: &Arc<Self>,
        tenant_id: Uuid,
        stream_id: Uuid,
    ) -> ApiResult<broadcast::Receiver<Frame>> {
        if let Some(rx) = self.existing(stream_id)? {
            return Ok(rx);
        }
        let start = {
            let txn = self.db.tenant(tenant_id, Access::Read).await?;
            feed::head(&*txn, tenant_id, stream_id)
                .await?
                .ok_or(ApiError::NotFound)?
        };
        let mut channels = self.channels.lock().map_err(|_| poisoned())?;
        if let Some(channel) = channels.get(&stream_id) {
            return Ok(channel.tx.subscribe());
        }
        let (tx, rx) = broadcast::channel(CHANNEL_CAPACITY);
        let channel = Arc::new(Channel {
            tx,
            wake: Notify::new(),
        });
        channels.insert(stream_id, Arc::clone(&channel));
        tokio::spawn(Arc::clone(self).tail(tenant_id, stream_id, channel, start));
        Ok(rx)
    }

    async fn tail(self: Arc<Self>, tenant_id: Uuid, stream_id: Uuid, channel: Arc<Channel>, mut last: i64) {
        loop {
            tokio::select! {
                _ = channel.wake.notified() => {}
                _ = tokio::time::sleep(self.poll) => {}
            }
            if channel.tx.receiver_count() == 0 && self.retire(stream_id, &channel) {
                return;
            }
            match self.read(tenant_id, stream_id, last).await {
                Ok(frames) => {
                    for frame in frames {
                        last = frame.seq;
                        // No receiver right now is fine: the next round retires the task.
                        let _ = channel.tx.send(frame);
                    }
                }
                Err(error) => tracing::warn!(stream = %stream_id, error = %error, "reading the live feed"),
            }
        }
    }

    /// Removes the channel if it still has no viewer; a viewer that
    /// subscribed meanwhile keeps it alive.
    fn retire(&self, stream_id: Uuid, channel: &Arc<Channel>) -> bool {
        let Ok(mut channels) = self.channels.lock() else {
            return false;
        };
        if channel.tx.receiver_count() > 0 {
            return false;
        }
        if channels.get(&stream_id).is_some_and(|c| Arc::ptr_eq(c, channel)) {
            channels.remove(&stream_id);
        }
        true
    }

    async fn read(&self, tenant_id: Uuid, stream_id: Uuid, mut last: i64) -> ApiResult<Vec<Frame>> {
        let txn = self.db.tenant(tenant_id, Access::Read).await?;
        let mut frames = Vec::new();
        loop {
            let rows = feed::after(&*txn, tenant_id, stream_id, last, BATCH).await?;
            let full = rows.len() as u64 == BATCH;
            for row in &rows {
                last = row.seq;
                frames.push(row_frame(row));
            }
            if !full {
                return Ok(frames);
            }
        }
    }
}

fn poisoned() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("the live feed registry lock is poisoned"))
}
