//! The dispatcher loop: due timers, then new outbox events, then due
//! deliveries, tenant by tenant. It sleeps `events.poll_ms` when a round
//! found nothing, unless a commit in this process wakes it earlier. Between
//! rounds that were not full it lets `events.gather_ms` pass, so that under
//! load one transaction routes the events of many commits instead of each
//! commit costing the database a dispatcher transaction of its own.

use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};
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

/// The tenants (at most [`TENANTS_PER_ROUND`]) with rows of `table` that
/// are due (`due`), read through an index of what is due.
fn distinct_tenants(table: &'static str, due: SimpleExpr) -> SelectStatement {
    Query::select()
        .distinct()
        .column(Alias::new("tenant_id"))
        .from(Alias::new(table))
        .and_where(due)
        .limit(TENANTS_PER_ROUND)
        .to_owned()
}

/// Tenants with events waiting to be routed, at most [`TENANTS_PER_ROUND`],
/// each found by one step in the index of waiting events
/// (`outbox_events_pending`): the next tenant id after the last one found.
/// A `DISTINCT` over that index reads every waiting event; under load,
/// once the dispatcher fell behind, each round then cost more the further
/// behind it was. The events' topics are left to [`route::route`].
pub fn tenants_with_new_events(backend: DbBackend) -> Statement {
    let sql = format!(
        "WITH RECURSIVE waiting (tenant_id, n) AS ( \
           SELECT (SELECT tenant_id FROM outbox_events WHERE dispatched_at IS NULL \
                   ORDER BY tenant_id LIMIT 1), 1 \
           UNION ALL \
           SELECT (SELECT o.tenant_id FROM outbox_events AS o WHERE o.dispatched_at IS NULL \
                   AND o.tenant_id > w.tenant_id ORDER BY o.tenant_id LIMIT 1), w.n + 1 \
           FROM waiting AS w WHERE w.tenant_id IS NOT NULL AND w.n < {TENANTS_PER_ROUND} \
         ) \
         SELECT tenant_id FROM waiting WHERE tenant_id IS NOT NULL"
    );
    Statement::from_string(backend, sql)
}

/// Tenants with due work of one kind. A platform read of tenant ids only,
/// before any tenant is known; the work itself runs in tenant transactions.
async fn with_work(state: &AppState, work: Work) -> ApiResult<Vec<Uuid>> {
    let now = chrono::Utc::now();
    let backend = state.db.backend();
    let statement = match work {
        Work::Timers => backend.build(&distinct_tenants(
            "plugin_timers",
            Expr::col(Alias::new("at_ms")).lte(now.timestamp_millis()),
        )),
        Work::Outbox => tenants_with_new_events(backend),
        Work::Deliveries => backend.build(&distinct_tenants(
            "event_deliveries",
            Expr::col(Alias::new("status"))
                .is_in(deliver::OPEN)
                .and(Expr::col(Alias::new("next_attempt_at")).lte(now)),
        )),
    };
    let txn = state.db.platform(Access::Read).await?;
    let rows: Vec<QueryResult> = txn.query_all_raw(statement).await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<Uuid>("", "tenant_id").ok())
        .collect())
}
