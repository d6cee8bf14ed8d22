//! Plug-in versions as the catalogue and installs read them: everything
//! but the module bytes, which only the module loader needs.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, DerivePartialModel, EntityTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

use crate::entities::plugin_versions;
use crate::error::{ApiError, ApiResult};
use crate::marketplace::schema::Schema;

#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "plugin_versions::Entity")]
pub struct VersionMeta {
    pub id: Uuid,
    pub plugin_id: Uuid,
    pub version: String,
    pub sha256: String,
    pub hooks: serde_json::Value,
    pub config_schema: serde_json::Value,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl VersionMeta {
    /// The hooks the module exports, e.g. `["cart.price"]`.
    pub fn hook_names(&self) -> Vec<String> {
        serde_json::from_value(self.hooks.clone()).unwrap_or_default()
    }

    /// The version's configuration schema, checked at registration.
    pub fn schema(&self) -> ApiResult<Schema> {
        Schema::parse(&self.config_schema)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored schema of plug-in version {}: {e}", self.id)))
    }
}

/// The query for one plug-in's versions, newest (last registered) first.
fn newest_first(plugin_id: Uuid) -> Select<plugin_versions::Entity> {
    plugin_versions::Entity::find()
        .filter(plugin_versions::Column::PluginId.eq(plugin_id))
        .order_by_desc(plugin_versions::Column::Id)
}

/// Versions of one plug-in, newest first.
pub async fn of_plugin(db: &impl ConnectionTrait, plugin_id: Uuid) -> Result<Vec<VersionMeta>, DbErr> {
    newest_first(plugin_id).into_partial_model().all(db).await
}

/// The newest version of one plug-in.
pub async fn newest(db: &impl ConnectionTrait, plugin_id: Uuid) -> Result<Option<VersionMeta>, DbErr> {
    newest_first(plugin_id).into_partial_model().one(db).await
}

/// The newest version of each of `plugin_ids`. A plug-in has a handful of
/// versions, so reading them all and keeping the newest is one cheap query.
pub async fn newest_of(db: &impl ConnectionTrait, plugin_ids: &[Uuid]) -> Result<HashMap<Uuid, VersionMeta>, DbErr> {
    let all: Vec<VersionMeta> = plugin_versions::Entity::find()
        .filter(plugin_versions::Column::PluginId.is_in(plugin_ids.iter().copied()))
        .order_by_asc(plugin_versions::Column::Id)
        .into_partial_model()
        .all(db)
        .await?;
    // Ascending order: the last one inserted per plug-in wins.
    Ok(all.into_iter().map(|v| (v.plugin_id, v)).collect())
}

/// Versions by id.
pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, VersionMeta>, DbErr> {
    let found: Vec<VersionMeta> = plugin_versions::Entity::find()
        .filter(plugin_versions::Column::Id.is_in(ids.iter().copied()))
        .into_partial_model()
        .all(db)
        .await?;
    Ok(found.into_iter().map(|v| (v.id, v)).collect())
}
