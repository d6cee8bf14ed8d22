//! Installs: a plug-in version at work in one store, with the merchant's
//! configuration and its place in the store's pipeline.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{installs, plugins};
use crate::error::{ApiError, ApiResult};
use crate::marketplace::schema::{ConfigErrors, Schema};
use crate::marketplace::versions::{self, VersionMeta};
use crate::state::AppState;
use crate::tenancy::stores::{self, StoreStatus};

impl From<ConfigErrors> for ApiError {
    fn from(errors: ConfigErrors) -> Self {
        ApiError::Unprocessable {
            code: "invalid_config",
            detail: "the configuration does not match the plug-in's schema".into(),
            errors: errors.0,
        }
    }
}

/// Checks `config` against the version's schema and fills in its defaults.
pub fn checked_config(version: &VersionMeta, config: &serde_json::Value) -> ApiResult<serde_json::Value> {
    let schema: Schema = version.schema()?;
    Ok(schema.validate(config)?)
}

/// The newest version of a listed plug-in; an unlisted one cannot be installed.
pub async fn latest_version(txn: &TenantTxn, plugin_id: Uuid) -> ApiResult<VersionMeta> {
    let plugin = plugins::Entity::find_by_id(plugin_id)
        .one(&**txn)
        .await?
        .filter(|p| p.listed)
        .ok_or(ApiError::NotFound)?;
    versions::newest(&**txn, plugin.id).await?.ok_or(ApiError::NotFound)
}

/// Installs the newest version of `plugin_id` in a store of the transaction's
/// tenant, enabled, with `config` checked against the version's schema (its
/// defaults filled in). One live install per plug-in and store.
pub async fn install(
    _state: &AppState,
    txn: &TenantTxn,
    store_id: Uuid,
    plugin_id: Uuid,
    config: serde_json::Value,
    priority: i32,
) -> ApiResult<Uuid> {
    let store = stores::find(txn, store_id).await?;
    if store.status == StoreStatus::Archived.as_str() {
        return Err(ApiError::conflict(
            "store_archived",
            "plug-ins cannot be installed in an archived store",
        ));
    }
    let version = latest_version(txn, plugin_id).await?;
    let config = checked_config(&version, &config)?;
    let existing = installs::Entity::find()
        .filter(installs::Column::TenantId.eq(txn.tenant_id()))
        .filter(installs::Column::StoreId.eq(store_id))
        .filter(installs::Column::PluginId.eq(plugin_id))
        .filter(installs::Column::UninstalledAt.is_null())
        .one(&**txn)
        .await?;
    if existing.is_some() {
        return Err(already_installed());
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
    .await
    .map_err(|e| match e.sql_err() {
        // Another install of the same plug-in committed first (the `installs_live` index).
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => already_installed(),
        _ => e.into(),
    })?;
    Ok(id)
}

fn already_installed() -> ApiError {
    ApiError::conflict("already_installed", "this plug-in is already installed in this store")
}

/// The install, if it belongs to this store of the transaction's tenant
/// (uninstalled ones included: their history stays readable).
pub async fn find(txn: &TenantTxn, store_id: Uuid, install_id: Uuid) -> ApiResult<installs::Model> {
    installs::Entity::find_by_id((txn.tenant_id(), install_id))
        .filter(installs::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The install, for changing it: an uninstalled one is history and stays as it was.
pub async fn find_live(txn: &TenantTxn, store_id: Uuid, install_id: Uuid) -> ApiResult<installs::Model> {
    let install = find(txn, store_id, install_id).await?;
    if install.uninstalled_at.is_some() {
        return Err(ApiError::conflict(
            "uninstalled",
            "this install was removed; install the plug-in again",
        ));
    }
    Ok(install)
}

/// What a merchant may change on an install.
#[derive(Debug, Default)]
pub struct Changes {
    pub config: Option<serde_json::Value>,
    pub priority: Option<i32>,
    pub enabled: Option<bool>,
}

/// Applies `changes`; a new configuration is checked against the schema of
/// the install's current version and replaces the old one whole.
pub async fn change(txn: &TenantTxn, install: installs::Model, changes: Changes) -> ApiResult<installs::Model> {
    let config = match &changes.config {
        Some(config) => {
            let version = versions::by_ids(&**txn, &[install.version_id])
                .await?
                .remove(&install.version_id)
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("install {} lost its version", install.id)))?;
            Some(checked_config(&version, config)?)
        }
        None => None,
    };
    let mut active: installs::ActiveModel = install.into();
    if let Some(config) = config {
        active.config = Set(config);
    }
    if let Some(priority) = changes.priority {
        active.priority = Set(priority);
    }
    if let Some(enabled) = changes.enabled {
        active.enabled = Set(enabled);
    }
    active.updated_at = Set(Utc::now());
    Ok(active.update(&**txn).await?)
}
