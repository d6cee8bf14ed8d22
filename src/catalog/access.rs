//! Finding the store, product or variant a path names, always inside the
//! caller's tenant: anything else is 404, an archived store refuses writes.

use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::{collection_products, product_tags, products, stores, variants};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::tenancy::stores::{find as find_store, StoreStatus};

/// Checks `catalog:read`, opens a read transaction and finds the store.
pub async fn open_read(state: &AppState, scope: &TenantScope, store_id: Uuid) -> ApiResult<(TenantTxn, stores::Model)> {
    scope.require(Scope::CatalogRead)?;
    let txn = scope.begin(state, Access::Read).await?;
    let store = store(&txn, store_id).await?;
    Ok((txn, store))
}

/// Checks `catalog:write`, opens a write transaction and finds the store, refusing an archived one.
pub async fn open_write(
    state: &AppState,
    scope: &TenantScope,
    store_id: Uuid,
) -> ApiResult<(TenantTxn, stores::Model)> {
    scope.require(Scope::CatalogWrite)?;
    let txn = scope.begin(state, Access::Write).await?;
    let store = writable_store(&txn, store_id).await?;
    Ok((txn, store))
}

/// The store, for reading its catalog.
pub async fn store(txn: &TenantTxn, store_id: Uuid) -> ApiResult<stores::Model> {
    find_store(txn, store_id).await
}

/// The store, for changing its catalog: archived stores are frozen.
pub async fn writable_store(txn: &TenantTxn, store_id: Uuid) -> ApiResult<stores::Model> {
    let store = find_store(txn, store_id).await?;
    if store.status == StoreStatus::Archived.as_str() {
        return Err(ApiError::conflict(
            "store_archived",
            "an archived store's catalog cannot be changed",
        ));
    }
    Ok(store)
}

/// The product, if it belongs to this store of this tenant.
pub async fn product(txn: &TenantTxn, store_id: Uuid, id: Uuid) -> ApiResult<products::Model> {
    products::Entity::find_by_id((txn.tenant_id(), id))
        .filter(products::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The variant, if it belongs to this store (and product, when given).
pub async fn variant(
    txn: &TenantTxn,
    store_id: Uuid,
    product_id: Option<Uuid>,
    id: Uuid,
) -> ApiResult<variants::Model> {
    let mut query = variants::Entity::find_by_id((txn.tenant_id(), id)).filter(variants::Column::StoreId.eq(store_id));
    if let Some(product_id) = product_id {
        query = query.filter(variants::Column::ProductId.eq(product_id));
    }
    query.one(&**txn).await?.ok_or(ApiError::NotFound)
}

/// Products of one store, narrowed by tag and collection when asked.
pub fn products_of(
    tenant_id: Uuid,
    store_id: Uuid,
    tag: Option<&str>,
    collection_id: Option<Uuid>,
) -> Select<products::Entity> {
    let mut query = products::Entity::find()
        .filter(products::Column::TenantId.eq(tenant_id))
        .filter(products::Column::StoreId.eq(store_id));
    if let Some(tag) = tag {
        let tagged = Query::select()
            .column(product_tags::Column::ProductId)
            .from(product_tags::Entity)
            .and_where(product_tags::Column::TenantId.eq(tenant_id))
            .and_where(product_tags::Column::StoreId.eq(store_id))
            .and_where(product_tags::Column::Tag.eq(crate::catalog::types::normalize_tag(tag)))
            .to_owned();
        query = query.filter(products::Column::Id.in_subquery(tagged));
    }
    if let Some(collection_id) = collection_id {
        let members = Query::select()
            .column(collection_products::Column::ProductId)
            .from(collection_products::Entity)
            .and_where(collection_products::Column::TenantId.eq(tenant_id))
            .and_where(collection_products::Column::CollectionId.eq(collection_id))
            .to_owned();
        query = query.filter(products::Column::Id.in_subquery(members));
    }
    query
}
