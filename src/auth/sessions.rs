//! Refresh-token families: each refresh rotates the token; presenting a token
//! that was already used revokes its whole family (it was stolen or replayed).

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::tokens::{hash_secret, random_secret};
use crate::entities::refresh_tokens;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub token_type: &'static str,
}

/// Who a session belongs to.
#[derive(Debug, Clone, Copy)]
pub enum Subject {
    User {
        user_id: Uuid,
        tenant_id: Uuid,
        role: &'static str,
    },
    Admin {
        admin_id: Uuid,
    },
}

impl Subject {
    fn parts(self) -> (&'static str, Uuid, Option<Uuid>) {
        match self {
            Subject::User { user_id, tenant_id, .. } => ("user", user_id, Some(tenant_id)),
            Subject::Admin { admin_id } => ("admin", admin_id, None),
        }
    }
}

/// Issues an access token and a refresh token in `family` (a new family when none).
pub async fn issue(
    state: &AppState,
    db: &impl ConnectionTrait,
    subject: Subject,
    family: Option<Uuid>,
) -> ApiResult<TokenPair> {
    let (kind, subject_id, tenant_id) = subject.parts();
    let role = match subject {
        Subject::User { role, .. } => Some(role),
        Subject::Admin { .. } => None,
    };
    let access_token = state.keys.issue(subject_id, kind, tenant_id, role)?;
    let refresh_token = random_secret(32);
    let now = Utc::now();
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        family_id: Set(family.unwrap_or_else(Uuid::now_v7)),
        subject_kind: Set(kind.to_string()),
        subject_id: Set(subject_id),
        tenant_id: Set(tenant_id),
        token_hash: Set(hash_secret(&refresh_token)),
        expires_at: Set(now + Duration::days(state.settings.auth.refresh_token_days)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(TokenPair {
        access_token,
        refresh_token,
        expires_in: state.keys.access_seconds,
        token_type: "Bearer",
    })
}

/// Marks a presented refresh token used, exactly once even under concurrency,
/// and returns it. A second use revokes the family.
pub async fn consume(db: &impl ConnectionTrait, token: &str) -> ApiResult<refresh_tokens::Model> {
    let invalid = || ApiError::unauthorized("invalid_refresh_token", "the refresh token is not valid");
    let hash = hash_secret(token);
    let now = Utc::now();
    let claimed = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::UsedAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(hash.clone()))
        .filter(refresh_tokens::Column::UsedAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if claimed.rows_affected == 0 {
        if row.revoked_at.is_none() {
            revoke_family(db, row.family_id).await?;
            return Err(ApiError::unauthorized(
                "refresh_token_reused",
                "this refresh token was already used; every session of its family is now signed out",
            ));
        }
        return Err(invalid());
    }
    if row.expires_at < now {
        return Err(ApiError::unauthorized(
            "refresh_token_expired",
            "the refresh token has expired",
        ));
    }
    Ok(row)
}

pub async fn revoke_family(db: &impl ConnectionTrait, family: Uuid) -> ApiResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::FamilyId.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Signs a removed user out everywhere.
pub async fn revoke_subject(db: &impl ConnectionTrait, subject_id: Uuid) -> ApiResult<()> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_tokens::Column::SubjectId.eq(subject_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
