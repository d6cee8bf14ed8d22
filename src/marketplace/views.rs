//! What the marketplace endpoints answer: plug-ins with their versions,
//! installs with their plug-in, version and breaker state, and calls.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::{install_calls, installs, plugins};
use crate::error::{ApiError, ApiResult};
use crate::marketplace::versions::{self, VersionMeta};

#[derive(Debug, Serialize, ToSchema)]
pub struct VersionView {
    pub id: Uuid,
    pub version: String,
    /// Hooks the module exports, e.g. `cart.price`.
    pub hooks: Vec<String>,
    /// JSON Schema (the supported subset) an install's `config` must match.
    #[schema(value_type = Object)]
    pub config_schema: serde_json::Value,
    /// SHA-256 of the module bytes, hex.
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<VersionMeta> for VersionView {
    fn from(v: VersionMeta) -> Self {
        VersionView {
            hooks: v.hook_names(),
            id: v.id,
            version: v.version,
            config_schema: v.config_schema,
            sha256: v.sha256,
            created_at: v.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PluginView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub author: String,
    /// Unlisted plug-ins are hidden from merchants and cannot be newly installed.
    pub listed: bool,
    /// The newest (last registered) version.
    pub latest_version: VersionView,
    /// Every version, newest first (only on `GET /plugins/{slug}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<Vec<VersionView>>,
}

impl PluginView {
    pub fn new(p: plugins::Model, latest: VersionMeta) -> PluginView {
        PluginView {
            id: p.id,
            slug: p.slug,
            name: p.name,
            description: p.description,
            author: p.author,
            listed: p.listed,
            latest_version: latest.into(),
            versions: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstalledPlugin {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
}

/// The circuit breaker of one install.
#[derive(Debug, Serialize, ToSchema)]
pub struct BreakerView {
    /// `true` once repeated failures switched the install off.
    pub open: bool,
    /// Why, with the last failure; absent while closed.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InstallView {
    pub id: Uuid,
    pub store_id: Uuid,
    pub plugin: InstalledPlugin,
    pub version_id: Uuid,
    pub version: String,
    /// The plug-in's newest version; differs from `version` when an upgrade is available.
    pub latest_version: String,
    /// The merchant's switch.
    pub enabled: bool,
    /// Lower runs first in the store's pipeline; ties by install id.
    pub priority: i32,
    /// The configuration the plug-in receives, defaults filled in.
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    pub breaker: BreakerView,
    /// `true` when the install is called: enabled, breaker closed, not uninstalled.
    pub running: bool,
    /// Hooks of the installed version.
    pub hooks: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set once uninstalled; the install is then history.
    pub uninstalled_at: Option<DateTime<Utc>>,
}

/// Views of `rows`, with their plug-ins and versions read in three queries.
pub async fn install_views(db: &impl ConnectionTrait, rows: Vec<installs::Model>) -> ApiResult<Vec<InstallView>> {
    let plugin_ids: Vec<Uuid> = rows.iter().map(|r| r.plugin_id).collect();
    let version_ids: Vec<Uuid> = rows.iter().map(|r| r.version_id).collect();
    let plugins: HashMap<Uuid, plugins::Model> = plugins::Entity::find()
        .filter(plugins::Column::Id.is_in(plugin_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let installed = versions::by_ids(db, &version_ids).await?;
    let newest = versions::newest_of(db, &plugin_ids).await?;
    rows.into_iter()
        .map(|row| {
            let lost = || ApiError::Internal(anyhow::anyhow!("install {} lost its plug-in or version", row.id));
            let plugin = plugins.get(&row.plugin_id).ok_or_else(lost)?;
            let version = installed.get(&row.version_id).ok_or_else(lost)?;
            let latest = newest.get(&row.plugin_id).ok_or_else(lost)?;
            Ok(InstallView {
                id: row.id,
                store_id: row.store_id,
                plugin: InstalledPlugin {
                    id: plugin.id,
                    slug: plugin.slug.clone(),
                    name: plugin.name.clone(),
                },
                version_id: version.id,
                version: version.version.clone(),
                latest_version: latest.version.clone(),
                enabled: row.enabled,
                priority: row.priority,
                running: row.enabled && !row.breaker_open && row.uninstalled_at.is_none(),
                config: row.config,
                breaker: BreakerView {
                    open: row.breaker_open,
                    reason: row.breaker_reason,
                },
                hooks: version.hook_names(),
                created_at: row.created_at,
                updated_at: row.updated_at,
                uninstalled_at: row.uninstalled_at,
            })
        })
        .collect()
}

/// One view; see [`install_views`].
pub async fn install_view(db: &impl ConnectionTrait, row: installs::Model) -> ApiResult<InstallView> {
    install_views(db, vec![row])
        .await?
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("install view missing")))
}

/// One recorded call of an install's plug-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: Uuid,
    pub hook: String,
    pub at: DateTime<Utc>,
    /// `ok`, or the failure code: `trap`, `out_of_fuel`, `deadline`,
    /// `memory_limit`, `output_too_large`, `bad_output`, `guest_error`, ...
    pub outcome: String,
    /// What went wrong; absent on success.
    pub message: Option<String>,
    /// Instructions used (fuel units).
    pub fuel: i64,
    pub duration_us: i64,
    /// Peak linear memory of the instance, bytes.
    pub peak_memory_bytes: i64,
    /// The plug-in version that ran.
    pub version_id: Uuid,
}

impl From<install_calls::Model> for CallView {
    fn from(c: install_calls::Model) -> Self {
        CallView {
            id: c.id,
            hook: c.hook,
            at: c.created_at,
            outcome: c.outcome,
            message: c.message,
            fuel: c.fuel,
            duration_us: c.duration_us,
            peak_memory_bytes: c.peak_memory,
            version_id: c.version_id,
        }
    }
}
