//! The dispatcher loop: due timers, then new outbox events, then due
//! deliveries, tenant by tenant. It sleeps `events.poll_ms` when a round
//! found nothing, unless a commit in this process wakes it earlier. Between
//! rounds that were not full it lets `events.gather_ms` pass, so that under
//! load one transaction routes the events of many commits instead of each
//! commit costing the database a dispatcher transaction of its own.

use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};
use uuid::Uuid;

use crate::db::Access;
use crate::error::ApiResult;
use crate::events::{deliver, route, timers};
use crate::state::AppState;

/// Tenants looked at per round and per kind of work.
const TENANTS_PER_ROUND: u64 = 32;

/// Starts the dispatcher on the current runtime.
pub fn spawn(state: AppState) {
    tokio::spawn(run(state));
}

async fn run(state: AppState) {
    let poll = Duration::from_millis(Ord::max(state.settings.events.poll_ms, 1));
    let gather = Duration::from_millis(state.settings.events.gather_ms);
    let full = usize::try_from(state.settings.events.batch).unwrap_or(usize::MAX);
    loop {
        let done = match round(&state).await {
            Ok(done) => done,
            Err(error) => {
                tracing::warn!(error = %error, "dispatcher round failed");
                0
            }
        };
        if done == 0 {
            tokio::select! {
                _ = state.events.wait() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
        if done < full && !gather.is_zero() {
            tokio::time::sleep(gather).await;
        }
    }
}

/// One pass over all the work that is due; returns how much was done.
pub async fn round(state: &AppState) -> ApiResult<usize> {
    let mut done = 0;
    for tenant in with_work(state, Work::Timers).await? {
        done += timers::fire_due(state, tenant).await?;
    }
    for tenant in with_work(state, Work::Outbox).await? {
        done += route::route(state, tenant).await?;
    }
    for tenant in with_work(state, Work::Deliveries).await? {
        done += deliver::deliver_due(state, tenant).await?;
    }
    Ok(done)
}

#[derive(Clone, Copy)]
enum Work {
    Timers,
    Outbox,
    Deliveries,
}

/// Tenants with due work of one kind. A platform read of tenant ids only,
/// before any tenant is known; the work itself runs in tenant transactions.
async fn with_work(state: &AppState, work: Work) -> ApiResult<Vec<Uuid>> {
    let now = chrono::Utc::now();
    let tenant = Alias::new("tenant_id");
    let mut query = Query::select();
    query.distinct().column(tenant.clone()).limit(TENANTS_PER_ROUND);
    match work {
        Work::Timers => query
            .from(Alias::new("plugin_timers"))
            .and_where(Expr::col(Alias::new("at_ms")).lte(now.timestamp_millis())),
        Work::Outbox => query
            .from(Alias::new("outbox_events"))
            .and_where(Expr::col(Alias::new("dispatched_at")).is_null())
            .and_where(Expr::col(Alias::new("topic")).is_in(route::topics())),
        Work::Deliveries => query
            .from(Alias::new("event_deliveries"))
            .and_where(Expr::col(Alias::new("status")).is_in(deliver::OPEN))
            .and_where(Expr::col(Alias::new("next_attempt_at")).lte(now)),
    };
    let txn = state.db.platform(Access::Read).await?;
    let backend: DbBackend = txn.get_database_backend();
    let rows: Vec<QueryResult> = txn.query_all_raw(backend.build(&query)).await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<Uuid>("", "tenant_id").ok())
        .collect())
}
