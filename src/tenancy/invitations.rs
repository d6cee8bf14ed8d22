//! `/api/v1/invitations`: the owner invites staff. The invitation token is
//! returned once (for the owner to send) and stored hashed.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::routes::ensure_email_free;
use crate::auth::tokens::{hash_secret, random_secret};
use crate::auth::{normalize_email, Role, TenantScope};
use crate::db::Access;
use crate::entities::{invitations, users};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;
use crate::tenancy::tenants::email_conflict;

/// How long an invitation can be accepted.
const VALID_DAYS: i64 = 7;

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct CreateInvitation {
    #[validate(
        email(message = "must be a valid email address"),
        length(max = 254, message = "must be at most 254 characters")
    )]
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitation {
    #[serde(flatten)]
    pub invitation: InvitationView,
    /// Shown once; the invitee sends it to `POST /api/v1/auth/accept-invitation`.
    pub token: String,
}

impl From<invitations::Model> for InvitationView {
    fn from(m: invitations::Model) -> Self {
        InvitationView {
            id: m.id,
            email: m.email,
            role: Role::parse(&m.role).unwrap_or(Role::Staff),
            expires_at: m.expires_at,
            accepted_at: m.accepted_at,
            revoked_at: m.revoked_at,
            created_at: m.created_at,
        }
    }
}

/// Invites a staff member (owner only).
#[utoipa::path(tag = "users", request_body = CreateInvitation,
    responses((status = 201, body = CreatedInvitation), (status = 409, description = "email_taken")), security(("bearer" = [])))]
#[post("/invitations")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    body: Valid<CreateInvitation>,
) -> ApiResult<HttpResponse> {
    let owner = scope.require_owner()?;
    let email = normalize_email(&body.0.email);
    {
        let txn = state.db.platform(Access::Read).await?;
        ensure_email_free(&txn, &email).await?;
    }
    let token = random_secret(32);
    let now = Utc::now();
    let txn = scope.begin(&state, Access::Write).await?;
    let model = invitations::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        email: Set(email),
        role: Set(Role::Staff.as_str().into()),
        token_hash: Set(hash_secret(&token)),
        invited_by: Set(owner),
        expires_at: Set(now + Duration::days(VALID_DAYS)),
        accepted_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(&*txn)
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CreatedInvitation {
        invitation: model.into(),
        token,
    }))
}

/// Lists invitations, open and closed (owner only).
#[utoipa::path(tag = "users", params(PageQuery), responses((status = 200, body = Page<InvitationView>)), security(("bearer" = [])))]
#[get("/invitations")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Read).await?;
    let query = invitations::Entity::find().filter(invitations::Column::TenantId.eq(txn.tenant_id()));
    let page: Page<InvitationView> = pagination::fetch(query, invitations::Column::Id, &page, &*txn, |r| r.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Revokes an open invitation (owner only).
#[utoipa::path(tag = "users", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/invitations/{id}")]
pub async fn revoke(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Write).await?;
    let row = invitations::Entity::find_by_id((txn.tenant_id(), id.into_inner()))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if row.revoked_at.is_none() && row.accepted_at.is_none() {
        let mut active: invitations::ActiveModel = row.into();
        active.revoked_at = Set(Some(Utc::now()));
        active.update(&*txn).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// An invitation that can still be accepted; anything else is 404.
pub async fn find_open(db: &impl ConnectionTrait, token: &str) -> ApiResult<invitations::Model> {
    invitations::Entity::find()
        .filter(invitations::Column::TokenHash.eq(hash_secret(token)))
        .one(db)
        .await?
        .filter(|i| i.accepted_at.is_none() && i.revoked_at.is_none() && i.expires_at > Utc::now())
        .ok_or(ApiError::NotFound)
}

pub async fn accept(
    db: &impl ConnectionTrait,
    invitation: invitations::Model,
    password_hash: String,
) -> ApiResult<users::Model> {
    let now = Utc::now();
    let user = users::ActiveModel {
        tenant_id: Set(invitation.tenant_id),
        id: Set(Uuid::now_v7()),
        email: Set(invitation.email.clone()),
        password_hash: Set(password_hash),
        role: Set(invitation.role.clone()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(email_conflict)?;
    let mut active: invitations::ActiveModel = invitation.into();
    active.accepted_at = Set(Some(now));
    active.update(db).await?;
    Ok(user)
}
