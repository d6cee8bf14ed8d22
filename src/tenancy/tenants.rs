//! Tenants: created at sign-up with their owner.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::Role;
use crate::entities::{tenants, users};
use crate::error::{ApiError, ApiResult};
use crate::tenancy::slug::slugify;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TenantView {
    pub id: Uuid,
    pub name: String,
    /// Used in storefront URLs.
    pub slug: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl From<tenants::Model> for TenantView {
    fn from(t: tenants::Model) -> Self {
        TenantView {
            id: t.id,
            name: t.name,
            slug: t.slug,
            status: t.status,
            created_at: t.created_at,
        }
    }
}

/// A slug nobody has: the name's, else the name's with a short random suffix.
async fn free_slug(db: &impl ConnectionTrait, name: &str) -> ApiResult<String> {
    let base = slugify(name);
    let mut candidate = base.clone();
    for _ in 0..8 {
        let taken = tenants::Entity::find()
            .filter(tenants::Column::Slug.eq(&candidate))
            .one(db)
            .await?;
        if taken.is_none() {
            return Ok(candidate);
        }
        candidate = format!("{base}-{}", &Uuid::new_v4().simple().to_string()[..6]);
    }
    Err(ApiError::conflict(
        "slug_unavailable",
        "could not find a free tenant slug; choose another name",
    ))
}

pub async fn create_with_owner(
    db: &impl ConnectionTrait,
    name: &str,
    email: &str,
    password_hash: String,
) -> ApiResult<(tenants::Model, users::Model)> {
    let now = Utc::now();
    let tenant = tenants::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_string()),
        slug: Set(free_slug(db, name).await?),
        status: Set("active".into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    let user = users::ActiveModel {
        tenant_id: Set(tenant.id),
        id: Set(Uuid::now_v7()),
        email: Set(email.to_string()),
        password_hash: Set(password_hash),
        role: Set(Role::Owner.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(email_conflict)?;
    Ok((tenant, user))
}

/// Two sign-ups racing for one email: the unique index decides, the loser gets 409.
pub fn email_conflict(err: sea_orm::DbErr) -> ApiError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            ApiError::conflict("email_taken", "an account with this email already exists")
        }
        _ => err.into(),
    }
}
