//! Collections: a named, ordered shelf of a store's products. Deleting one
//! removes it (products stay); `members` sets which products it holds.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::catalog::access;
use crate::catalog::members;
use crate::db::{Access, TenantTxn};
use crate::entities::collections;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;
use crate::tenancy::slug;

#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionView {
    pub id: Uuid,
    pub store_id: Uuid,
    pub title: String,
    pub slug: String,
    /// The products in order; on single-collection answers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_ids: Option<Vec<Uuid>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<collections::Model> for CollectionView {
    fn from(c: collections::Model) -> Self {
        CollectionView {
            id: c.id,
            store_id: c.store_id,
            title: c.title,
            slug: c.slug,
            product_ids: None,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCollection {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: String,
    /// Unique within the store; made from the title when absent.
    pub slug: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCollection {
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: Option<String>,
    pub slug: Option<String>,
}

pub(super) async fn find(txn: &TenantTxn, store_id: Uuid, id: Uuid) -> ApiResult<collections::Model> {
    collections::Entity::find_by_id((txn.tenant_id(), id))
        .filter(collections::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

async fn ensure_slug_free(txn: &TenantTxn, store_id: Uuid, slug: &str, except: Option<Uuid>) -> ApiResult<()> {
    let mut query = collections::Entity::find()
        .filter(collections::Column::TenantId.eq(txn.tenant_id()))
        .filter(collections::Column::StoreId.eq(store_id))
        .filter(collections::Column::Slug.eq(slug));
    if let Some(id) = except {
        query = query.filter(collections::Column::Id.ne(id));
    }
    match query.one(&**txn).await? {
        Some(_) => Err(duplicate_slug()),
        None => Ok(()),
    }
}

fn duplicate_slug() -> ApiError {
    ApiError::conflict(
        "duplicate_slug",
        "a collection with this slug already exists in the store",
    )
}

fn slug_race(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => duplicate_slug(),
        _ => err.into(),
    }
}

pub(super) async fn with_members(txn: &TenantTxn, c: collections::Model) -> ApiResult<CollectionView> {
    let ids = members::ids(&**txn, txn.tenant_id(), c.id).await?;
    Ok(CollectionView {
        product_ids: Some(ids),
        ..c.into()
    })
}

/// Creates an empty collection. Honours `Idempotency-Key`.
#[utoipa::path(tag = "catalog", request_body = CreateCollection,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = CollectionView), (status = 404), (status = 409, description = "duplicate_slug or store_archived"), (status = 422)),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/collections")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Valid<CreateCollection>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::CatalogWrite)?;
    let store_id = store_id.into_inner();
    let body = body.0;
    let slug = match &body.slug {
        Some(s) => slug::parse("slug", s)?,
        None => slug::slugify_or(&body.title, "collection"),
    };
    let txn = scope.begin(&state, Access::Write).await?;
    let route = format!("POST /stores/{store_id}/collections");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    access::writable_store(&txn, store_id).await?;
    ensure_slug_free(&txn, store_id, &slug, None).await?;
    let now = Utc::now();
    let collection = collections::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        title: Set(body.title.trim().to_string()),
        slug: Set(slug),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await
    .map_err(slug_race)?;
    let view = with_members(&txn, collection).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(response)
}

/// Lists the store's collections, oldest first.
#[utoipa::path(tag = "catalog", params(PageQuery), responses((status = 200, body = Page<CollectionView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/collections")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (txn, store) = access::open_read(&state, &scope, store_id.into_inner()).await?;
    let query = collections::Entity::find()
        .filter(collections::Column::TenantId.eq(txn.tenant_id()))
        .filter(collections::Column::StoreId.eq(store.id));
    let page: Page<CollectionView> = pagination::fetch(query, collections::Column::Id, &page, &*txn, |c| c.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(tag = "catalog", responses((status = 200, body = CollectionView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/collections/{collection_id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let (txn, _) = access::open_read(&state, &scope, store_id).await?;
    let collection = find(&txn, store_id, id).await?;
    Ok(HttpResponse::Ok().json(with_members(&txn, collection).await?))
}

/// Changes the title or slug.
#[utoipa::path(tag = "catalog", request_body = UpdateCollection,
    responses((status = 200, body = CollectionView), (status = 404), (status = 409, description = "duplicate_slug or store_archived"), (status = 422)),
    security(("bearer" = [])))]
#[patch("/stores/{store_id}/collections/{collection_id}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    body: Valid<UpdateCollection>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let body = body.0;
    let slug = body.slug.as_deref().map(|s| slug::parse("slug", s)).transpose()?;
    let (txn, _) = access::open_write(&state, &scope, store_id).await?;
    let collection = find(&txn, store_id, id).await?;
    if let Some(slug) = &slug {
        ensure_slug_free(&txn, store_id, slug, Some(id)).await?;
    }
    let mut active: collections::ActiveModel = collection.into();
    if let Some(title) = body.title {
        active.title = Set(title.trim().to_string());
    }
    if let Some(slug) = slug {
        active.slug = Set(slug);
    }
    active.updated_at = Set(Utc::now());
    let collection = active.update(&*txn).await.map_err(slug_race)?;
    let view = with_members(&txn, collection).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Deletes the collection; its products are not touched.
#[utoipa::path(tag = "catalog", responses((status = 204), (status = 404), (status = 409, description = "store_archived")), security(("bearer" = [])))]
#[delete("/stores/{store_id}/collections/{collection_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let (txn, _) = access::open_write(&state, &scope, store_id).await?;
    find(&txn, store_id, id).await?;
    members::clear(&txn, id).await?;
    collections::Entity::delete_by_id((txn.tenant_id(), id))
        .exec(&*txn)
        .await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
