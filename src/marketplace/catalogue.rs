//! The platform's plug-in catalogue: `GET /plugins` and `/plugins/{slug}`
//! for anyone signed in (merchants see listed plug-ins, administrators all),
//! and `PATCH /admin/plugins/{slug}` to list or unlist one.

use actix_web::{get, patch, web, HttpResponse};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use crate::auth::{AdminPrincipal, Principal};
use crate::db::Access;
use crate::entities::plugins;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::pagination::{self, Page, PageQuery};
use crate::marketplace::versions;
use crate::marketplace::views::{PluginView, VersionView};
use crate::state::AppState;

fn sees_unlisted(principal: &Principal) -> bool {
    matches!(principal, Principal::Admin { .. })
}

/// The plug-in with this slug, as this caller may see it.
async fn by_slug(db: &impl ConnectionTrait, slug: &str, unlisted_too: bool) -> ApiResult<plugins::Model> {
    plugins::Entity::find()
        .filter(plugins::Column::Slug.eq(slug))
        .one(db)
        .await?
        .filter(|p| p.listed || unlisted_too)
        .ok_or(ApiError::NotFound)
}

/// The plug-in with its newest version, and every version when asked.
async fn view(db: &impl ConnectionTrait, plugin: plugins::Model, all_versions: bool) -> ApiResult<PluginView> {
    let mut found = versions::of_plugin(db, plugin.id).await?;
    if found.is_empty() {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "plug-in {} has no version",
            plugin.slug
        )));
    }
    let latest = found.remove(0);
    let mut view = PluginView::new(plugin, latest.clone());
    if all_versions {
        let mut all = vec![VersionView::from(latest)];
        all.extend(found.into_iter().map(VersionView::from));
        view.versions = Some(all);
    }
    Ok(view)
}

/// Plug-ins with their newest version, hooks and configuration schema, oldest first.
#[utoipa::path(tag = "plugins", params(PageQuery),
    responses((status = 200, body = Page<PluginView>)), security(("bearer" = [])))]
#[get("/plugins")]
pub async fn list(
    state: web::Data<AppState>,
    principal: Principal,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let mut query = plugins::Entity::find();
    if !sees_unlisted(&principal) {
        query = query.filter(plugins::Column::Listed.eq(true));
    }
    let rows: Page<plugins::Model> = pagination::fetch(query, plugins::Column::Id, &page, &txn, |p| p.id).await?;
    let ids: Vec<_> = rows.items.iter().map(|p| p.id).collect();
    let mut newest = versions::newest_of(&txn, &ids).await?;
    let items = rows
        .items
        .into_iter()
        .filter_map(|p| newest.remove(&p.id).map(|v| PluginView::new(p, v)))
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

/// One plug-in with all its versions, newest first.
#[utoipa::path(tag = "plugins", responses((status = 200, body = PluginView), (status = 404)), security(("bearer" = [])))]
#[get("/plugins/{slug}")]
pub async fn get(state: web::Data<AppState>, principal: Principal, slug: web::Path<String>) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let plugin = by_slug(&txn, &slug, sees_unlisted(&principal)).await?;
    Ok(HttpResponse::Ok().json(view(&txn, plugin, true).await?))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlugin {
    /// Listed plug-ins can be found and installed by merchants. Unlisting
    /// stops new installs; existing installs keep running.
    pub listed: bool,
}

/// Lists or unlists a plug-in (platform administrators).
#[utoipa::path(tag = "plugins", request_body = UpdatePlugin,
    responses((status = 200, body = PluginView), (status = 403, description = "admin_only"), (status = 404)),
    security(("bearer" = [])))]
#[patch("/admin/plugins/{slug}")]
pub async fn update(
    state: web::Data<AppState>,
    admin: AdminPrincipal,
    slug: web::Path<String>,
    body: Valid<UpdatePlugin>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Write).await?;
    let plugin = by_slug(&txn, &slug, true).await?;
    let mut active: plugins::ActiveModel = plugin.into();
    active.listed = Set(body.0.listed);
    let plugin = active.update(&txn).await?;
    let view = view(&txn, plugin, false).await?;
    txn.commit().await?;
    tracing::info!(admin = %admin.admin_id, slug = %view.slug, listed = view.listed, "plug-in listing changed");
    Ok(HttpResponse::Ok().json(view))
}
