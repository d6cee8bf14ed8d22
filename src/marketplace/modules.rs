//! Compiled plug-in versions, kept per process: a version's bytes are read
//! from the database once, validated and compiled (or taken from the
//! artifact cache), and shared by every call after that.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use anyhow::Context;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use crate::entities::plugin_versions;
use crate::plugin_host::{Host, Limits, Plugin};

#[derive(Default)]
pub struct Modules {
    loaded: RwLock<HashMap<Uuid, Arc<Plugin>>>,
    /// (plug-in slug, version) of a version id; neither ever changes.
    labels: RwLock<HashMap<Uuid, Arc<(String, String)>>>,
}

impl Modules {
    /// The compiled module of a version; versions never change, so the first
    /// load is kept for the life of the process.
    pub async fn get(
        &self,
        host: &Arc<Host>,
        db: &impl ConnectionTrait,
        version_id: Uuid,
    ) -> anyhow::Result<Arc<Plugin>> {
        if let Some(plugin) = self.cached(version_id) {
            return Ok(plugin);
        }
        let version = plugin_versions::Entity::find_by_id(version_id)
            .one(db)
            .await
            .context("reading a plug-in version")?
            .with_context(|| format!("plug-in version {version_id} does not exist"))?;
        let host = Arc::clone(host);
        // Compiling is CPU work (tens of milliseconds): keep it off the async workers.
        let plugin = tokio::task::spawn_blocking(move || host.load(&version.wasm, &Limits::default()))
            .await
            .context("plug-in compile task")?
            .map_err(|e| anyhow::anyhow!("loading plug-in version {version_id}: {e}"))?;
        let plugin = Arc::new(plugin);
        if let Ok(mut map) = self.loaded.write() {
            map.insert(version_id, Arc::clone(&plugin));
        }
        Ok(plugin)
    }

    /// The plug-in slug and version string of a version, if seen before.
    pub fn label(&self, version_id: Uuid) -> Option<Arc<(String, String)>> {
        self.labels.read().ok().and_then(|map| map.get(&version_id).cloned())
    }

    /// Remembers a version's slug and version string.
    pub fn remember_label(&self, version_id: Uuid, slug: String, version: String) {
        if let Ok(mut map) = self.labels.write() {
            map.insert(version_id, Arc::new((slug, version)));
        }
    }

    fn cached(&self, version_id: Uuid) -> Option<Arc<Plugin>> {
        self.loaded.read().ok().and_then(|map| map.get(&version_id).cloned())
    }
}
