//! The public storefront: what shoppers read without signing in.

use actix_web::{get, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, JoinType, QueryFilter, QuerySelect};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{Access, TenantTxn};
use crate::entities::{stores, tenants};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tenancy::stores::StoreStatus;

/// An active store of an active tenant, found by slugs, with a read
/// transaction confined to that tenant for everything the shopper asks next.
pub struct Storefront {
    pub tenant: tenants::Model,
    pub store: stores::Model,
    pub txn: TenantTxn,
}

/// Finds the storefront; anything not shown to shoppers is 404.
pub async fn open(state: &AppState, tenant_slug: &str, store_slug: &str) -> ApiResult<Storefront> {
    // The store and its tenant in one statement, outside any transaction:
    // one round trip instead of a platform transaction and a query.
    let owner = stores::Entity::belongs_to(tenants::Entity)
        .from(stores::Column::TenantId)
        .to(tenants::Column::Id)
        .into();
    let (shop, tenant) = stores::Entity::find()
        .select_also(tenants::Entity)
        .join(JoinType::InnerJoin, owner)
        .filter(tenants::Column::Slug.eq(tenant_slug))
        .filter(tenants::Column::Status.eq("active"))
        .filter(stores::Column::Slug.eq(store_slug))
        .filter(stores::Column::Status.eq(StoreStatus::Active.as_str()))
        .one(state.db.connection())
        .await?
        .ok_or(ApiError::NotFound)?;
    let tenant = tenant.ok_or(ApiError::NotFound)?;
    // From here on the tenant is known, so the usual tenant wall applies.
    let txn = state.db.tenant(tenant.id, Access::Read).await?;
    Ok(Storefront {
        tenant,
        store: shop,
        txn,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorefrontStore {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub currency: String,
    pub time_zone: String,
    pub tenant_name: String,
    pub tenant_slug: String,
}

/// A store as shoppers see it; only active stores of active tenants exist here.
#[utoipa::path(tag = "storefront", responses((status = 200, body = StorefrontStore), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}")]
pub async fn store(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug) = path.into_inner();
    let Storefront { tenant, store, .. } = open(&state, &tenant_slug, &store_slug).await?;
    Ok(HttpResponse::Ok().json(StorefrontStore {
        id: store.id,
        name: store.name,
        slug: store.slug,
        currency: store.currency,
        time_zone: store.time_zone,
        tenant_name: tenant.name,
        tenant_slug: tenant.slug,
    }))
}
