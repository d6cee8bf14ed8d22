//! The merchant's view of an install's event deliveries, and the replay of
//! dead ones.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, Order, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::event_deliveries as rows;
use crate::error::{ApiError, ApiResult};
use crate::events::deliver::{DEAD, DELIVERED, FAILED};
use crate::events::route::PENDING;
use crate::http::pagination::{self, Page, PageQuery};
use crate::marketplace::installs;
use crate::state::AppState;
use crate::tenancy::stores;

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    /// The outbox event; the `event_id` the plug-in saw.
    pub event_id: Uuid,
    pub hook: String,
    /// `pending`, `delivered`, `failed` (will be retried) or `dead`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<rows::Model> for DeliveryView {
    fn from(d: rows::Model) -> Self {
        let open = d.status == PENDING || d.status == FAILED;
        DeliveryView {
            id: d.id,
            event_id: d.event_id,
            hook: d.hook,
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: open.then_some(d.next_attempt_at),
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeliveryFilter {
    /// `pending`, `delivered`, `failed` or `dead`.
    pub status: Option<String>,
}

async fn open(
    state: &AppState,
    scope: &TenantScope,
    access: Access,
    (store_id, install_id): (Uuid, Uuid),
) -> ApiResult<TenantTxn> {
    scope.require(Scope::Plugins)?;
    let txn = scope.begin(state, access).await?;
    stores::find(&txn, store_id).await?;
    installs::find(&txn, store_id, install_id).await?;
    Ok(txn)
}

/// The install's deliveries, newest first.
#[utoipa::path(tag = "plugins", params(PageQuery, DeliveryFilter),
    responses((status = 200, body = Page<DeliveryView>), (status = 404), (status = 422, description = "invalid_query")),
    security(("bearer" = [])))]
#[get("/stores/{store_id}/plugins/{install_id}/deliveries")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    page: web::Query<PageQuery>,
    filter: web::Query<DeliveryFilter>,
) -> ApiResult<HttpResponse> {
    let ids = path.into_inner();
    let txn = open(&state, &scope, Access::Read, ids).await?;
    let mut query = rows::Entity::find()
        .filter(rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(rows::Column::InstallId.eq(ids.1));
    match filter.status.as_deref() {
        None => {}
        Some(s) if [PENDING, DELIVERED, FAILED, DEAD].contains(&s) => query = query.filter(rows::Column::Status.eq(s)),
        Some(_) => {
            return Err(ApiError::field(
                "invalid_query",
                "status",
                "must be pending, delivered, failed or dead",
            ))
        }
    }
    let page: Page<DeliveryView> =
        pagination::fetch_in_order(query, rows::Column::Id, &page, &*txn, |d| d.id, Order::Desc).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Tries a dead delivery again from its first attempt.
#[utoipa::path(tag = "plugins",
    responses((status = 200, body = DeliveryView), (status = 404), (status = 409, description = "not_dead")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/plugins/{install_id}/deliveries/{delivery_id}/replay")]
pub async fn replay(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, install_id, delivery_id) = path.into_inner();
    let txn = open(&state, &scope, Access::Write, (store_id, install_id)).await?;
    let row = rows::Entity::find_by_id((txn.tenant_id(), delivery_id))
        .filter(rows::Column::InstallId.eq(install_id))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.status != DEAD {
        return Err(ApiError::conflict(
            "not_dead",
            format!("only dead deliveries are replayed; this one is {}", row.status),
        ));
    }
    let mut active: rows::ActiveModel = row.into();
    active.status = Set(PENDING.into());
    active.attempts = Set(0);
    active.next_attempt_at = Set(Utc::now());
    let row = active.update(&*txn).await?;
    txn.commit().await?;
    state.events.wake();
    Ok(HttpResponse::Ok().json(DeliveryView::from(row)))
}
