//! Putting plug-in versions in the catalogue: the bundled ones from a
//! directory at start-up, and any module a test or an operator registers.
//! A version is immutable: the same slug and version with other bytes is refused.

use std::path::Path;

use anyhow::{bail, Context};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use uuid::Uuid;

use crate::db::Access;
use crate::entities::{plugin_versions, plugins};
use crate::marketplace::schema::Schema;
use crate::plugin_host::Limits;
use crate::state::AppState;

/// A plug-in version to register.
#[derive(Debug, Clone)]
pub struct NewPlugin {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub author: String,
    pub version: String,
    pub config_schema: serde_json::Value,
    pub wasm: Vec<u8>,
}

/// The manifest beside a bundled module: `<slug>.json` next to `<slug>.wasm`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "platform_author")]
    pub author: String,
    #[serde(default = "empty_schema")]
    pub config_schema: serde_json::Value,
}

fn platform_author() -> String {
    "livemall".to_string()
}

fn empty_schema() -> serde_json::Value {
    serde_json::json!({"type": "object"})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredVersion {
    pub plugin_id: Uuid,
    pub version_id: Uuid,
}

/// Validates the configuration schema (the supported subset, see
/// [`Schema`]) and the module, and records the plug-in (created on first
/// version) and the version. Registering the same version again is a no-op.
pub async fn register(state: &AppState, new: NewPlugin) -> anyhow::Result<RegisteredVersion> {
    Schema::parse(&new.config_schema).map_err(|e| anyhow::anyhow!("plug-in {} {}: {e}", new.slug, new.version))?;
    let host = state.host.clone();
    let wasm = new.wasm.clone();
    let plugin = tokio::task::spawn_blocking(move || host.load(&wasm, &Limits::default()))
        .await
        .context("plug-in compile task")?
        .map_err(|e| anyhow::anyhow!("plug-in {} {}: {e}", new.slug, new.version))?;
    let hooks: Vec<&str> = plugin.hooks().iter().map(|h| h.as_str()).collect();
    let txn = state.db.platform(Access::Write).await?;
    let now = Utc::now();
    let existing = plugins::Entity::find()
        .filter(plugins::Column::Slug.eq(&new.slug))
        .one(&txn)
        .await?;
    let plugin_id = match existing {
        Some(p) => p.id,
        None => {
            plugins::ActiveModel {
                id: Set(Uuid::now_v7()),
                slug: Set(new.slug.clone()),
                name: Set(new.name.clone()),
                description: Set(new.description.clone()),
                author: Set(new.author.clone()),
                listed: Set(true),
                config_schema: Set(new.config_schema.clone()),
                created_at: Set(now),
            }
            .insert(&txn)
            .await
            .context("creating the plug-in")?
            .id
        }
    };
    let version = plugin_versions::Entity::find()
        .filter(plugin_versions::Column::PluginId.eq(plugin_id))
        .filter(plugin_versions::Column::Version.eq(&new.version))
        .one(&txn)
        .await?;
    if let Some(version) = version {
        if version.sha256 != plugin.sha256() {
            bail!(
                "{} {} is already registered with other bytes; publish a new version",
                new.slug,
                new.version
            );
        }
        return Ok(RegisteredVersion {
            plugin_id,
            version_id: version.id,
        });
    }
    let version_id = Uuid::now_v7();
    plugin_versions::ActiveModel {
        id: Set(version_id),
        plugin_id: Set(plugin_id),
        version: Set(new.version.clone()),
        sha256: Set(plugin.sha256().to_string()),
        wasm: Set(new.wasm),
        hooks: Set(serde_json::json!(hooks)),
        config_schema: Set(new.config_schema.clone()),
        created_at: Set(now),
    }
    .insert(&txn)
    .await
    .context("creating the plug-in version")?;
    // The newest version describes the plug-in.
    let mut active: plugins::ActiveModel = plugins::Entity::find_by_id(plugin_id)
        .one(&txn)
        .await?
        .context("plug-in vanished")?
        .into();
    active.name = Set(new.name);
    active.description = Set(new.description);
    active.config_schema = Set(new.config_schema);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok(RegisteredVersion { plugin_id, version_id })
}

/// Registers every `<slug>.wasm` in `dir` that has a `<slug>.json` manifest.
/// A missing directory registers nothing.
pub async fn register_bundled(state: &AppState, dir: &Path) -> anyhow::Result<Vec<RegisteredVersion>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    paths.sort();
    let mut registered = Vec::new();
    for wasm_path in paths {
        let slug = wasm_path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("module name")?
            .to_string();
        let manifest_path = wasm_path.with_extension("json");
        let manifest: Manifest = serde_json::from_slice(
            &std::fs::read(&manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?,
        )
        .with_context(|| format!("parsing {}", manifest_path.display()))?;
        let wasm = std::fs::read(&wasm_path).with_context(|| format!("reading {}", wasm_path.display()))?;
        registered.push(
            register(
                state,
                NewPlugin {
                    slug,
                    name: manifest.name,
                    description: manifest.description,
                    author: manifest.author,
                    version: manifest.version,
                    config_schema: manifest.config_schema,
                    wasm,
                },
            )
            .await?,
        );
    }
    Ok(registered)
}
