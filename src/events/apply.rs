//! Applying an async hook's effects inside the delivery's transaction:
//! broadcasts become feed rows, timers are set or cancelled, counter units
//! are released. A broadcast to a stream that is not of the install's store
//! is dropped (and logged): a plug-in reaches only its own store's viewers.

use std::collections::HashSet;

use chrono::Utc;
use livemall_abi::{CounterScope, Effects, Hook};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::Value;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{event_deliveries, plugin_timers, streams};
use crate::error::ApiResult;
use crate::live::feed;
use crate::orders::counters;
use crate::state::AppState;

/// What the committed effects ask this process to wake.
#[derive(Debug, Default)]
pub struct Applied {
    streams: HashSet<Uuid>,
    /// Streams a fired timer broadcast to: their live prices may have changed.
    timed: HashSet<Uuid>,
}

impl Applied {
    /// Wakes the feeds, then prices again the pinned products of the streams
    /// a fired timer spoke to (the end of a countdown changes a price).
    pub async fn announce(&self, state: &AppState, tenant_id: Uuid) {
        for stream in &self.streams {
            state.live.poke(*stream);
        }
        for stream in &self.timed {
            crate::live::prices::refresh_pinned(state, tenant_id, *stream).await;
        }
    }
}

/// The customer key of an order event (what per-customer counters count).
pub fn customer_key(hook: Hook, payload: &Value) -> Option<String> {
    match hook {
        Hook::OrderCreated | Hook::OrderPaid | Hook::OrderCancelled | Hook::OrderRefunded => {
            payload["order"]["customer"]["key"].as_str().map(str::to_string)
        }
        _ => None,
    }
}

pub async fn apply(
    state: &AppState,
    txn: &TenantTxn,
    delivery: &event_deliveries::Model,
    effects: &Effects,
    customer: Option<&str>,
    default_stream: Option<Uuid>,
    applied: &mut Applied,
) -> ApiResult<()> {
    let install_id = delivery.install_id;
    for broadcast in &effects.broadcasts {
        let target = match &broadcast.stream_id {
            Some(id) => id.parse::<Uuid>().ok(),
            None => default_stream,
        };
        let stream = match target {
            Some(id) => streams::Entity::find_by_id((txn.tenant_id(), id)).one(&**txn).await?,
            None => None,
        };
        match stream.filter(|s| s.store_id == delivery.store_id) {
            Some(stream) => {
                let window = state.settings.live.feed_window;
                feed::append(txn, stream.id, &broadcast.kind, broadcast.data.clone(), window).await?;
                applied.streams.insert(stream.id);
                if delivery.hook == Hook::TimerFired.as_str() {
                    applied.timed.insert(stream.id);
                }
            }
            None => {
                tracing::warn!(install = %install_id, kind = %broadcast.kind, "broadcast to no stream of the store dropped")
            }
        }
    }
    for key in &effects.cancel_timers {
        delete_timer(txn, install_id, key).await?;
    }
    for timer in &effects.timers {
        // Setting a key that is pending replaces it.
        delete_timer(txn, install_id, &timer.key).await?;
        plugin_timers::Entity::insert(plugin_timers::ActiveModel {
            tenant_id: Set(txn.tenant_id()),
            id: Set(Uuid::now_v7()),
            install_id: Set(install_id),
            key: Set(timer.key.clone()),
            at_ms: Set(timer.at_ms),
            payload: Set(timer.payload.clone()),
            created_at: Set(Utc::now()),
        })
        .exec_without_returning(&**txn)
        .await?;
    }
    for release in &effects.releases {
        let scope_key = match (release.scope, customer) {
            (CounterScope::Install, _) => counters::scope_key(CounterScope::Install, ""),
            (CounterScope::Customer, Some(key)) => counters::scope_key(CounterScope::Customer, key),
            // No customer in this event: nothing to release for one.
            (CounterScope::Customer, None) => continue,
        };
        let amount = i64::try_from(release.amount).unwrap_or(i64::MAX);
        counters::release(txn, install_id, &release.key, &scope_key, amount).await?;
    }
    Ok(())
}

async fn delete_timer(txn: &TenantTxn, install_id: Uuid, key: &str) -> ApiResult<()> {
    plugin_timers::Entity::delete_many()
        .filter(plugin_timers::Column::TenantId.eq(txn.tenant_id()))
        .filter(plugin_timers::Column::InstallId.eq(install_id))
        .filter(plugin_timers::Column::Key.eq(key))
        .exec(&**txn)
        .await?;
    Ok(())
}
