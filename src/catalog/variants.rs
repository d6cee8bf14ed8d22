//! Variants: what is actually sold (SKU, price, stock). Deleting archives,
//! since orders will keep pointing at them; an archived variant keeps its SKU.

use actix_web::http::StatusCode;
use actix_web::{delete, patch, post, web, HttpResponse};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::catalog::access;
use crate::catalog::types::{validate_sku, MAX_POSITION, MAX_PRICE, MAX_STOCK};
use crate::catalog::views::VariantView;
use crate::db::{Access, TenantTxn};
use crate::entities::variants;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    /// 1 to 64 letters, digits, `-`, `_`, `.`; unique in the store (case-sensitive).
    #[validate(custom(function = "validate_sku"))]
    pub sku: String,
    /// `Default` when absent.
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: Option<String>,
    /// Minor units of the store's currency, 0 to 10^12.
    #[validate(range(min = 0, max = "MAX_PRICE", message = "must be 0 to 1000000000000 minor units"))]
    pub price: i64,
    /// Units on hand, 0 when absent.
    #[validate(range(min = 0, max = "MAX_STOCK", message = "must be 0 to 1000000000"))]
    #[serde(default)]
    pub stock: i64,
    /// Display order; after the existing variants when absent.
    #[validate(range(min = 0, max = "MAX_POSITION", message = "must be 0 to 10000"))]
    pub position: Option<i32>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVariant {
    #[validate(custom(function = "validate_sku"))]
    pub sku: Option<String>,
    #[validate(length(min = 1, max = 200, message = "must be 1 to 200 characters"))]
    pub title: Option<String>,
    #[validate(range(min = 0, max = "MAX_PRICE", message = "must be 0 to 1000000000000 minor units"))]
    pub price: Option<i64>,
    #[validate(range(min = 0, max = "MAX_POSITION", message = "must be 0 to 10000"))]
    pub position: Option<i32>,
    /// `false` restores an archived variant. Stock changes go through `/stock`.
    pub archived: Option<bool>,
}

/// Refuses a request that names one SKU twice, pointing at the repeat.
pub fn check_request_skus(list: &[NewVariant]) -> ApiResult<()> {
    for (i, v) in list.iter().enumerate() {
        if let Some(first) = list[..i].iter().position(|w| w.sku == v.sku) {
            return Err(ApiError::field(
                "duplicate_sku",
                &format!("variants[{i}].sku"),
                format!("repeats the SKU of variants[{first}]"),
            ));
        }
    }
    Ok(())
}

/// 409 when `sku` is held by another variant of the store.
async fn ensure_sku_free(txn: &TenantTxn, store_id: Uuid, sku: &str, except: Option<Uuid>) -> ApiResult<()> {
    let mut query = variants::Entity::find()
        .filter(variants::Column::TenantId.eq(txn.tenant_id()))
        .filter(variants::Column::StoreId.eq(store_id))
        .filter(variants::Column::Sku.eq(sku));
    if let Some(id) = except {
        query = query.filter(variants::Column::Id.ne(id));
    }
    match query.one(&**txn).await? {
        None => Ok(()),
        Some(holder) => Err(duplicate_sku(sku, holder.archived)),
    }
}

fn duplicate_sku(sku: &str, archived: bool) -> ApiError {
    let hint = if archived {
        " by an archived variant (restore it with `archived: false`, or change its SKU)"
    } else {
        ""
    };
    ApiError::conflict(
        "duplicate_sku",
        format!("the SKU `{sku}` is already used in this store{hint}"),
    )
}

/// A unique-index refusal means a concurrent request took the SKU first.
fn sku_race(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("duplicate_sku", "a SKU in this request is already used in this store")
        }
        _ => err.into(),
    }
}

/// Inserts `list` under `product_id`; positions continue after `next_position`.
pub async fn insert(
    txn: &TenantTxn,
    store_id: Uuid,
    product_id: Uuid,
    list: &[NewVariant],
    next_position: i32,
) -> ApiResult<Vec<variants::Model>> {
    let now = Utc::now();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        ensure_sku_free(txn, store_id, &v.sku, None).await?;
        let fallback = next_position.saturating_add(i32::try_from(i).unwrap_or(i32::MAX));
        let row = variants::ActiveModel {
            tenant_id: Set(txn.tenant_id()),
            id: Set(Uuid::now_v7()),
            store_id: Set(store_id),
            product_id: Set(product_id),
            sku: Set(v.sku.clone()),
            title: Set(v.title.as_deref().map_or("Default", str::trim).to_string()),
            price: Set(v.price),
            stock: Set(v.stock),
            position: Set(v.position.unwrap_or(fallback.min(MAX_POSITION))),
            archived: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
        };
        out.push(row.insert(&**txn).await.map_err(sku_race)?);
    }
    Ok(out)
}

/// Adds a variant to a product. Honours `Idempotency-Key`.
#[utoipa::path(tag = "catalog", request_body = NewVariant,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = VariantView), (status = 404), (status = 409, description = "duplicate_sku or store_archived"), (status = 422, description = "validation_failed")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/products/{product_id}/variants")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
    body: Valid<NewVariant>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::CatalogWrite)?;
    let (store_id, product_id) = path.into_inner();
    let body = body.0;
    let txn = scope.begin(&state, Access::Write).await?;
    let route = format!("POST /stores/{store_id}/products/{product_id}/variants");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let store = access::writable_store(&txn, store_id).await?;
    access::product(&txn, store_id, product_id).await?;
    let last = variants::Entity::find()
        .filter(variants::Column::TenantId.eq(txn.tenant_id()))
        .filter(variants::Column::ProductId.eq(product_id))
        .order_by_desc(variants::Column::Position)
        .one(&*txn)
        .await?;
    let next = last.map_or(0, |v| v.position.saturating_add(1));
    let mut rows = insert(&txn, store_id, product_id, std::slice::from_ref(&body), next).await?;
    let variant = rows
        .pop()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("inserting a variant returned no row")))?;
    let view = VariantView::new(variant, &store.currency);
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(response)
}

/// 409 when archiving `variant` would leave its product with nothing to sell.
async fn ensure_not_last(txn: &TenantTxn, variant: &variants::Model) -> ApiResult<()> {
    let others = variants::Entity::find()
        .filter(variants::Column::TenantId.eq(txn.tenant_id()))
        .filter(variants::Column::ProductId.eq(variant.product_id))
        .filter(variants::Column::Archived.eq(false))
        .filter(variants::Column::Id.ne(variant.id))
        .count(&**txn)
        .await?;
    if others == 0 {
        return Err(ApiError::conflict(
            "last_variant",
            "a product keeps at least one variant; archive the product instead",
        ));
    }
    Ok(())
}

/// Changes SKU, title, price, position, or restores an archived variant.
#[utoipa::path(tag = "catalog", request_body = UpdateVariant,
    responses((status = 200, body = VariantView), (status = 404), (status = 409, description = "duplicate_sku, last_variant or store_archived"), (status = 422, description = "validation_failed")),
    security(("bearer" = [])))]
#[patch("/stores/{store_id}/products/{product_id}/variants/{variant_id}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid, Uuid)>,
    body: Valid<UpdateVariant>,
) -> ApiResult<HttpResponse> {
    let (store_id, product_id, variant_id) = path.into_inner();
    let body = body.0;
    let (txn, store) = access::open_write(&state, &scope, store_id).await?;
    let variant = access::variant(&txn, store_id, Some(product_id), variant_id).await?;
    if body.archived == Some(true) && !variant.archived {
        ensure_not_last(&txn, &variant).await?;
    }
    if let Some(sku) = &body.sku {
        ensure_sku_free(&txn, store_id, sku, Some(variant.id)).await?;
    }
    let mut active: variants::ActiveModel = variant.into();
    if let Some(sku) = body.sku {
        active.sku = Set(sku);
    }
    if let Some(title) = body.title {
        active.title = Set(title.trim().to_string());
    }
    if let Some(price) = body.price {
        active.price = Set(price);
    }
    if let Some(position) = body.position {
        active.position = Set(position);
    }
    if let Some(archived) = body.archived {
        active.archived = Set(archived);
    }
    active.updated_at = Set(Utc::now());
    let variant = active.update(&*txn).await.map_err(sku_race)?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(VariantView::new(variant, &store.currency)))
}

/// Archives the variant: no longer sold, kept for the orders that name it.
#[utoipa::path(tag = "catalog", responses((status = 204), (status = 404), (status = 409, description = "last_variant or store_archived")), security(("bearer" = [])))]
#[delete("/stores/{store_id}/products/{product_id}/variants/{variant_id}")]
pub async fn archive(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, product_id, variant_id) = path.into_inner();
    let (txn, _) = access::open_write(&state, &scope, store_id).await?;
    let variant = access::variant(&txn, store_id, Some(product_id), variant_id).await?;
    if !variant.archived {
        ensure_not_last(&txn, &variant).await?;
        let mut active: variants::ActiveModel = variant.into();
        active.archived = Set(true);
        active.updated_at = Set(Utc::now());
        active.update(&*txn).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
