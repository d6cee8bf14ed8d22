//! The rest of an install's life: switched back on after the circuit
//! breaker, moved to the newest version, uninstalled.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};

use crate::db::TenantTxn;
use crate::entities::installs;
use crate::error::{ApiError, ApiResult};
use crate::marketplace::installs::checked_config;
use crate::marketplace::versions;
use crate::state::AppState;

/// Turns the install on: enabled, breaker closed here and (through the
/// cleared `breaker_open` flag) on every other node. Its call history stays.
pub async fn reenable(state: &AppState, txn: &TenantTxn, install: installs::Model) -> ApiResult<installs::Model> {
    let id = install.id;
    let mut active: installs::ActiveModel = install.into();
    active.enabled = Set(true);
    active.breaker_open = Set(false);
    active.breaker_reason = Set(None);
    active.updated_at = Set(Utc::now());
    let updated = active.update(&**txn).await?;
    state.breaker.reset(&id);
    Ok(updated)
}

/// Moves the install to the newest version of its plug-in (listed or not:
/// unlisting stops new installs, not fixes for existing ones). The
/// configuration, or `config` when given, is checked against the new
/// version's schema. Already on the newest version: nothing changes.
pub async fn upgrade(
    txn: &TenantTxn,
    install: installs::Model,
    config: Option<serde_json::Value>,
) -> ApiResult<installs::Model> {
    let newest = versions::newest(&**txn, install.plugin_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("plug-in {} has no version", install.plugin_id)))?;
    if newest.id == install.version_id && config.is_none() {
        return Ok(install);
    }
    let config = checked_config(&newest, config.as_ref().unwrap_or(&install.config))?;
    let mut active: installs::ActiveModel = install.into();
    active.version_id = Set(newest.id);
    active.config = Set(config);
    active.updated_at = Set(Utc::now());
    Ok(active.update(&**txn).await?)
}

/// Uninstalls: the install stops running and leaves the store's list; the
/// row and its calls stay as history, and the plug-in may be installed again.
pub async fn uninstall(txn: &TenantTxn, install: installs::Model) -> ApiResult<()> {
    if install.uninstalled_at.is_some() {
        return Ok(());
    }
    let now = Utc::now();
    let mut active: installs::ActiveModel = install.into();
    active.enabled = Set(false);
    active.uninstalled_at = Set(Some(now));
    active.updated_at = Set(now);
    active.update(&**txn).await?;
    Ok(())
}
