//! Actions on one install: switch it back on after the circuit breaker,
//! upgrade it, read its recent calls.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, Order, QueryFilter};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::TenantScope;
use crate::db::Access;
use crate::entities::install_calls;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::marketplace::install_api::{answer, open, open_live};
use crate::marketplace::views::{CallView, InstallView};
use crate::marketplace::{installs, lifecycle};
use crate::state::AppState;

/// Turns the install on again: enabled, and the circuit breaker closed on
/// every node. Its failures stay in the call history.
#[utoipa::path(tag = "plugins",
    responses((status = 200, body = InstallView), (status = 404), (status = 409, description = "uninstalled")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/plugins/{install_id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (txn, install) = open_live(&state, &scope, path.into_inner()).await?;
    let install = lifecycle::reenable(&state, &txn, install).await?;
    answer(txn, install).await
}

/// The optional body of an upgrade.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpgradeInstall {
    /// A configuration for the new version, when the current one does not fit its schema.
    #[schema(value_type = Option<Object>)]
    pub config: Option<serde_json::Value>,
}

/// An empty body means "keep the configuration".
fn upgrade_body(bytes: &[u8]) -> ApiResult<UpgradeInstall> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(UpgradeInstall { config: None });
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::field("invalid_body", "body", e.to_string())
        } else {
            ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
        }
    })
}

/// Moves the install to its plug-in's newest version. The configuration
/// (or `config` from the body) is checked against the new version's schema;
/// if it does not fit, nothing changes. Already newest: answered as is.
#[utoipa::path(tag = "plugins", request_body(content = UpgradeInstall, description = "optional"),
    responses((status = 200, body = InstallView), (status = 404), (status = 409, description = "uninstalled"),
        (status = 422, description = "invalid_config")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/plugins/{install_id}/upgrade")]
pub async fn upgrade(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Bytes,
) -> ApiResult<HttpResponse> {
    let body = upgrade_body(&body)?;
    let (txn, install) = open_live(&state, &scope, path.into_inner()).await?;
    let install = lifecycle::upgrade(&txn, install, body.config).await?;
    answer(txn, install).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallFilter {
    /// `ok`, `failed` (every failure), or one failure code such as `trap`.
    pub outcome: Option<String>,
}

/// The install's recent calls, newest first (the newest
/// `plugins.calls_kept` are kept per install).
#[utoipa::path(tag = "plugins", params(PageQuery, CallFilter),
    responses((status = 200, body = Page<CallView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/plugins/{install_id}/calls")]
pub async fn calls(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageQuery>,
    filter: web::Query<CallFilter>,
) -> ApiResult<HttpResponse> {
    let (store_id, install_id) = path.into_inner();
    // Calls this node made are still being written; wait for them.
    state.calls.flush().await;
    let txn = open(&state, &scope, Access::Read, store_id).await?;
    let install = installs::find(&txn, store_id, install_id).await?;
    let mut query = install_calls::Entity::find()
        .filter(install_calls::Column::TenantId.eq(txn.tenant_id()))
        .filter(install_calls::Column::InstallId.eq(install.id));
    match filter.outcome.as_deref() {
        None => {}
        Some("failed") => query = query.filter(install_calls::Column::Outcome.ne("ok")),
        Some(code)
            if !code.is_empty() && code.len() <= 40 && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') =>
        {
            query = query.filter(install_calls::Column::Outcome.eq(code));
        }
        Some(_) => {
            return Err(ApiError::field(
                "invalid_query",
                "outcome",
                "must be `ok`, `failed` or a failure code such as `trap`",
            ))
        }
    }
    let page: Page<CallView> =
        pagination::fetch_in_order(query, install_calls::Column::Id, &page, &*txn, |c| c.id, Order::Desc).await?;
    Ok(HttpResponse::Ok().json(page))
}
