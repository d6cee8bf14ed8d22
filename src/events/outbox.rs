//! The transactional outbox: an event is a row written with the change it
//! reports, so it exists exactly when the change committed. On PostgreSQL
//! the commit also wakes every process's dispatcher.

use chrono::Utc;
use sea_orm::{EntityTrait, IntoActiveModel};
use serde::Serialize;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::outbox_events;
use crate::error::ApiResult;

/// Writes one event into `txn`; returns its id (UUIDv7, so ids sort by time).
pub async fn write(txn: &TenantTxn, topic: &str, aggregate_id: Uuid, payload: &impl Serialize) -> ApiResult<Uuid> {
    let id = Uuid::now_v7();
    outbox_events::Entity::insert(event(txn.tenant_id(), id, topic, aggregate_id, payload)?.into_active_model())
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
) -> ApiResult<outbox_events::Model> {
    Ok(outbox_events::Model {
        tenant_id,
        id,
        topic: topic.to_string(),
        aggregate_id,
        payload: serde_json::to_value(payload).map_err(anyhow::Error::from)?,
        created_at: Utc::now(),
        dispatched_at: None,
    })
}
