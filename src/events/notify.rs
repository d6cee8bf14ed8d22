//! Cross-process wake-ups on PostgreSQL: a change queues a NOTIFY that is
//! sent once its transaction commits ([`Notifier`]), and every process
//! LISTENs, so a feed event or an outbox event written by one process wakes
//! the feed fan-out and the dispatcher of all of them at once instead of at
//! their next poll.
//! Polling stays as the fallback (and is all SQLite, a single process, needs).

use std::sync::OnceLock;
use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::state::AppState;

/// Payload: the stream id whose feed grew.
pub const FEED: &str = "livemall_feed";
/// No payload: the outbox or the deliveries have work.
pub const EVENTS: &str = "livemall_events";

/// Queues a notification on `channel`, sent after `txn` commits.
pub fn notify(txn: &TenantTxn, channel: &'static str, payload: &str) {
    txn.notify_on_commit(channel, payload.to_string());
}

/// Most notifications one statement sends.
const BATCH: usize = 64;

/// Sends committed transactions' notifications from outside them.
///
/// A PostgreSQL transaction that NOTIFYs takes a database-wide lock when it
/// commits and holds it through the commit's WAL flush, so every checkout
/// that notified in its own transaction committed one at a time. Here a
/// transaction only queues its notifications; after it commits they go to
/// one task that sends what has gathered (duplicates once) in a single
/// `SELECT pg_notify(..), ..` on a pooled connection. A process that stops
/// between a commit and the send loses the wake-up, not the work: listeners
/// also poll.
#[derive(Debug)]
pub struct Notifier {
    conn: DatabaseConnection,
    queue: OnceLock<mpsc::UnboundedSender<(&'static str, String)>>,
}

impl Notifier {
    pub fn new(conn: DatabaseConnection) -> Notifier {
        Notifier {
            conn,
            queue: OnceLock::new(),
        }
    }

    /// Queues notifications; the sending task starts on first use (inside the runtime).
    pub fn send(&self, notes: Vec<(&'static str, String)>) {
        if notes.is_empty() {
            return;
        }
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(run(self.conn.clone(), rx));
            tx
        });
        for note in notes {
            // Only fails once the task is gone, when the runtime shuts down.
            let _ = queue.send(note);
        }
    }
}

async fn run(conn: DatabaseConnection, mut rx: mpsc::UnboundedReceiver<(&'static str, String)>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(note) => {
                    if !batch.contains(&note) {
                        batch.push(note);
                    }
                }
                Err(_) => break,
            }
        }
        let calls: Vec<String> = (0..batch.len())
            .map(|i| format!("pg_notify(${}, ${})", 2 * i + 1, 2 * i + 2))
            .collect();
        let values = batch
            .into_iter()
            .flat_map(|(channel, payload)| [channel.into(), payload.into()]);
        let sql = format!("SELECT {}", calls.join(", "));
        let statement = Statement::from_sql_and_values(DbBackend::Postgres, sql, values);
        if let Err(error) = conn.execute_raw(statement).await {
            tracing::warn!(error = %error, "sending notifications; listeners poll meanwhile");
        }
    }
}

/// Listens for the notifications of every process (PostgreSQL only).
pub fn spawn_listener(state: AppState) {
    if state.db.backend() != DbBackend::Postgres {
        return;
    }
    tokio::spawn(async move {
        let url = state.settings.database_url();
        loop {
            if let Err(error) = listen(&state, &url).await {
                tracing::warn!(error = %error, "listening for notifications; polling meanwhile");
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
}

async fn listen(state: &AppState, url: &str) -> anyhow::Result<()> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen_all([FEED, EVENTS]).await?;
    loop {
        let note = listener.recv().await?;
        if note.channel() == FEED {
            if let Ok(stream_id) = note.payload().parse::<Uuid>() {
                state.live.poke(stream_id);
            }
        } else {
            state.events.wake();
        }
    }
}
