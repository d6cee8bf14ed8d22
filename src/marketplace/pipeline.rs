//! What the request paths need from the marketplace: the store's installs
//! for a hook, in pipeline order, and a record of every call they make.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use livemall_abi::Hook;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::db::{Access, TenantTxn};
use crate::entities::{install_calls, installs, plugins};
use crate::error::ApiResult;
use crate::marketplace::versions;
use crate::plugin_host::{CallFailure, CallOutcome, FailureRecord, Plugin, Usage};
use crate::state::AppState;

/// An enabled install, ready to be called.
#[derive(Debug, Clone)]
pub struct ActiveInstall {
    pub install_id: Uuid,
    pub plugin_id: Uuid,
    pub plugin_slug: String,
    pub version_id: Uuid,
    pub version: String,
    pub priority: i32,
    pub config: serde_json::Value,
    pub plugin: Arc<Plugin>,
}

/// Enabled installs of the store whose plug-in exports `hook`, lower
/// priority first, ties by install id; installs switched off by the circuit
/// breaker (here or on another node) are left out.
pub async fn installs_for(
    state: &AppState,
    txn: &TenantTxn,
    store_id: Uuid,
    hook: Hook,
) -> ApiResult<Vec<ActiveInstall>> {
    let rows = installs::Entity::find()
        .filter(installs::Column::TenantId.eq(txn.tenant_id()))
        .filter(installs::Column::StoreId.eq(store_id))
        .filter(installs::Column::Enabled.eq(true))
        .filter(installs::Column::BreakerOpen.eq(false))
        .filter(installs::Column::UninstalledAt.is_null())
        .order_by_asc(installs::Column::Priority)
        .order_by_asc(installs::Column::Id)
        .all(&**txn)
        .await?;
    if rows.is_empty() || !crate::billing::limits::plugins_may_run(txn).await? {
        return Ok(Vec::new());
    }
    remember_labels(state, txn, &rows).await?;
    let mut active = Vec::with_capacity(rows.len());
    for row in rows {
        // The row is the truth: its breaker is closed, so if this node still
        // holds it open, the merchant re-enabled it through another node.
        if state.breaker.is_open(&row.id) {
            state.breaker.reset(&row.id);
        }
        let plugin = state.modules.get(&state.host, &**txn, row.version_id).await?;
        if !plugin.handles(hook) {
            continue;
        }
        let (plugin_slug, version) = state
            .modules
            .label(row.version_id)
            .map(|label| label.as_ref().clone())
            .unwrap_or_default();
        active.push(ActiveInstall {
            install_id: row.id,
            plugin_id: row.plugin_id,
            plugin_slug,
            version_id: row.version_id,
            version,
            priority: row.priority,
            config: row.config,
            plugin,
        });
    }
    Ok(active)
}

/// Reads the slug and version string of versions this process has not seen
/// yet (they never change, so each is read once per process).
async fn remember_labels(state: &AppState, txn: &TenantTxn, rows: &[installs::Model]) -> ApiResult<()> {
    let missing: Vec<&installs::Model> = rows
        .iter()
        .filter(|r| state.modules.label(r.version_id).is_none())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let slugs: HashMap<Uuid, String> = plugins::Entity::find()
        .filter(plugins::Column::Id.is_in(missing.iter().map(|r| r.plugin_id)))
        .all(&**txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.slug))
        .collect();
    let version_ids: Vec<Uuid> = missing.iter().map(|r| r.version_id).collect();
    let versions = versions::by_ids(&**txn, &version_ids).await?;
    for row in missing {
        if let (Some(slug), Some(version)) = (slugs.get(&row.plugin_id), versions.get(&row.version_id)) {
            state
                .modules
                .remember_label(row.version_id, slug.clone(), version.version.clone());
        }
    }
    Ok(())
}

/// One plug-in call to record on its install.
pub struct CallRecord<'a> {
    pub install: &'a ActiveInstall,
    pub hook: Hook,
    pub result: &'a Result<CallOutcome, CallFailure>,
}

/// Records one call on the install; see [`record_calls`].
pub async fn record_call(
    state: &AppState,
    tenant_id: Uuid,
    install: &ActiveInstall,
    hook: Hook,
    result: &Result<CallOutcome, CallFailure>,
) -> ApiResult<()> {
    record_calls(state, tenant_id, &[CallRecord { install, hook, result }]).await
}

/// Records calls on their installs: the rows go to the process's
/// [`CallJournal`](super::journal::CallJournal), written in the background,
/// so that a refused checkout still keeps them without waiting for a write.
/// Trips the breaker after repeated failures and at once marks the install,
/// so every node stops calling it. About one call in
/// `plugins.calls_prune_every` also trims its install's history to the
/// newest `plugins.calls_kept` calls.
pub async fn record_calls(state: &AppState, tenant_id: Uuid, calls: &[CallRecord<'_>]) -> ApiResult<()> {
    if calls.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(calls.len());
    let mut prune = Vec::new();
    let mut tripped = Vec::new();
    let every = state.settings.plugins.calls_prune_every.max(1);
    for call in calls {
        let install = call.install;
        let (outcome, message, usage): (String, Option<String>, &Usage) = match call.result {
            Ok(ok) => ("ok".into(), None, &ok.usage),
            Err(failure) => (
                failure.code().into(),
                Some(failure.error().to_string()),
                failure.usage(),
            ),
        };
        let trips = match call.result {
            Ok(_) => {
                state.breaker.record_success(&install.install_id);
                false
            }
            // Only the plug-in's own faults count; a host problem is not its fault.
            Err(failure) if failure.error().is_plugin_fault() => {
                let record = FailureRecord::from_failure(failure, Utc::now().timestamp_millis());
                state.breaker.record_failure(&install.install_id, record)
            }
            Err(_) => false,
        };
        if trips {
            tripped.push((install.install_id, message.clone().unwrap_or_default()));
        }
        if rand::random_ratio(1, every) {
            prune.push(install.install_id);
        }
        let call_id = Uuid::now_v7();
        rows.push(install_calls::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(call_id),
            install_id: Set(install.install_id),
            version_id: Set(install.version_id),
            hook: Set(call.hook.as_str().to_string()),
            outcome: Set(outcome),
            message: Set(message),
            fuel: Set(i64::try_from(usage.fuel_used).unwrap_or(i64::MAX)),
            duration_us: Set(i64::try_from(usage.duration.as_micros()).unwrap_or(i64::MAX)),
            peak_memory: Set(i64::try_from(usage.peak_memory_bytes).unwrap_or(i64::MAX)),
            created_at: Set(Utc::now()),
        });
    }
    state.calls.record(tenant_id, rows, prune).await;
    if !tripped.is_empty() {
        let txn = state.db.tenant(tenant_id, Access::Write).await?;
        for (install_id, message) in tripped {
            switch_off(state, &txn, install_id, &message).await?;
            tracing::warn!(install = %install_id, "plug-in install switched off by the circuit breaker");
        }
        txn.commit().await?;
    }
    Ok(())
}

/// Marks the install switched off by the breaker, with the last failure.
async fn switch_off(state: &AppState, txn: &TenantTxn, install_id: Uuid, message: &str) -> ApiResult<()> {
    if let Some(row) = installs::Entity::find_by_id((txn.tenant_id(), install_id))
        .one(&**txn)
        .await?
    {
        let mut active: installs::ActiveModel = row.into();
        active.breaker_open = Set(true);
        active.breaker_reason = Set(Some(format!(
            "switched off after {} consecutive failures; last: {message}",
            state.settings.plugins.breaker_threshold,
        )));
        active.updated_at = Set(Utc::now());
        active.update(&**txn).await?;
    }
    Ok(())
}
