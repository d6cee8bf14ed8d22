//! Delivering: due deliveries are claimed, their hooks called, and each
//! outcome written with its effects in one transaction. On PostgreSQL the
//! claim's row locks (skipping rows another process holds) last from the
//! claim to the outcomes; on SQLite the plug-ins run outside any
//! transaction and an outcome is written only for a delivery still open as
//! it was read. A delivery waits while an earlier one of its lane to the
//! same install is still open, so a lane's events arrive in order.

use std::sync::Arc;

use chrono::{Duration, Utc};
use livemall_abi::{Hook, Input, InstallInfo, StoreInfo, TimerEvent, ABI_VERSION};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{ColumnTrait, Condition, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use crate::db::{Access, TenantTxn};
use crate::entities::{event_deliveries as rows, installs, outbox_events, stores};
use crate::error::ApiResult;
use crate::events::apply::{apply, customer_key, Applied};
use crate::marketplace::pipeline::{record_calls, ActiveInstall, CallRecord};
use crate::orders::counters;
use crate::plugin_host::{CallFailure, CallOutcome, CallRequest, Limits};
use crate::state::AppState;

/// Deliveries still to be made.
pub const OPEN: [&str; 2] = ["pending", "failed"];
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const DEAD: &str = "dead";

/// A claimed delivery, ready to call.
struct Job {
    row: rows::Model,
    install: Option<ActiveInstall>,
    input: Vec<u8>,
    customer: Option<String>,
    default_stream: Option<Uuid>,
}

/// A call's result; `None` when the install could not be called.
type Called = Option<Result<CallOutcome, CallFailure>>;

/// Delivers up to `events.batch` due deliveries of the tenant; returns how many were tried.
///
/// The claimed rows are the heads of their lanes, and a lane's next
/// deliveries follow in event order until one fails. Lanes advance side by
/// side: each step calls the next delivery of every lane at once, then
/// writes the outcomes with their effects in one transaction, and the next
/// step's inputs see them.
pub async fn deliver_due(state: &AppState, tenant_id: Uuid) -> ApiResult<usize> {
    let (tried, applied, done) = match state.db.backend() {
        DbBackend::Sqlite => deliver_in_turns(state, tenant_id).await?,
        _ => deliver_holding_lanes(state, tenant_id).await?,
    };
    applied.announce(state, tenant_id).await;
    let records: Vec<CallRecord<'_>> = done
        .iter()
        .filter_map(|(job, result)| {
            let install = job.install.as_ref()?;
            let result = result.as_ref()?;
            Some(CallRecord {
                install,
                hook: Hook::parse(&job.row.hook)?,
                result,
            })
        })
        .collect();
    if let Err(error) = record_calls(state, tenant_id, &records).await {
        tracing::warn!(error = %error, "recording async hook calls failed");
    }
    Ok(tried)
}

/// What a run of deliveries leaves: how many were tried, what their
/// effects touched, and the calls made with their results.
type Delivered = (usize, Applied, Vec<(Job, Called)>);

/// PostgreSQL: one transaction whose locks own the claimed lanes (rows
/// another process holds are skipped), the plug-ins called inside it.
async fn deliver_holding_lanes(state: &AppState, tenant_id: Uuid) -> ApiResult<Delivered> {
    let txn = state.db.tenant(tenant_id, Access::Write).await?;
    let mut lanes = lanes(state, &txn).await?;
    let mut done = Vec::new();
    let mut applied = Applied::default();
    let mut open: Vec<usize> = (0..lanes.len()).collect();
    while !open.is_empty() {
        let step = next_step(state, &txn, &mut lanes, &open).await?;
        let results = futures_util::future::join_all(step.iter().map(|(_, job)| call(state, job))).await;
        open = write_step(state, &txn, step, results, &mut applied, &mut done).await?;
    }
    let tried = done.len();
    txn.commit().await?;
    Ok((tried, applied, done))
}

/// SQLite: each step read on a reader, its plug-ins called with no
/// transaction open, and its outcomes written in a turn at the writer of
/// their own, so no checkout waits for the writer while a plug-in runs. A
/// delivery is settled only if it is still open with the attempts it was
/// read with; one another run settled meanwhile is dropped with its effects.
async fn deliver_in_turns(state: &AppState, tenant_id: Uuid) -> ApiResult<Delivered> {
    let mut lanes = lanes(state, &state.db.tenant(tenant_id, Access::Read).await?).await?;
    let mut done = Vec::new();
    let mut applied = Applied::default();
    let mut open: Vec<usize> = (0..lanes.len()).collect();
    while !open.is_empty() {
        let step = next_step(
            state,
            &state.db.tenant(tenant_id, Access::Read).await?,
            &mut lanes,
            &open,
        )
        .await?;
        let results = futures_util::future::join_all(step.iter().map(|(_, job)| call(state, job))).await;
        let written = async {
            let txn = state.db.tenant(tenant_id, Access::Write).await?;
            let open = write_step(state, &txn, step, results, &mut applied, &mut done).await?;
            txn.commit().await?;
            ApiResult::Ok(open)
        };
        match written.await {
            Ok(next) => open = next,
            Err(error) => {
                // The steps before it are committed: their viewers are told.
                applied.announce(state, tenant_id).await;
                return Err(error);
            }
        }
    }
    Ok((done.len(), applied, done))
}

/// The due lanes: each claimed head with the open deliveries after it.
async fn lanes(state: &AppState, txn: &TenantTxn) -> ApiResult<Vec<std::vec::IntoIter<rows::Model>>> {
    let heads = claim(state, txn).await?;
    let mut lanes = Vec::with_capacity(heads.len());
    for head in heads {
        lanes.push(lane(state, txn, head).await?.into_iter());
    }
    Ok(lanes)
}

/// The next delivery of every open lane, ready to call.
async fn next_step(
    state: &AppState,
    txn: &TenantTxn,
    lanes: &mut [std::vec::IntoIter<rows::Model>],
    open: &[usize],
) -> ApiResult<Vec<(usize, Job)>> {
    let mut step = Vec::with_capacity(open.len());
    for &i in open {
        if let Some(row) = lanes[i].next() {
            step.push((i, prepare(state, txn, row).await?));
        }
    }
    Ok(step)
}

/// Writes a step's outcomes and the effects of its successful calls;
/// answers the lanes that go on (those whose delivery succeeded).
async fn write_step(
    state: &AppState,
    txn: &TenantTxn,
    step: Vec<(usize, Job)>,
    results: Vec<Called>,
    applied: &mut Applied,
    done: &mut Vec<(Job, Called)>,
) -> ApiResult<Vec<usize>> {
    let mut open = Vec::new();
    for ((i, job), result) in step.into_iter().zip(results) {
        let outcome = match &result {
            Some(Ok(_)) => Ok(()),
            Some(Err(failure)) => Err(format!("{}: {}", failure.code(), failure.error())),
            None => Err("the install is switched off or removed".to_string()),
        };
        if !settle(state, txn, &job.row, outcome).await? {
            continue;
        }
        if let Some(Ok(ok)) = &result {
            let customer = job.customer.as_deref();
            apply(state, txn, &job.row, &ok.effects, customer, job.default_stream, applied).await?;
            open.push(i);
        }
        done.push((job, result));
    }
    Ok(open)
}

/// Calls the job's hook; `None` when the install cannot be called.
async fn call(state: &AppState, job: &Job) -> Called {
    let install = job.install.as_ref()?;
    let hook = Hook::parse(&job.row.hook)?;
    let request = CallRequest::new(hook, job.input.clone());
    let host = Arc::clone(&state.host);
    Some(
        host.call_async(Arc::clone(&install.plugin), request, Limits::default())
            .await,
    )
}

/// The head and the open deliveries after it in its lane, in event order,
/// up to the first that is not due yet and at most `events.batch`.
async fn lane(state: &AppState, txn: &TenantTxn, head: rows::Model) -> ApiResult<Vec<rows::Model>> {
    let followers = rows::Entity::find()
        .filter(rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(rows::Column::InstallId.eq(head.install_id))
        .filter(rows::Column::Lane.eq(head.lane))
        .filter(rows::Column::Status.is_in(OPEN))
        .filter(rows::Column::EventId.gt(head.event_id))
        .order_by_asc(rows::Column::EventId)
        .limit(state.settings.events.batch.saturating_sub(1))
        .lock(LockType::Update)
        .all(&**txn)
        .await?;
    let now = Utc::now();
    let mut lane = vec![head];
    lane.extend(followers.into_iter().take_while(|r| r.next_attempt_at <= now));
    Ok(lane)
}

async fn claim(state: &AppState, txn: &TenantTxn) -> ApiResult<Vec<rows::Model>> {
    let earlier = Alias::new("earlier");
    let outer = Alias::new("event_deliveries");
    let blocking = Query::select()
        .expr(Expr::val(1))
        .from_as(rows::Entity, earlier.clone())
        .and_where(Expr::col((earlier.clone(), rows::Column::TenantId)).equals((outer.clone(), rows::Column::TenantId)))
        .and_where(
            Expr::col((earlier.clone(), rows::Column::InstallId)).equals((outer.clone(), rows::Column::InstallId)),
        )
        .and_where(Expr::col((earlier.clone(), rows::Column::Lane)).equals((outer.clone(), rows::Column::Lane)))
        .and_where(Expr::col((earlier.clone(), rows::Column::EventId)).lt(Expr::col((outer, rows::Column::EventId))))
        .and_where(Expr::col((earlier, rows::Column::Status)).is_in(OPEN))
        .to_owned();
    Ok(rows::Entity::find()
        .filter(rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(rows::Column::Status.is_in(OPEN))
        .filter(rows::Column::NextAttemptAt.lte(Utc::now()))
        .filter(Condition::all().not().add(Expr::exists(blocking)))
        .order_by_asc(rows::Column::EventId)
        .limit(state.settings.events.batch)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&**txn)
        .await?)
}

async fn prepare(state: &AppState, txn: &TenantTxn, row: rows::Model) -> ApiResult<Job> {
    let tenant = txn.tenant_id();
    let event = outbox_events::Entity::find_by_id((tenant, row.event_id))
        .one(&**txn)
        .await?;
    let install = installs::Entity::find_by_id((tenant, row.install_id))
        .one(&**txn)
        .await?;
    let store = stores::Entity::find_by_id((tenant, row.store_id)).one(&**txn).await?;
    let (Some(event), Some(install), Some(store), Some(hook)) = (event, install, store, Hook::parse(&row.hook)) else {
        return Ok(Job {
            row,
            install: None,
            input: Vec::new(),
            customer: None,
            default_stream: None,
        });
    };
    let live = install.enabled && !install.breaker_open && install.uninstalled_at.is_none();
    let customer = customer_key(hook, &event.payload);
    let default_stream = default_stream(hook, &event);
    let active = if live {
        let plugin = state.modules.get(&state.host, &**txn, install.version_id).await?;
        Some(ActiveInstall {
            install_id: install.id,
            plugin_id: install.plugin_id,
            plugin_slug: String::new(),
            version_id: install.version_id,
            version: String::new(),
            priority: install.priority,
            config: install.config.clone(),
            plugin,
        })
    } else {
        None
    };
    let mut seen = counters::visible(txn, &[install.id], customer.as_deref()).await?;
    let event_doc = match hook {
        Hook::TimerFired => serde_json::to_value(timer_event(&event.payload)).map_err(anyhow::Error::from)?,
        _ => event.payload.clone(),
    };
    let input = Input {
        abi: ABI_VERSION,
        hook,
        event_id: Some(event.id.to_string()),
        now_ms: Utc::now().timestamp_millis(),
        store: StoreInfo {
            id: store.id.to_string(),
            currency: store.currency,
            time_zone: store.time_zone,
        },
        install: InstallInfo {
            id: install.id.to_string(),
            config: install.config,
        },
        counters: seen.remove(&install.id).unwrap_or_default(),
        event: event_doc,
    };
    Ok(Job {
        row,
        install: active,
        input: serde_json::to_vec(&input).map_err(anyhow::Error::from)?,
        customer,
        default_stream,
    })
}

/// The stream a broadcast goes to when it names none.
fn default_stream(hook: Hook, event: &outbox_events::Model) -> Option<Uuid> {
    match hook {
        Hook::TimerFired => None,
        Hook::OrderCreated | Hook::OrderPaid | Hook::OrderCancelled | Hook::OrderRefunded => event.payload["order"]
            ["stream_id"]
            .as_str()
            .and_then(|s| s.parse().ok()),
        _ => Some(event.aggregate_id),
    }
}

fn timer_event(payload: &Value) -> TimerEvent {
    TimerEvent {
        key: payload["key"].as_str().unwrap_or_default().to_string(),
        at_ms: payload["at_ms"].as_i64().unwrap_or_default(),
        payload: payload["payload"].clone(),
    }
}

/// Writes the outcome of one try: delivered, or failed with the next try
/// after `backoff * 2^(attempts-1)`, or dead after the last try. Answers
/// false, writing nothing, when the delivery is no longer open with the
/// attempts it was read with (another run settled it).
async fn settle(state: &AppState, txn: &TenantTxn, row: &rows::Model, outcome: Result<(), String>) -> ApiResult<bool> {
    let settings = &state.settings.events;
    let attempts = row.attempts + 1;
    let now = Utc::now();
    let mut update = rows::Entity::update_many()
        .col_expr(rows::Column::Attempts, Expr::value(attempts))
        .filter(rows::Column::TenantId.eq(row.tenant_id))
        .filter(rows::Column::Id.eq(row.id))
        .filter(rows::Column::Attempts.eq(row.attempts))
        .filter(rows::Column::Status.is_in(OPEN));
    update = match outcome {
        Ok(()) => update
            .col_expr(rows::Column::Status, Expr::value(DELIVERED))
            .col_expr(rows::Column::DeliveredAt, Expr::value(now)),
        Err(message) if attempts >= settings.max_attempts => update
            .col_expr(rows::Column::Status, Expr::value(DEAD))
            .col_expr(rows::Column::LastError, Expr::value(message)),
        Err(message) => {
            let shift = Ord::min(u32::try_from(attempts - 1).unwrap_or(0), 20);
            let wait = settings.backoff_ms.saturating_mul(1u64 << shift);
            update
                .col_expr(rows::Column::Status, Expr::value(FAILED))
                .col_expr(rows::Column::LastError, Expr::value(message))
                .col_expr(
                    rows::Column::NextAttemptAt,
                    Expr::value(now + Duration::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX))),
                )
        }
    };
    Ok(update.exec(&**txn).await?.rows_affected == 1)
}
