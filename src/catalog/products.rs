//! Products of a store, created with their variants in one transaction.
//! Deleting archives: the product leaves the storefront and default lists.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::catalog::access;
use crate::catalog::types::{normalize_tags, validate_images, validate_tags, ProductStatus, MAX_VARIANTS};
use crate::catalog::variants::{self, NewVariant};
use crate::catalog::views::{load, Loaded, ProductView, Variants};
use crate::db::{Access, TenantTxn};
use crate::entities::{product_tags, products};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: String,
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    #[serde(default)]
    pub description: String,
    /// `active` (default) or `draft`.
    pub status: Option<ProductStatus>,
    /// Up to 32 tags of 1 to 40 characters; stored lowercase, deduplicated.
    #[validate(custom(function = "validate_tags"))]
    #[serde(default)]
    pub tags: Vec<String>,
    /// Up to 20 http(s) URLs of at most 2048 characters.
    #[validate(custom(function = "validate_images"))]
    #[serde(default)]
    pub images: Vec<String>,
    /// 1 to 100 variants, created with the product or not at all.
    #[validate(
        length(min = 1, max = "MAX_VARIANTS", message = "a product needs 1 to 100 variants"),
        nested
    )]
    pub variants: Vec<NewVariant>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: Option<String>,
    #[validate(length(max = 10000, message = "must be at most 10000 characters"))]
    pub description: Option<String>,
    /// Any status; `active` or `draft` restores an archived product.
    pub status: Option<ProductStatus>,
    /// Replaces all tags.
    #[validate(custom(function = "validate_tags"))]
    pub tags: Option<Vec<String>>,
    /// Replaces all images.
    #[validate(custom(function = "validate_images"))]
    pub images: Option<Vec<String>>,
}

fn tags_of(raw: &[String]) -> ApiResult<Vec<String>> {
    normalize_tags(raw).map_err(|m| ApiError::field("validation_failed", "tags", m))
}

async fn replace_tags(txn: &TenantTxn, store_id: Uuid, product_id: Uuid, tags: &[String]) -> ApiResult<()> {
    product_tags::Entity::delete_many()
        .filter(product_tags::Column::TenantId.eq(txn.tenant_id()))
        .filter(product_tags::Column::ProductId.eq(product_id))
        .exec(&**txn)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    let rows = tags.iter().map(|tag| product_tags::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        product_id: Set(product_id),
        store_id: Set(store_id),
        tag: Set(tag.clone()),
    });
    product_tags::Entity::insert_many(rows)
        .exec_without_returning(&**txn)
        .await?;
    Ok(())
}

/// Writes a product with its tags and variants into `txn`, or refuses it
/// whole; the caller commits. The body must have passed validation.
pub async fn insert(txn: &TenantTxn, store_id: Uuid, body: &CreateProduct) -> ApiResult<Loaded> {
    variants::check_request_skus(&body.variants)?;
    if body.status == Some(ProductStatus::Archived) {
        return Err(ApiError::field(
            "validation_failed",
            "status",
            "a new product is active or draft",
        ));
    }
    let tags = tags_of(&body.tags)?;
    let now = Utc::now();
    let product = products::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        title: Set(body.title.trim().to_string()),
        description: Set(body.description.clone()),
        status: Set(body.status.unwrap_or(ProductStatus::Active).as_str().into()),
        images: Set(serde_json::json!(body.images)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&**txn)
    .await?;
    replace_tags(txn, store_id, product.id, &tags).await?;
    let variants = variants::insert(txn, store_id, product.id, &body.variants, 0).await?;
    Ok(Loaded {
        product,
        tags,
        variants,
    })
}

/// Creates a product with its variants. Honours `Idempotency-Key`.
#[utoipa::path(tag = "catalog", request_body = CreateProduct,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = ProductView), (status = 404), (status = 409, description = "duplicate_sku or store_archived"),
        (status = 422, description = "validation_failed, or duplicate_sku within the request")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/products")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Valid<CreateProduct>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::CatalogWrite)?;
    let store_id = store_id.into_inner();
    let body = body.0;
    let txn = scope.begin(&state, Access::Write).await?;
    let route = format!("POST /stores/{store_id}/products");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let store = access::writable_store(&txn, store_id).await?;
    let view = insert(&txn, store_id, &body).await?.into_view(&store.currency);
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ProductFilter {
    /// Only this status; without it every product except archived ones.
    pub status: Option<ProductStatus>,
    /// Only products with this tag (matched lowercase).
    pub tag: Option<String>,
    /// Only products in this collection (its id).
    pub collection: Option<Uuid>,
}

/// Lists the store's products with their variants, oldest first.
#[utoipa::path(tag = "catalog", params(PageQuery, ProductFilter),
    responses((status = 200, body = Page<ProductView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/products")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
    filter: web::Query<ProductFilter>,
) -> ApiResult<HttpResponse> {
    let (txn, store) = access::open_read(&state, &scope, store_id.into_inner()).await?;
    let mut query = access::products_of(txn.tenant_id(), store.id, filter.tag.as_deref(), filter.collection);
    query = match filter.status {
        Some(status) => query.filter(products::Column::Status.eq(status.as_str())),
        None => query.filter(products::Column::Status.ne(ProductStatus::Archived.as_str())),
    };
    let rows: Page<products::Model> = pagination::fetch(query, products::Column::Id, &page, &*txn, |p| p.id).await?;
    let items = load(&*txn, txn.tenant_id(), rows.items, Variants::All).await?;
    Ok(HttpResponse::Ok().json(Page {
        items: items
            .into_iter()
            .map(|l| l.into_view(&store.currency))
            .collect::<Vec<_>>(),
        next_cursor: rows.next_cursor,
    }))
}

/// One product of the store with its tags and variants.
pub async fn view(txn: &TenantTxn, currency: &str, product: products::Model) -> ApiResult<ProductView> {
    let mut loaded = load(&**txn, txn.tenant_id(), vec![product], Variants::All).await?;
    loaded
        .pop()
        .map(|l| l.into_view(currency))
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a loaded product went missing")))
}

#[utoipa::path(tag = "catalog", responses((status = 200, body = ProductView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/products/{product_id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, product_id) = path.into_inner();
    let (txn, store) = access::open_read(&state, &scope, store_id).await?;
    let product = access::product(&txn, store_id, product_id).await?;
    Ok(HttpResponse::Ok().json(view(&txn, &store.currency, product).await?))
}

/// Changes title, description, status, tags or images.
#[utoipa::path(tag = "catalog", request_body = UpdateProduct,
    responses((status = 200, body = ProductView), (status = 404), (status = 409, description = "store_archived"), (status = 422, description = "validation_failed")),
    security(("bearer" = [])))]
#[patch("/stores/{store_id}/products/{product_id}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<UpdateProduct>,
) -> ApiResult<HttpResponse> {
    let (store_id, product_id) = path.into_inner();
    let body = body.0;
    let tags = body.tags.as_deref().map(tags_of).transpose()?;
    let (txn, store) = access::open_write(&state, &scope, store_id).await?;
    let product = access::product(&txn, store_id, product_id).await?;
    let mut active: products::ActiveModel = product.into();
    if let Some(title) = body.title {
        active.title = Set(title.trim().to_string());
    }
    if let Some(description) = body.description {
        active.description = Set(description);
    }
    if let Some(status) = body.status {
        active.status = Set(status.as_str().into());
    }
    if let Some(images) = body.images {
        active.images = Set(serde_json::json!(images));
    }
    if let Some(tags) = &tags {
        replace_tags(&txn, store_id, product_id, tags).await?;
    }
    active.updated_at = Set(Utc::now());
    let product = active.update(&*txn).await?;
    let view = view(&txn, &store.currency, product).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Archives the product: gone from the storefront, kept for orders and reports.
#[utoipa::path(tag = "catalog", responses((status = 204), (status = 404), (status = 409, description = "store_archived")), security(("bearer" = [])))]
#[delete("/stores/{store_id}/products/{product_id}")]
pub async fn archive(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, product_id) = path.into_inner();
    let (txn, _) = access::open_write(&state, &scope, store_id).await?;
    let product = access::product(&txn, store_id, product_id).await?;
    if product.status != ProductStatus::Archived.as_str() {
        let mut active: products::ActiveModel = product.into();
        active.status = Set(ProductStatus::Archived.as_str().into());
        active.updated_at = Set(Utc::now());
        active.update(&*txn).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
