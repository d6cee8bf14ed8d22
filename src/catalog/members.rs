//! Which products a collection holds, in order. The list is replaced as a
//! whole, and only with the store's own products.

use std::collections::HashSet;

use actix_web::{put, web, HttpResponse};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::TenantScope;
use crate::catalog::access;
use crate::catalog::collections::{find, with_members, CollectionView};
use crate::catalog::types::MAX_COLLECTION_PRODUCTS;
use crate::db::TenantTxn;
use crate::entities::{collection_products, collections, products};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::http::extract::Valid;
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetProducts {
    /// The store's products in display order, at most 250, each once.
    #[validate(length(max = "MAX_COLLECTION_PRODUCTS", message = "at most 250 products"))]
    pub product_ids: Vec<Uuid>,
}

/// The collection's product ids in order.
pub async fn ids(db: &impl ConnectionTrait, tenant_id: Uuid, collection_id: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(collection_products::Entity::find()
        .filter(collection_products::Column::TenantId.eq(tenant_id))
        .filter(collection_products::Column::CollectionId.eq(collection_id))
        .order_by_asc(collection_products::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.product_id)
        .collect())
}

pub(super) async fn clear(txn: &TenantTxn, collection_id: Uuid) -> ApiResult<()> {
    collection_products::Entity::delete_many()
        .filter(collection_products::Column::TenantId.eq(txn.tenant_id()))
        .filter(collection_products::Column::CollectionId.eq(collection_id))
        .exec(&**txn)
        .await?;
    Ok(())
}

/// Per-index problems with `ids`: repeats, and ids that are not this store's products.
async fn check_members(txn: &TenantTxn, store_id: Uuid, ids: &[Uuid]) -> ApiResult<()> {
    let known: HashSet<Uuid> = products::Entity::find()
        .filter(products::Column::TenantId.eq(txn.tenant_id()))
        .filter(products::Column::StoreId.eq(store_id))
        .filter(products::Column::Id.is_in(ids.to_vec()))
        .all(&**txn)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    let mut errors = FieldErrors::new();
    let mut unknown = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let field = format!("product_ids[{i}]");
        if !known.contains(id) {
            unknown.push(id.to_string());
            errors.insert(field, vec![format!("{id} is not a product of this store")]);
        } else if ids[..i].contains(id) {
            errors.insert(field, vec![format!("{id} is listed twice")]);
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    let (code, detail) = if unknown.is_empty() {
        ("validation_failed", "a product is listed twice".to_string())
    } else {
        (
            "unknown_products",
            format!("not products of this store: {}", unknown.join(", ")),
        )
    };
    Err(ApiError::Unprocessable { code, detail, errors })
}

/// Replaces the collection's products with `product_ids`, in that order.
#[utoipa::path(tag = "catalog", request_body = SetProducts,
    responses((status = 200, body = CollectionView), (status = 404), (status = 409, description = "store_archived"),
        (status = 422, description = "unknown_products (naming them) or validation_failed")),
    security(("bearer" = [])))]
#[put("/stores/{store_id}/collections/{collection_id}/products")]
pub async fn set_products(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<SetProducts>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let ids = body.0.product_ids;
    let (txn, _) = access::open_write(&state, &scope, store_id).await?;
    let collection = find(&txn, store_id, id).await?;
    check_members(&txn, store_id, &ids).await?;
    clear(&txn, id).await?;
    if !ids.is_empty() {
        let rows = ids
            .iter()
            .zip(0..)
            .map(|(product_id, position)| collection_products::ActiveModel {
                tenant_id: Set(txn.tenant_id()),
                collection_id: Set(id),
                product_id: Set(*product_id),
                position: Set(position),
            });
        collection_products::Entity::insert_many(rows)
            .exec_without_returning(&*txn)
            .await?;
    }
    let mut active: collections::ActiveModel = collection.into();
    active.updated_at = Set(Utc::now());
    let collection = active.update(&*txn).await?;
    let view = with_members(&txn, collection).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}
