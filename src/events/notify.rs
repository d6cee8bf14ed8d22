//! Cross-process wake-ups on PostgreSQL: a change NOTIFYs in its own
//! transaction (delivered at commit), and every process LISTENs, so a feed
//! event or an outbox event written by one process wakes the feed fan-out
//! and the dispatcher of all of them at once instead of at their next poll.
//! Polling stays as the fallback (and is all SQLite, a single process, needs).

use std::time::Duration;

use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::error::ApiResult;
use crate::state::AppState;

/// Payload: the stream id whose feed grew.
pub const FEED: &str = "livemall_feed";
/// No payload: the outbox or the deliveries have work.
pub const EVENTS: &str = "livemall_events";

/// Queues a notification on `channel`, sent when `txn` commits.
pub async fn notify(txn: &TenantTxn, channel: &str, payload: &str) -> ApiResult<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [channel.into(), payload.into()],
        ))
        .await?;
    }
    Ok(())
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
