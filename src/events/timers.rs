//! Plug-in timers: rows with a due time. A due timer is claimed (skipping
//! rows another process holds), deleted and turned into a `timer.fired`
//! outbox event in one transaction, so it fires once, also across restarts.

use sea_orm::sea_query::{LockBehavior, LockType};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use uuid::Uuid;

use crate::db::Access;
use crate::entities::plugin_timers;
use crate::error::ApiResult;
use crate::events::outbox;
use crate::state::AppState;

/// Fires the tenant's due timers; returns how many.
pub async fn fire_due(state: &AppState, tenant_id: Uuid) -> ApiResult<usize> {
    let txn = state.db.tenant(tenant_id, Access::Write).await?;
    let due = plugin_timers::Entity::find()
        .filter(plugin_timers::Column::TenantId.eq(tenant_id))
        .filter(plugin_timers::Column::AtMs.lte(chrono::Utc::now().timestamp_millis()))
        .order_by_asc(plugin_timers::Column::AtMs)
        .limit(state.settings.events.batch)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .all(&*txn)
        .await?;
    for timer in &due {
        plugin_timers::Entity::delete_by_id((tenant_id, timer.id))
            .exec(&*txn)
            .await?;
        let payload = json!({
            "install_id": timer.install_id,
            "key": timer.key,
            "at_ms": timer.at_ms,
            "payload": timer.payload,
        });
        outbox::write(&txn, "timer.fired", timer.install_id, &payload).await?;
    }
    txn.commit().await?;
    Ok(due.len())
}
