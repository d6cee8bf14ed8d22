//! Routing: each new outbox event becomes one delivery per subscribed
//! install, and is marked dispatched, in one transaction. Order events of
//! a live stream also put the stock left of its pinned products on the feed.

use std::collections::HashSet;

use chrono::Utc;
use livemall_abi::{Hook, OrderEvent};
use sea_orm::sea_query::{LockBehavior, LockType};
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
struct Target {
    store_id: Uuid,
    lane: Uuid,
    only: Option<Uuid>,
}

/// Routes up to `events.batch` new events of the tenant; returns how many.
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
    let mut touched = HashSet::new();
    for event in &events {
        if let Some(hook) = Hook::parse(&event.topic) {
            if let Some(target) = target(&txn, hook, event).await? {
                fan_out(state, &txn, hook, event, &target).await?;
                if hook == Hook::OrderCreated || hook == Hook::OrderCancelled {
                    touched.extend(stock_on_feed(state, &txn, event, target.lane).await?);
                }
            }
        }
        outbox_events::Entity::update_many()
            .col_expr(
                outbox_events::Column::DispatchedAt,
                sea_orm::sea_query::Expr::value(Utc::now()),
            )
            .filter(outbox_events::Column::TenantId.eq(tenant_id))
            .filter(outbox_events::Column::Id.eq(event.id))
            .exec(&*txn)
            .await?;
    }
    txn.commit().await?;
    for stream_id in touched {
        state.live.poke(stream_id);
    }
    if !events.is_empty() {
        state.events.wake();
    }
    Ok(events.len())
}

async fn target(txn: &TenantTxn, hook: Hook, event: &outbox_events::Model) -> ApiResult<Option<Target>> {
    let tenant = txn.tenant_id();
    Ok(match hook {
        Hook::TimerFired => {
            let install_id = event.aggregate_id;
            installs::Entity::find_by_id((tenant, install_id))
                .one(&**txn)
                .await?
                .map(|i| Target {
                    store_id: i.store_id,
                    lane: install_id,
                    only: Some(install_id),
                })
        }
        Hook::OrderCreated | Hook::OrderPaid | Hook::OrderCancelled | Hook::OrderRefunded => {
            orders::Entity::find_by_id((tenant, event.aggregate_id))
                .one(&**txn)
                .await?
                .map(|o| Target {
                    store_id: o.store_id,
                    lane: o.stream_id.unwrap_or(o.id),
                    only: None,
                })
        }
        _ => streams::Entity::find_by_id((tenant, event.aggregate_id))
            .one(&**txn)
            .await?
            .map(|s| Target {
                store_id: s.store_id,
                lane: s.id,
                only: None,
            }),
    })
}

async fn fan_out(
    state: &AppState,
    txn: &TenantTxn,
    hook: Hook,
    event: &outbox_events::Model,
    target: &Target,
) -> ApiResult<()> {
    let now = Utc::now();
    let rows: Vec<event_deliveries::ActiveModel> = installs_for(state, txn, target.store_id, hook)
        .await?
        .into_iter()
        .filter(|i| target.only.is_none_or(|only| only == i.install_id))
        .map(|i| event_deliveries::ActiveModel {
            tenant_id: Set(txn.tenant_id()),
            id: Set(Uuid::now_v7()),
            event_id: Set(event.id),
            hook: Set(hook.as_str().to_string()),
            install_id: Set(i.install_id),
            store_id: Set(target.store_id),
            lane: Set(target.lane),
            status: Set(PENDING.into()),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
        })
        .collect();
    if !rows.is_empty() {
        event_deliveries::Entity::insert_many(rows)
            .exec_without_returning(&**txn)
            .await?;
    }
    Ok(())
}

/// After an order of a live stream, the stock left of its pinned products
/// that the order changed; returns the stream when it wrote something.
async fn stock_on_feed(
    state: &AppState,
    txn: &TenantTxn,
    event: &outbox_events::Model,
    lane: Uuid,
) -> ApiResult<Option<Uuid>> {
    let Some(stream) = streams::Entity::find_by_id((txn.tenant_id(), lane)).one(&**txn).await? else {
        return Ok(None);
    };
    if stream.status != LIVE {
        return Ok(None);
    }
    let Ok(order) = serde_json::from_value::<OrderEvent>(event.payload.clone()) else {
        return Ok(None);
    };
    let pins = pinned(txn, stream.id).await?;
    let mut wrote = false;
    let mut seen = HashSet::new();
    for line in &order.order.lines {
        let Ok(product_id) = line.product_id.parse::<Uuid>() else {
            continue;
        };
        if pins.contains(&product_id) && seen.insert(product_id) {
            stock_event(txn, stream.id, product_id, state.settings.live.feed_window).await?;
            wrote = true;
        }
    }
    Ok(wrote.then_some(stream.id))
}
