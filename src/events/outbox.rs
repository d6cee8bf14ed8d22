//! The transactional outbox: an event is a row written with the change it
//! reports, so it exists exactly when the change committed. On PostgreSQL
//! the commit also wakes every process's dispatcher.

use chrono::Utc;
use sea_orm::{EntityTrait, Set};
use serde::Serialize;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::outbox_events;
use crate::error::ApiResult;

/// Writes one event into `txn`; returns its id (UUIDv7, so ids sort by time).
pub async fn write(txn: &TenantTxn, topic: &str, aggregate_id: Uuid, payload: &impl Serialize) -> ApiResult<Uuid> {
    let id = Uuid::now_v7();
    outbox_events::Entity::insert(event(txn.tenant_id(), id, topic, aggregate_id, payload)?)
        .exec_without_returning(&**txn)
        .await?;
    super::notify::notify(txn, super::notify::EVENTS, "");
    Ok(id)
}

/// The row of event `id` (UUIDv7), for a caller that writes it with other
/// statements (and, on PostgreSQL, queues the notification itself).
pub fn event(
    tenant_id: Uuid,
    id: Uuid,
    topic: &str,
    aggregate_id: Uuid,
    payload: &impl Serialize,
) -> ApiResult<outbox_events::ActiveModel> {
    Ok(outbox_events::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(id),
        topic: Set(topic.to_string()),
        aggregate_id: Set(aggregate_id),
        payload: Set(serde_json::to_value(payload).map_err(anyhow::Error::from)?),
        created_at: Set(Utc::now()),
        dispatched_at: Set(None),
    })
}
