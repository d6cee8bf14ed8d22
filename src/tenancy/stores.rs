//! `/api/v1/stores`: a tenant's stores. Deleting archives; nothing is lost.

use actix_web::http::StatusCode;
use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::stores;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::http::pagination::{Page, PageQuery};
use crate::money::{currency, Currency};
use crate::state::AppState;
use crate::tenancy::slug;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StoreStatus {
    Active,
    /// Closed to shoppers for now; the merchant keeps working on it.
    Disabled,
    Archived,
}

impl StoreStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreStatus::Active => "active",
            StoreStatus::Disabled => "disabled",
            StoreStatus::Archived => "archived",
        }
    }
    fn parse(s: &str) -> StoreStatus {
        match s {
            "disabled" => StoreStatus::Disabled,
            "archived" => StoreStatus::Archived,
            _ => StoreStatus::Active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreView {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub currency: String,
    pub time_zone: String,
    pub status: StoreStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<stores::Model> for StoreView {
    fn from(s: stores::Model) -> Self {
        StoreView {
            id: s.id,
            name: s.name,
            slug: s.slug,
            currency: s.currency,
            time_zone: s.time_zone,
            status: StoreStatus::parse(&s.status),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

fn validate_time_zone(tz: &str) -> Result<(), validator::ValidationError> {
    tz.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| {
        validator::ValidationError::new("time_zone")
            .with_message("must be an IANA time zone such as Europe/Paris".into())
    })
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
pub struct CreateStore {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub name: String,
    /// Unique within the tenant; made from the name when absent.
    pub slug: Option<String>,
    /// ISO 4217, e.g. `EUR`.
    #[validate(custom(function = "currency::validate"))]
    pub currency: String,
    /// IANA time zone; `UTC` when absent.
    #[validate(custom(function = "validate_time_zone"))]
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct UpdateStore {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub name: Option<String>,
    pub slug: Option<String>,
    #[validate(custom(function = "currency::validate"))]
    pub currency: Option<String>,
    #[validate(custom(function = "validate_time_zone"))]
    pub time_zone: Option<String>,
    /// `active` or `disabled`; archive with DELETE.
    pub status: Option<StoreStatus>,
}

async fn ensure_slug_free(txn: &TenantTxn, slug: &str, except: Option<Uuid>) -> ApiResult<()> {
    let mut query = stores::Entity::find()
        .filter(stores::Column::TenantId.eq(txn.tenant_id()))
        .filter(stores::Column::Slug.eq(slug));
    if let Some(id) = except {
        query = query.filter(stores::Column::Id.ne(id));
    }
    if query.one(&**txn).await?.is_some() {
        return Err(ApiError::conflict(
            "duplicate_slug",
            format!("a store with the slug `{slug}` already exists"),
        ));
    }
    Ok(())
}

fn slug_conflict(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("duplicate_slug", "a store with this slug already exists")
        }
        _ => err.into(),
    }
}

/// Creates a store. Honours `Idempotency-Key`.
#[utoipa::path(tag = "stores", request_body = CreateStore,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = StoreView), (status = 409, description = "duplicate_slug"), (status = 422, description = "validation_failed")),
    security(("bearer" = [])))]
#[post("/stores")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    key: IdempotencyKey,
    body: Valid<CreateStore>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::StoresWrite)?;
    let body = body.0;
    let slug = match &body.slug {
        Some(s) => slug::parse("slug", s)?,
        None => slug::slugify(&body.name),
    };
    let currency =
        Currency::parse(&body.currency).ok_or_else(|| ApiError::field("validation_failed", "currency", "unknown"))?;
    let txn = scope.begin(&state, Access::Write).await?;
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint("POST /stores", &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    ensure_slug_free(&txn, &slug, None).await?;
    crate::billing::limits::check_store(&txn).await?;
    let now = Utc::now();
    let store = stores::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        name: Set(body.name.trim().to_string()),
        slug: Set(slug),
        currency: Set(currency.code().to_string()),
        time_zone: Set(body.time_zone.clone().unwrap_or_else(|| "UTC".into())),
        status: Set(StoreStatus::Active.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await
    .map_err(slug_conflict)?;
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &StoreView::from(store)).await?;
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StoreFilter {
    /// Include archived stores (default false).
    #[serde(default)]
    pub include_archived: bool,
}

/// Lists stores, oldest first.
#[utoipa::path(tag = "stores", params(PageQuery, StoreFilter), responses((status = 200, body = Page<StoreView>)), security(("bearer" = [])))]
#[get("/stores")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    page: web::Query<PageQuery>,
    filter: web::Query<StoreFilter>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::StoresRead)?;
    let limit = page.limit()?;
    let txn = scope.begin(&state, Access::Read).await?;
    let mut query = stores::Entity::find().filter(stores::Column::TenantId.eq(txn.tenant_id()));
    if !filter.include_archived {
        query = query.filter(stores::Column::Status.ne(StoreStatus::Archived.as_str()));
    }
    if let Some(after) = page.after()? {
        query = query.filter(stores::Column::Id.gt(after));
    }
    let rows = query
        .order_by_asc(stores::Column::Id)
        .limit(limit + 1)
        .all(&*txn)
        .await?;
    Ok(HttpResponse::Ok().json(Page::<StoreView>::from_rows(rows, limit, |r| r.id, Into::into)))
}

/// The store, if it belongs to the scope's tenant.
pub async fn find(txn: &TenantTxn, id: Uuid) -> ApiResult<stores::Model> {
    stores::Entity::find_by_id((txn.tenant_id(), id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(tag = "stores", responses((status = 200, body = StoreView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{id}")]
pub async fn get(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    scope.require(Scope::StoresRead)?;
    let txn = scope.begin(&state, Access::Read).await?;
    Ok(HttpResponse::Ok().json(StoreView::from(find(&txn, id.into_inner()).await?)))
}

/// Changes name, slug, currency, time zone or status (`active`/`disabled`).
#[utoipa::path(tag = "stores", request_body = UpdateStore,
    responses((status = 200, body = StoreView), (status = 404), (status = 409, description = "duplicate_slug, store_archived or currency_in_use")),
    security(("bearer" = [])))]
#[patch("/stores/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    scope: TenantScope,
    id: web::Path<Uuid>,
    body: Valid<UpdateStore>,
) -> ApiResult<HttpResponse> {
    scope.require(Scope::StoresWrite)?;
    let body = body.0;
    if body.status == Some(StoreStatus::Archived) {
        return Err(ApiError::field(
            "validation_failed",
            "status",
            "use DELETE to archive a store",
        ));
    }
    let txn = scope.begin(&state, Access::Write).await?;
    let store = find(&txn, id.into_inner()).await?;
    if store.status == StoreStatus::Archived.as_str() {
        return Err(ApiError::conflict(
            "store_archived",
            "an archived store cannot be changed",
        ));
    }
    let store_id = store.id;
    let currency = store.currency.clone();
    let mut active: stores::ActiveModel = store.into();
    if let Some(name) = body.name {
        active.name = Set(name.trim().to_string());
    }
    if let Some(s) = body.slug {
        let s = slug::parse("slug", &s)?;
        ensure_slug_free(&txn, &s, Some(store_id)).await?;
        active.slug = Set(s);
    }
    if let Some(c) = body.currency.as_deref().and_then(Currency::parse) {
        if c.code() != currency && crate::catalog::has_prices(&txn, store_id).await? {
            return Err(ApiError::conflict(
                "currency_in_use",
                format!("the store's prices are in {currency}; a store with products keeps its currency"),
            ));
        }
        active.currency = Set(c.code().to_string());
    }
    if let Some(tz) = body.time_zone {
        active.time_zone = Set(tz);
    }
    if let Some(status) = body.status {
        active.status = Set(status.as_str().into());
    }
    active.updated_at = Set(Utc::now());
    let store = active.update(&*txn).await.map_err(slug_conflict)?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(StoreView::from(store)))
}

/// Archives the store: hidden from shoppers and lists, kept with its data.
#[utoipa::path(tag = "stores", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/stores/{id}")]
pub async fn archive(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    scope.require(Scope::StoresWrite)?;
    let txn = scope.begin(&state, Access::Write).await?;
    let store = find(&txn, id.into_inner()).await?;
    if store.status != StoreStatus::Archived.as_str() {
        let mut active: stores::ActiveModel = store.into();
        active.status = Set(StoreStatus::Archived.as_str().into());
        active.updated_at = Set(Utc::now());
        active.update(&*txn).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
