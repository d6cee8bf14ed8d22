//! Routing: each new outbox event becomes one delivery per subscribed
//! install, and is marked dispatched, in one transaction. Order events of
//! a live stream also put the stock left of its pinned products on the
//! feed, once per product for the batch.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use chrono::Utc;
use livemall_abi::{Hook, OrderEvent};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::db::{Access, TenantTxn};
use crate::entities::{event_deliveries, installs, orders, outbox_events, streams};
use crate::error::ApiResult;
use crate::live::prices::stock_event;
use crate::live::streams::{pinned, LIVE};
use crate::marketplace::pipeline::installs_for;
use crate::state::AppState;

pub const PENDING: &str = "pending";

/// Topics this dispatcher routes: the async hooks. Other outbox topics are
/// left for their own consumers.
pub fn topics() -> Vec<&'static str> {
    Hook::ALL.iter().filter(|h| !h.is_sync()).map(|h| h.as_str()).collect()
}

/// Where an event goes: its store, its lane, and (for a timer) its one install.
#[derive(Clone, Copy)]
struct Target {
    store_id: Uuid,
    lane: Uuid,
    only: Option<Uuid>,
    /// The live stream of an order event, if it came from one.
    stream: Option<Uuid>,
}

/// Routes up to `events.batch` new events of the tenant; returns how many.
///
/// The batch is read with a few queries whatever its size: the targets of
/// its events at once, each store's installs once per hook, every delivery
/// in one insert and every event marked dispatched in one update. Most
/// events (an order in a store without async plug-ins) route to nothing.
pub async fn route(state: &AppState, tenant_id: Uuid) -> ApiResult<usize> {
    let txn = state.db.tenant(tenant_id, Access::Write).await?;
    let events = outbox_events::Entity::find()
        .filter(outbox_events::Column::TenantId.eq(tenant_id))
        .filter(outbox_events::Column::DispatchedAt.is_null())
        .filter(outbox_events::Column::Topic.is_in(topics()))
        .order_by_asc(outbox_events::Column::Id)
        .limit(state.settings.events.batch)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&*txn)
        .await?;
    if events.is_empty() {
        return Ok(0);
    }
    let targets = targets(&txn, &events).await?;
    let mut installs: HashMap<(Uuid, Hook), Vec<Uuid>> = HashMap::new();
    let mut deliveries = Vec::new();
    // Per live stream, the products its orders in this batch took or gave back.
    let mut ordered: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let now = Utc::now();
    for event in &events {
        let (Some(hook), Some(target)) = (Hook::parse(&event.topic), targets.get(&event.id)) else {
            continue;
        };
        let subscribed = match installs.entry((target.store_id, hook)) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(slot) => {
                let found = installs_for(state, &txn, target.store_id, hook).await?;
                slot.insert(found.into_iter().map(|i| i.install_id).collect())
            }
        };
        for install_id in subscribed.iter().filter(|i| target.only.is_none_or(|only| only == **i)) {
            deliveries.push(delivery(&txn, hook, event, target, *install_id, now));
        }
        if let (Hook::OrderCreated | Hook::OrderCancelled, Some(stream)) = (hook, target.stream) {
            let products = ordered.entry(stream).or_default();
            for product in products_of(event) {
                if !products.contains(&product) {
                    products.push(product);
                }
            }
        }
    }
    let mut touched = HashSet::new();
    for (stream, products) in &ordered {
        touched.extend(stock_on_feed(state, &txn, *stream, products).await?);
    }
    for chunk in deliveries.chunks(500) {
        event_deliveries::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&*txn)
            .await?;
    }
    outbox_events::Entity::update_many()
        .col_expr(outbox_events::Column::DispatchedAt, Expr::value(now))
        .filter(outbox_events::Column::TenantId.eq(tenant_id))
        .filter(outbox_events::Column::Id.is_in(events.iter().map(|e| e.id)))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    for stream_id in touched {
        state.live.poke(stream_id);
    }
    if !deliveries.is_empty() {
        state.events.wake();
    }
    Ok(events.len())
}

/// The target of each event that has one, read with one query per kind of aggregate.
async fn targets(txn: &TenantTxn, events: &[outbox_events::Model]) -> ApiResult<HashMap<Uuid, Target>> {
    let tenant = txn.tenant_id();
    let (mut timers, mut orders_of, mut streams_of) = (Vec::new(), Vec::new(), Vec::new());
    for event in events {
        match Hook::parse(&event.topic) {
            Some(Hook::TimerFired) => timers.push(event.aggregate_id),
            Some(Hook::OrderCreated | Hook::OrderPaid | Hook::OrderCancelled | Hook::OrderRefunded) => {
                orders_of.push(event.aggregate_id)
            }
            Some(_) => streams_of.push(event.aggregate_id),
            None => {}
        }
    }
    let mut by_aggregate: HashMap<Uuid, Target> = HashMap::new();
    if !timers.is_empty() {
        for i in installs::Entity::find()
            .filter(installs::Column::TenantId.eq(tenant))
            .filter(installs::Column::Id.is_in(timers))
            .all(&**txn)
            .await?
        {
            let target = Target {
                store_id: i.store_id,
                lane: i.id,
                only: Some(i.id),
                stream: None,
            };
            by_aggregate.insert(i.id, target);
        }
    }
    if !orders_of.is_empty() {
        let rows: Vec<(Uuid, Uuid, Option<Uuid>)> = orders::Entity::find()
            .select_only()
            .columns([orders::Column::Id, orders::Column::StoreId, orders::Column::StreamId])
            .filter(orders::Column::TenantId.eq(tenant))
            .filter(orders::Column::Id.is_in(orders_of))
            .into_tuple()
            .all(&**txn)
            .await?;
        for (id, store_id, stream) in rows {
            let target = Target {
                store_id,
                lane: stream.unwrap_or(id),
                only: None,
                stream,
            };
            by_aggregate.insert(id, target);
        }
    }
    if !streams_of.is_empty() {
        for s in streams::Entity::find()
            .filter(streams::Column::TenantId.eq(tenant))
            .filter(streams::Column::Id.is_in(streams_of))
            .all(&**txn)
            .await?
        {
            let target = Target {
                store_id: s.store_id,
                lane: s.id,
                only: None,
                stream: None,
            };
            by_aggregate.insert(s.id, target);
        }
    }
    Ok(events
        .iter()
        .filter_map(|e| by_aggregate.get(&e.aggregate_id).map(|t| (e.id, *t)))
        .collect())
}

fn delivery(
    txn: &TenantTxn,
    hook: Hook,
    event: &outbox_events::Model,
    target: &Target,
    install_id: Uuid,
    now: chrono::DateTime<Utc>,
) -> event_deliveries::ActiveModel {
    event_deliveries::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        event_id: Set(event.id),
        hook: Set(hook.as_str().to_string()),
        install_id: Set(install_id),
        store_id: Set(target.store_id),
        lane: Set(target.lane),
        status: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    }
}

/// The products an order event's lines name.
fn products_of(event: &outbox_events::Model) -> Vec<Uuid> {
    serde_json::from_value::<OrderEvent>(event.payload.clone())
        .map(|order| {
            order
                .order
                .lines
                .iter()
                .filter_map(|line| line.product_id.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Puts the stock left of each of `products` that the stream has pinned on
/// its feed, if it is live: one stock event per product for the whole
/// batch, as every order of the batch would have read the same stock here.
/// Returns the stream when it wrote something.
async fn stock_on_feed(
    state: &AppState,
    txn: &TenantTxn,
    stream_id: Uuid,
    products: &[Uuid],
) -> ApiResult<Option<Uuid>> {
    let Some(stream) = streams::Entity::find_by_id((txn.tenant_id(), stream_id))
        .one(&**txn)
        .await?
    else {
        return Ok(None);
    };
    if stream.status != LIVE {
        return Ok(None);
    }
    let pins = pinned(txn, stream.id).await?;
    let mut wrote = false;
    for product_id in products {
        if pins.iter().any(|p| p.product_id == *product_id) {
            stock_event(txn, stream.id, *product_id, state.settings.live.feed_window).await?;
            wrote = true;
        }
    }
    Ok(wrote.then_some(stream.id))
}
