//! `/api/v1/stores/{store_id}/plugins`: a merchant installs, lists,
//! configures and uninstalls plug-ins in one store (users, or API keys with
//! the `plugins` scope).

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::{installs as install_rows, plugins};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::http::pagination::{self, Page, PageQuery};
use crate::marketplace::installs::{self, Changes};
use crate::marketplace::lifecycle;
use crate::marketplace::views::{install_view, install_views, InstallView};
use crate::state::AppState;
use crate::tenancy::stores;

/// Where a plug-in runs when the merchant does not say: the middle of the range.
pub const DEFAULT_PRIORITY: i32 = 100;

/// Checks the `plugins` scope, opens a transaction and finds the store.
pub(super) async fn open(
    state: &AppState,
    scope: &TenantScope,
    access: Access,
    store_id: Uuid,
) -> ApiResult<TenantTxn> {
    scope.require(Scope::Plugins)?;
    let txn = scope.begin(state, access).await?;
    stores::find(&txn, store_id).await?;
    Ok(txn)
}

/// Checks the scope, opens a write transaction and finds the live install the path names.
pub(super) async fn open_live(
    state: &AppState,
    scope: &TenantScope,
    (store_id, install_id): (Uuid, Uuid),
) -> ApiResult<(TenantTxn, install_rows::Model)> {
    let txn = open(state, scope, Access::Write, store_id).await?;
    let install = installs::find_live(&txn, store_id, install_id).await?;
    Ok((txn, install))
}

/// Commits the change and answers with the install as it now is.
pub(super) async fn answer(txn: TenantTxn, install: install_rows::Model) -> ApiResult<HttpResponse> {
    let view = install_view(&*txn, install).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

fn empty_object() -> serde_json::Value {
    serde_json::json!({})
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInstall {
    /// The plug-in's slug.
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub plugin: String,
    /// Checked against the newest version's schema; `{}` when absent.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// 0 to 10000, lower runs first (default 100).
    #[validate(range(min = 0, max = 10000, message = "must be between 0 and 10000"))]
    pub priority: Option<i32>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateInstall {
    /// Replaces the whole configuration; checked against the installed version's schema.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
    /// 0 to 10000, lower runs first.
    #[validate(range(min = 0, max = 10000, message = "must be between 0 and 10000"))]
    pub priority: Option<i32>,
    /// The merchant's switch. Turning it on does not close an open circuit
    /// breaker; `POST .../enable` does both.
    pub enabled: Option<bool>,
}

/// Installs the newest version of a listed plug-in. Honours `Idempotency-Key`.
#[utoipa::path(tag = "plugins", request_body = CreateInstall,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = InstallView), (status = 404, description = "no such store or plug-in"),
        (status = 409, description = "already_installed or store_archived"), (status = 422, description = "invalid_config or validation_failed")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/plugins")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Valid<CreateInstall>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let body = body.0;
    let txn = open(&state, &scope, Access::Write, store_id).await?;
    let route = format!("POST /stores/{store_id}/plugins");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let plugin = plugins::Entity::find()
        .filter(plugins::Column::Slug.eq(&body.plugin))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    crate::billing::limits::check_install(&txn).await?;
    let priority = body.priority.unwrap_or(DEFAULT_PRIORITY);
    let id = installs::install(&state, &txn, store_id, plugin.id, body.config, priority).await?;
    let view = install_view(&*txn, installs::find(&txn, store_id, id).await?).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InstallFilter {
    /// Include uninstalled ones, kept as history (default false).
    #[serde(default)]
    pub include_uninstalled: bool,
}

/// The store's installs, oldest first.
#[utoipa::path(tag = "plugins", params(PageQuery, InstallFilter),
    responses((status = 200, body = Page<InstallView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/plugins")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
    filter: web::Query<InstallFilter>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let txn = open(&state, &scope, Access::Read, store_id).await?;
    let mut query = install_rows::Entity::find()
        .filter(install_rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(install_rows::Column::StoreId.eq(store_id));
    if !filter.include_uninstalled {
        query = query.filter(install_rows::Column::UninstalledAt.is_null());
    }
    let rows: Page<install_rows::Model> =
        pagination::fetch(query, install_rows::Column::Id, &page, &*txn, |r| r.id).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: install_views(&*txn, rows.items).await?,
        next_cursor: rows.next_cursor,
    }))
}

/// One install, uninstalled ones included.
#[utoipa::path(tag = "plugins", responses((status = 200, body = InstallView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/plugins/{install_id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, install_id) = path.into_inner();
    let txn = open(&state, &scope, Access::Read, store_id).await?;
    let install = installs::find(&txn, store_id, install_id).await?;
    Ok(HttpResponse::Ok().json(install_view(&*txn, install).await?))
}

/// Changes configuration, priority or the enabled switch. A configuration
/// that does not match the schema changes nothing.
#[utoipa::path(tag = "plugins", request_body = UpdateInstall,
    responses((status = 200, body = InstallView), (status = 404), (status = 409, description = "uninstalled"),
        (status = 422, description = "invalid_config or validation_failed")),
    security(("bearer" = [])))]
#[patch("/stores/{store_id}/plugins/{install_id}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<UpdateInstall>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let (txn, install) = open_live(&state, &scope, path.into_inner()).await?;
    let changes = Changes {
        config: body.config,
        priority: body.priority,
        enabled: body.enabled,
    };
    let install = installs::change(&txn, install, changes).await?;
    answer(txn, install).await
}

/// Uninstalls: the install stops running; it and its calls stay readable.
#[utoipa::path(tag = "plugins", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/stores/{store_id}/plugins/{install_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, install_id) = path.into_inner();
    let txn = open(&state, &scope, Access::Write, store_id).await?;
    let install = installs::find(&txn, store_id, install_id).await?;
    lifecycle::uninstall(&txn, install).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
