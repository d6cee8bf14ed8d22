//! Orders as the merchant reads them (users, or API keys with `orders:read`).

use actix_web::{get, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::orders;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::orders::types::OrderStatus;
use crate::orders::views::{self, OrderSummary, OrderView};
use crate::state::AppState;
use crate::tenancy::stores::find as find_store;

/// The order, if it belongs to this store of this tenant.
pub async fn find(txn: &TenantTxn, store_id: Uuid, id: Uuid) -> ApiResult<orders::Model> {
    orders::Entity::find_by_id((txn.tenant_id(), id))
        .filter(orders::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Checks `needed`, opens a transaction and confirms the store is this tenant's.
pub async fn open_store(
    state: &AppState,
    scope: &TenantScope,
    needed: Scope,
    access: Access,
    store_id: Uuid,
) -> ApiResult<TenantTxn> {
    scope.require(needed)?;
    let txn = scope.begin(state, access).await?;
    find_store(&txn, store_id).await?;
    Ok(txn)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct OrderFilter {
    /// Only orders with this status.
    pub status: Option<OrderStatus>,
}

/// The store's orders, oldest first.
#[utoipa::path(tag = "orders", params(PageQuery, OrderFilter),
    responses((status = 200, body = Page<OrderSummary>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/orders")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
    filter: web::Query<OrderFilter>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let txn = open_store(&state, &scope, Scope::OrdersRead, Access::Read, store_id).await?;
    let mut query = orders::Entity::find()
        .filter(orders::Column::TenantId.eq(txn.tenant_id()))
        .filter(orders::Column::StoreId.eq(store_id));
    if let Some(status) = filter.status {
        query = query.filter(orders::Column::Status.eq(status.as_str()));
    }
    let page: Page<OrderSummary> = pagination::fetch(query, orders::Column::Id, &page, &*txn, |o| o.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One order with its lines and the adjustments, each with the plug-in version that made it.
#[utoipa::path(tag = "orders", responses((status = 200, body = OrderView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let txn = open_store(&state, &scope, Scope::OrdersRead, Access::Read, store_id).await?;
    let order = find(&txn, store_id, id).await?;
    Ok(HttpResponse::Ok().json(views::load(&txn, order).await?.view()))
}
