//! The catalog as shoppers see it, without signing in: active products of an
//! active store, their live variants with prices and stock, and collections.

use std::collections::HashMap;

use actix_web::{get, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::catalog::access::products_of;
use crate::catalog::members;
use crate::catalog::types::ProductStatus;
use crate::catalog::views::{load, Loaded, Variants};
use crate::entities::{collections, products};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::money::Money;
use crate::state::AppState;
use crate::tenancy::storefront::{open, Storefront};

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopVariant {
    pub id: Uuid,
    pub sku: String,
    pub title: String,
    pub price: Money,
    /// Units available now.
    pub stock: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopProduct {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub images: Vec<String>,
    /// In display order; archived variants are not shown.
    pub variants: Vec<ShopVariant>,
}

impl ShopProduct {
    fn new(loaded: Loaded, currency: &str) -> ShopProduct {
        let images = loaded.images();
        ShopProduct {
            id: loaded.product.id,
            title: loaded.product.title,
            description: loaded.product.description,
            tags: loaded.tags,
            images,
            variants: loaded
                .variants
                .into_iter()
                .map(|v| ShopVariant {
                    id: v.id,
                    sku: v.sku,
                    title: v.title,
                    price: Money::new(v.price, currency),
                    stock: v.stock,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShopCollection {
    pub id: Uuid,
    pub title: String,
    pub slug: String,
    /// Its active products in the merchant's order; on the single-collection answer only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub products: Option<Vec<ShopProduct>>,
}

impl From<collections::Model> for ShopCollection {
    fn from(c: collections::Model) -> Self {
        ShopCollection {
            id: c.id,
            title: c.title,
            slug: c.slug,
            products: None,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ShopFilter {
    /// Only products with this tag.
    pub tag: Option<String>,
    /// Only products in the collection with this slug.
    pub collection: Option<String>,
}

async fn collection_by_slug(front: &Storefront, slug: &str) -> ApiResult<Option<collections::Model>> {
    Ok(collections::Entity::find()
        .filter(collections::Column::TenantId.eq(front.tenant.id))
        .filter(collections::Column::StoreId.eq(front.store.id))
        .filter(collections::Column::Slug.eq(slug))
        .one(&*front.txn)
        .await?)
}

async fn shop_products(front: &Storefront, rows: Vec<products::Model>) -> ApiResult<Vec<ShopProduct>> {
    let loaded = load(&*front.txn, front.tenant.id, rows, Variants::Live).await?;
    Ok(loaded
        .into_iter()
        .map(|l| ShopProduct::new(l, &front.store.currency))
        .collect())
}

/// The store's active products, oldest first.
#[utoipa::path(tag = "storefront", params(PageQuery, ShopFilter), responses((status = 200, body = Page<ShopProduct>), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}/products")]
pub async fn list_products(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    page: web::Query<PageQuery>,
    filter: web::Query<ShopFilter>,
) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug) = path.into_inner();
    let front = open(&state, &tenant_slug, &store_slug).await?;
    let collection_id = match &filter.collection {
        None => None,
        Some(slug) => match collection_by_slug(&front, slug).await? {
            Some(c) => Some(c.id),
            // No such collection: nothing is in it.
            None => {
                return Ok(HttpResponse::Ok().json(Page::<ShopProduct> {
                    items: Vec::new(),
                    next_cursor: None,
                }))
            }
        },
    };
    let query = products_of(front.tenant.id, front.store.id, filter.tag.as_deref(), collection_id)
        .filter(products::Column::Status.eq(ProductStatus::Active.as_str()));
    let rows: Page<products::Model> =
        pagination::fetch(query, products::Column::Id, &page, &*front.txn, |p| p.id).await?;
    let items = shop_products(&front, rows.items).await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

/// One active product with its variants, prices and stock.
#[utoipa::path(tag = "storefront", responses((status = 200, body = ShopProduct), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}/products/{product_id}")]
pub async fn get_product(
    state: web::Data<AppState>,
    path: web::Path<(String, String, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug, product_id) = path.into_inner();
    let front = open(&state, &tenant_slug, &store_slug).await?;
    let row = products::Entity::find_by_id((front.tenant.id, product_id))
        .filter(products::Column::StoreId.eq(front.store.id))
        .filter(products::Column::Status.eq(ProductStatus::Active.as_str()))
        .one(&*front.txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let product = shop_products(&front, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(product))
}

/// The store's collections, oldest first.
#[utoipa::path(tag = "storefront", params(PageQuery), responses((status = 200, body = Page<ShopCollection>), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}/collections")]
pub async fn list_collections(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug) = path.into_inner();
    let front = open(&state, &tenant_slug, &store_slug).await?;
    let query = collections::Entity::find()
        .filter(collections::Column::TenantId.eq(front.tenant.id))
        .filter(collections::Column::StoreId.eq(front.store.id));
    let page: Page<ShopCollection> =
        pagination::fetch(query, collections::Column::Id, &page, &*front.txn, |c| c.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A collection with its active products in the merchant's order.
#[utoipa::path(tag = "storefront", responses((status = 200, body = ShopCollection), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}/collections/{collection_slug}")]
pub async fn get_collection(
    state: web::Data<AppState>,
    path: web::Path<(String, String, String)>,
) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug, slug) = path.into_inner();
    let front = open(&state, &tenant_slug, &store_slug).await?;
    let collection = collection_by_slug(&front, &slug).await?.ok_or(ApiError::NotFound)?;
    let ids = members::ids(&*front.txn, front.tenant.id, collection.id).await?;
    let order: HashMap<Uuid, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    let mut rows = products::Entity::find()
        .filter(products::Column::TenantId.eq(front.tenant.id))
        .filter(products::Column::StoreId.eq(front.store.id))
        .filter(products::Column::Status.eq(ProductStatus::Active.as_str()))
        .filter(products::Column::Id.is_in(ids))
        .all(&*front.txn)
        .await?;
    rows.sort_by_key(|p| order.get(&p.id).copied().unwrap_or(usize::MAX));
    let products = shop_products(&front, rows).await?;
    Ok(HttpResponse::Ok().json(ShopCollection {
        products: Some(products),
        ..collection.into()
    }))
}
