//! `/api/v1/api-keys`: named, scoped keys for integrations. The secret is
//! shown once at creation and stored only as a hash.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::principal::{TenantScope, API_KEY_PREFIX};
use crate::auth::scopes::Scope;
use crate::auth::tokens::{hash_secret, random_secret};
use crate::db::Access;
use crate::entities::api_keys;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateApiKey {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub name: String,
    /// At least one of the scopes listed in the API overview.
    #[validate(length(min = 1, max = 16, message = "must name 1 to 16 scopes"))]
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The secret, shown this once. Send it as `Authorization: Bearer <key>`.
    pub secret: String,
}

impl From<api_keys::Model> for ApiKeyView {
    fn from(m: api_keys::Model) -> Self {
        ApiKeyView {
            id: m.id,
            name: m.name,
            prefix: m.prefix,
            scopes: serde_json::from_value(m.scopes).unwrap_or_default(),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
        }
    }
}

/// Creates an API key (owner only).
#[utoipa::path(tag = "api keys", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 403, description = "owner_only")), security(("bearer" = [])))]
#[post("/api-keys")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    body: Valid<CreateApiKey>,
) -> ApiResult<HttpResponse> {
    let owner = scope.require_owner()?;
    let body = body.0;
    let mut scopes = body.scopes;
    scopes.sort_by_key(|s| s.as_str());
    scopes.dedup();
    let secret = format!("{API_KEY_PREFIX}{}", random_secret(32));
    let txn = scope.begin(&state, Access::Write).await?;
    let model = api_keys::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        name: Set(body.name.trim().to_string()),
        prefix: Set(secret.chars().take(10).collect()),
        key_hash: Set(hash_secret(&secret)),
        scopes: Set(serde_json::to_value(&scopes).map_err(anyhow::Error::from)?),
        created_by: Set(owner),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CreatedApiKey {
        key: model.into(),
        secret,
    }))
}

/// Lists the tenant's API keys, revoked ones included (owner only).
#[utoipa::path(tag = "api keys", params(PageQuery), responses((status = 200, body = Page<ApiKeyView>)), security(("bearer" = [])))]
#[get("/api-keys")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Read).await?;
    let query = api_keys::Entity::find().filter(api_keys::Column::TenantId.eq(txn.tenant_id()));
    let page: Page<ApiKeyView> = pagination::fetch(query, api_keys::Column::Id, &page, &*txn, |r| r.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Revokes a key at once (owner only). Revoking twice is harmless.
#[utoipa::path(tag = "api keys", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/api-keys/{id}")]
pub async fn revoke(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Write).await?;
    let key = api_keys::Entity::find_by_id((txn.tenant_id(), id.into_inner()))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if key.revoked_at.is_none() {
        let mut active: api_keys::ActiveModel = key.into();
        active.revoked_at = Set(Some(Utc::now()));
        active.update(&*txn).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
