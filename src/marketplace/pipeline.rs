//! What the request paths need from the marketplace: the store's installs
//! for a hook, in pipeline order, and a record of every call they make.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use chrono::Utc;
use livemall_abi::{Counter, Hook};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, Statement};
use uuid::Uuid;

use crate::billing::account;
use crate::db::reader::{Cells, Kinds};
use crate::db::{placeholders, Access, ReadOn, TenantTxn};
use crate::entities::{install_calls, installs, plugin_counters, plugins};
use crate::error::ApiResult;
use crate::marketplace::versions;
use crate::orders::counters;
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
    let (found, _) = read(state, txn.into(), store_id, hook, None).await?;
    Ok(found.into_iter().map(|(install, _)| install).collect())
}

/// What [`installs_with_counters`] read.
pub struct WithCounters {
    pub installs: Vec<(ActiveInstall, Vec<Counter>)>,
    /// The tenant's account, read with the installs when the store has
    /// any (`None`: not read).
    pub account: Option<Option<account::Account>>,
}

/// [`installs_for`], each install with the counters its plug-in sees: the
/// install's own and, with a customer, that customer's (never the unlisted
/// ones, see [`counters::UNLISTED`]).
pub async fn installs_with_counters(
    state: &AppState,
    on: ReadOn<'_>,
    store_id: Uuid,
    hook: Hook,
    customer_key: Option<&str>,
) -> ApiResult<WithCounters> {
    let (installs, account) = read(state, on, store_id, hook, Some(customer_key)).await?;
    Ok(WithCounters { installs, account })
}

/// The installs, the tenant's account (may plug-ins run?) and, when
/// `counters` is given, the counters, in one statement: each install is a
/// row per counter it has, or one row without. Answers the account too
/// when there was a row to read it from.
async fn read(
    state: &AppState,
    on: ReadOn<'_>,
    store_id: Uuid,
    hook: Hook,
    counters: Option<Option<&str>>,
) -> ApiResult<(Vec<(ActiveInstall, Vec<Counter>)>, Option<Option<account::Account>>)> {
    let backend = on.backend();
    let mut values: Vec<sea_orm::Value> = vec![on.tenant_id().into()];
    let (counter_columns, counter_join) = match counters {
        Some(customer_key) => {
            values.push(counters::INSTALL_SCOPE.into());
            values.push(customer_key.unwrap_or(counters::INSTALL_SCOPE).into());
            values.push(format!("{}%", counters::UNLISTED).into());
            (
                ", pc.key AS counter_key, pc.scope_key AS counter_scope, pc.used AS counter_used",
                "LEFT JOIN plugin_counters AS pc ON pc.tenant_id = i.tenant_id AND pc.install_id = i.id \
                 AND (pc.scope_key = ? OR pc.scope_key = ?) AND pc.key NOT LIKE ?",
            )
        }
        None => ("", ""),
    };
    values.extend([on.tenant_id().into(), store_id.into(), true.into(), false.into()]);
    let sql = format!(
        "SELECT i.*, a.*{counter_columns} FROM installs AS i LEFT JOIN ({}) AS a ON 1 = 1 {counter_join} \
         WHERE i.tenant_id = ? AND i.store_id = ? AND i.enabled = ? AND i.breaker_open = ? \
         AND i.uninstalled_at IS NULL ORDER BY i.priority, i.id",
        account::select()
    );
    let statement = Statement::from_sql_and_values(backend, placeholders(backend, &sql), values);
    match on {
        ReadOn::Txn(txn) => {
            let rows = txn.query_all_raw(statement).await?;
            installed(state, &**txn, &rows, hook).await
        }
        ReadOn::Own(readers, _) => {
            let rows = readers.rows(statement, &INSTALL_KINDS)?;
            // A version not seen yet is read through the driver (once per process).
            installed(state, state.db.connection(), &rows.iter().collect::<Vec<_>>(), hook).await
        }
    }
}

/// The columns of [`read`]'s statement, typed for the application's own readers.
static INSTALL_KINDS: LazyLock<Kinds> = LazyLock::new(|| {
    let kinds = Kinds::new()
        .entity::<installs::Entity>("")
        .column_of("counter_key", plugin_counters::Column::Key)
        .column_of("counter_scope", plugin_counters::Column::ScopeKey)
        .column_of("counter_used", plugin_counters::Column::Used);
    account::kinds(kinds)
});

/// The installs in the rows of [`read`]'s statement whose plug-in handles
/// `hook`, each with its counters, and the account; `db` reads what this
/// process has not seen yet.
async fn installed(
    state: &AppState,
    db: &impl ConnectionTrait,
    rows: &[impl Cells],
    hook: Hook,
) -> ApiResult<(Vec<(ActiveInstall, Vec<Counter>)>, Option<Option<account::Account>>)> {
    let Some(first) = rows.first() else {
        return Ok((Vec::new(), None));
    };
    let account = account::from_joined_row(first)?;
    if !crate::billing::limits::plugins_may_run(account.as_ref()) {
        return Ok((Vec::new(), Some(account)));
    }
    // Rows of one install are adjacent (ordered by install).
    let mut found: Vec<(installs::Model, Vec<Counter>)> = Vec::new();
    for row in rows {
        let id: Uuid = row.get("id")?;
        if found.last().is_none_or(|(last, _)| last.id != id) {
            found.push((row.model::<installs::Entity>("")?, Vec::new()));
        }
        if let (Some(seen), Some((_, list))) = (counters::from_joined_row(row)?, found.last_mut()) {
            list.push(seen);
        }
    }
    remember_labels(state, db, found.iter().map(|(row, _)| row)).await?;
    let mut active = Vec::with_capacity(found.len());
    for (row, seen) in found {
        // The row is the truth: its breaker is closed, so if this node still
        // holds it open, the merchant re-enabled it through another node.
        if state.breaker.is_open(&row.id) {
            state.breaker.reset(&row.id);
        }
        let plugin = state.modules.get(&state.host, db, row.version_id).await?;
        if !plugin.handles(hook) {
            continue;
        }
        let (plugin_slug, version) = state
            .modules
            .label(row.version_id)
            .map(|label| label.as_ref().clone())
            .unwrap_or_default();
        let install = ActiveInstall {
            install_id: row.id,
            plugin_id: row.plugin_id,
            plugin_slug,
            version_id: row.version_id,
            version,
            priority: row.priority,
            config: row.config,
            plugin,
        };
        active.push((install, seen));
    }
    Ok((active, Some(account)))
}

/// Reads the slug and version string of versions this process has not seen
/// yet (they never change, so each is read once per process).
async fn remember_labels<'r>(
    state: &AppState,
    db: &impl ConnectionTrait,
    rows: impl Iterator<Item = &'r installs::Model>,
) -> ApiResult<()> {
    let missing: Vec<&installs::Model> = rows.filter(|r| state.modules.label(r.version_id).is_none()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let slugs: HashMap<Uuid, String> = plugins::Entity::find()
        .filter(plugins::Column::Id.is_in(missing.iter().map(|r| r.plugin_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.slug))
        .collect();
    let version_ids: Vec<Uuid> = missing.iter().map(|r| r.version_id).collect();
    let versions = versions::by_ids(db, &version_ids).await?;
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
        rows.push(install_calls::Model {
            tenant_id,
            id: call_id,
            install_id: install.install_id,
            version_id: install.version_id,
            hook: call.hook.as_str().to_string(),
            outcome,
            message,
            fuel: i64::try_from(usage.fuel_used).unwrap_or(i64::MAX),
            duration_us: i64::try_from(usage.duration.as_micros()).unwrap_or(i64::MAX),
            peak_memory: i64::try_from(usage.peak_memory_bytes).unwrap_or(i64::MAX),
            created_at: Utc::now(),
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
