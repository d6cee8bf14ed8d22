//! Installs: a plug-in version at work in one store, with the merchant's
//! configuration and its place in the store's pipeline.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{installs, plugin_versions, plugins};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tenancy::stores;

/// The newest version of a listed plug-in.
pub async fn latest_version(txn: &TenantTxn, plugin_id: Uuid) -> ApiResult<plugin_versions::Model> {
    let plugin = plugins::Entity::find_by_id(plugin_id)
        .one(&**txn)
        .await?
        .filter(|p| p.listed);
    let plugin = plugin.ok_or(ApiError::NotFound)?;
    plugin_versions::Entity::find()
        .filter(plugin_versions::Column::PluginId.eq(plugin.id))
        .order_by_desc(plugin_versions::Column::Id)
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Installs the newest version of `plugin_id` in a store of the transaction's
/// tenant, enabled. One live install per plug-in and store.
pub async fn install(
    _state: &AppState,
    txn: &TenantTxn,
    store_id: Uuid,
    plugin_id: Uuid,
    config: serde_json::Value,
    priority: i32,
) -> ApiResult<Uuid> {
    stores::find(txn, store_id).await?;
    let version = latest_version(txn, plugin_id).await?;
    let existing = installs::Entity::find()
        .filter(installs::Column::TenantId.eq(txn.tenant_id()))
        .filter(installs::Column::StoreId.eq(store_id))
        .filter(installs::Column::PluginId.eq(plugin_id))
        .filter(installs::Column::UninstalledAt.is_null())
        .one(&**txn)
        .await?;
    if existing.is_some() {
        return Err(ApiError::conflict(
            "already_installed",
            "this plug-in is already installed in this store",
        ));
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    installs::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(id),
        store_id: Set(store_id),
        plugin_id: Set(plugin_id),
        version_id: Set(version.id),
        enabled: Set(true),
        config: Set(config),
        priority: Set(priority),
        breaker_open: Set(false),
        breaker_reason: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        uninstalled_at: Set(None),
    }
    .insert(&**txn)
    .await?;
    Ok(id)
}
