//! Who is calling: the extractor turns `Authorization: Bearer ...` into a
//! `Principal`, and `TenantScope` is the only way to reach tenant data.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use chrono::{Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::scopes::Scope;
use crate::auth::tokens::hash_secret;
use crate::db::{Access, TenantTxn};
use crate::entities::api_keys;
use crate::error::ApiError;
use crate::state::AppState;

/// API keys start with this, so they are told apart from JWTs at a glance.
pub const API_KEY_PREFIX: &str = "lm_";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Staff,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
        }
    }
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "owner" => Some(Role::Owner),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Principal {
    Admin {
        admin_id: Uuid,
    },
    User {
        tenant_id: Uuid,
        user_id: Uuid,
        role: Role,
    },
    ApiKey {
        tenant_id: Uuid,
        key_id: Uuid,
        scopes: Vec<Scope>,
    },
}

/// A tenant user or API key, with the tenant its data access is confined to.
#[derive(Debug, Clone)]
pub struct TenantScope {
    tenant_id: Uuid,
    actor: Actor,
}

#[derive(Debug, Clone)]
pub enum Actor {
    User { user_id: Uuid, role: Role },
    ApiKey { key_id: Uuid, scopes: Vec<Scope> },
}

impl TenantScope {
    pub fn tenant_id(&self) -> Uuid {
        self.tenant_id
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Opens a transaction that sees only this tenant's rows.
    pub async fn begin(&self, state: &AppState, access: Access) -> Result<TenantTxn, ApiError> {
        Ok(state.db.tenant(self.tenant_id, access).await?)
    }

    /// Users may do everything a scope allows; API keys only what they were given.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match &self.actor {
            Actor::User { .. } => Ok(()),
            Actor::ApiKey { scopes, .. } if scopes.contains(&scope) => Ok(()),
            Actor::ApiKey { .. } => Err(ApiError::forbidden(
                "missing_scope",
                format!("this API key lacks the `{}` scope", scope.as_str()),
            )),
        }
    }

    /// Managing people and keys is for the tenant's owner, signed in.
    pub fn require_owner(&self) -> Result<Uuid, ApiError> {
        match &self.actor {
            Actor::User {
                user_id,
                role: Role::Owner,
            } => Ok(*user_id),
            _ => Err(ApiError::forbidden("owner_only", "only the tenant's owner may do this")),
        }
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match &self.actor {
            Actor::User { user_id, .. } => Some(*user_id),
            Actor::ApiKey { .. } => None,
        }
    }
}

/// The platform owner's administrators.
#[derive(Debug, Clone)]
pub struct AdminPrincipal {
    pub admin_id: Uuid,
}

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing_credentials", "send `Authorization: Bearer <token>`"))?;
    let value = header
        .to_str()
        .map_err(|_| ApiError::unauthorized("invalid_token", "the authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(token.trim().to_string())
        }
        _ => Err(ApiError::unauthorized("invalid_token", "use the Bearer scheme")),
    }
}

async fn authenticate(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    if token.starts_with(API_KEY_PREFIX) {
        return api_key_principal(state, token).await;
    }
    let claims = state.keys.verify(token)?;
    match (
        claims.kind.as_str(),
        claims.tid,
        claims.role.as_deref().and_then(Role::parse),
    ) {
        ("admin", _, _) => Ok(Principal::Admin { admin_id: claims.sub }),
        ("user", Some(tenant_id), Some(role)) => Ok(Principal::User {
            tenant_id,
            user_id: claims.sub,
            role,
        }),
        _ => Err(ApiError::unauthorized("invalid_token", "the access token is not valid")),
    }
}

/// Keys are looked up by hash before the tenant is known; the key's last use
/// is written at most once a minute so reads stay reads.
async fn api_key_principal(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let revoked = || ApiError::unauthorized("invalid_api_key", "the API key is not valid or was revoked");
    let txn = state.db.platform(Access::Read).await?;
    let key = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(hash_secret(token)))
        .one(&txn)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(revoked)?;
    drop(txn);
    let stale = key.last_used_at.is_none_or(|t| Utc::now() - t > Duration::seconds(60));
    let scopes: Vec<Scope> = serde_json::from_value(key.scopes.clone()).unwrap_or_default();
    let principal = Principal::ApiKey {
        tenant_id: key.tenant_id,
        key_id: key.id,
        scopes,
    };
    if stale {
        let txn = state.db.tenant(key.tenant_id, Access::Write).await?;
        let mut active: api_keys::ActiveModel = key.into();
        active.last_used_at = Set(Some(Utc::now()));
        active.update(&*txn).await?;
        txn.commit().await?;
    }
    Ok(principal)
}

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, actix_web::Error>>>>;

fn state_of(req: &HttpRequest) -> Result<AppState, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .map(|d| d.get_ref().clone())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))
}

impl FromRequest for Principal {
    type Error = actix_web::Error;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = bearer(req);
        let state = state_of(req);
        Box::pin(async move { Ok(authenticate(&state?, &token?).await?) })
    }
}

impl FromRequest for TenantScope {
    type Error = actix_web::Error;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            match principal.await? {
                Principal::User {
                    tenant_id,
                    user_id,
                    role,
                } => Ok(TenantScope {
                    tenant_id,
                    actor: Actor::User { user_id, role },
                }),
                Principal::ApiKey {
                    tenant_id,
                    key_id,
                    scopes,
                } => Ok(TenantScope {
                    tenant_id,
                    actor: Actor::ApiKey { key_id, scopes },
                }),
                Principal::Admin { .. } => Err(ApiError::forbidden(
                    "tenant_required",
                    "this endpoint is for a tenant's users and API keys",
                )
                .into()),
            }
        })
    }
}

impl FromRequest for AdminPrincipal {
    type Error = actix_web::Error;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        Box::pin(async move {
            match principal.await? {
                Principal::Admin { admin_id } => Ok(AdminPrincipal { admin_id }),
                _ => Err(ApiError::forbidden("admin_only", "this endpoint is for platform administrators").into()),
            }
        })
    }
}
