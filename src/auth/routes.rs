//! `/api/v1/auth/*` and `/api/v1/me`.

use actix_web::{get, post, web, HttpResponse};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::password;
use crate::auth::principal::{Principal, Role};
use crate::auth::sessions::{self, Subject, TokenPair};
use crate::auth::{normalize_email, throttle};
use crate::db::Access;
use crate::entities::{platform_admins, tenants, users};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::state::AppState;
use crate::tenancy::{invitations, tenants as tenancy};

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
pub struct SignupRequest {
    #[validate(
        email(message = "must be a valid email address"),
        length(max = 254, message = "must be at most 254 characters")
    )]
    pub email: String,
    #[validate(custom(function = "password::validate_shape"))]
    pub password: String,
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub tenant_name: String,
    /// A plan to subscribe to right away (see `GET /plans`).
    #[serde(default)]
    pub plan_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SignupResponse {
    pub tenant: tenancy::TenantView,
    pub user_id: Uuid,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

/// Creates a tenant and its owner, and signs the owner in.
#[utoipa::path(tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 409, description = "email_taken"), (status = 422, description = "validation_failed or weak_password")))]
#[post("/auth/signup")]
pub async fn signup(state: web::Data<AppState>, body: Valid<SignupRequest>) -> ApiResult<HttpResponse> {
    let body = body.0;
    let email = normalize_email(&body.email);
    password::check_policy(&body.password, &email)?;
    let hash = password::hash(body.password).await?;
    let txn = state.db.platform(Access::Write).await?;
    ensure_email_free(&txn, &email).await?;
    let (tenant, user) = tenancy::create_with_owner(&txn, body.tenant_name.trim(), &email, hash).await?;
    if let Some(plan_id) = body.plan_id {
        crate::billing::lifecycle::start_by_id(&txn, tenant.id, plan_id).await?;
    }
    let subject = Subject::User {
        user_id: user.id,
        tenant_id: tenant.id,
        role: Role::Owner.as_str(),
    };
    let tokens = sessions::issue(&state, &txn, subject, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(SignupResponse {
        tenant: tenant.into(),
        user_id: user.id,
        tokens,
    }))
}

/// 409 when any account already uses the email.
pub async fn ensure_email_free(db: &impl sea_orm::ConnectionTrait, email: &str) -> ApiResult<()> {
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(db)
        .await?;
    let admin = platform_admins::Entity::find()
        .filter(platform_admins::Column::Email.eq(email))
        .one(db)
        .await?;
    if user.is_some() || admin.is_some() {
        return Err(ApiError::conflict(
            "email_taken",
            "an account with this email already exists",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct LoginRequest {
    #[validate(length(min = 1, max = 254, message = "is required"))]
    pub email: String,
    #[validate(length(min = 1, max = 1024, message = "is required"))]
    pub password: String,
}

/// Signs in a tenant user or a platform administrator.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_credentials"), (status = 429, description = "login_locked")))]
#[post("/auth/login")]
pub async fn login(state: web::Data<AppState>, body: Valid<LoginRequest>) -> ApiResult<HttpResponse> {
    let body = body.0;
    let email = normalize_email(&body.email);
    let txn = state.db.platform(Access::Write).await?;
    throttle::check(&txn, &email).await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&txn)
        .await?;
    let admin = match user {
        Some(_) => None,
        None => {
            platform_admins::Entity::find()
                .filter(platform_admins::Column::Email.eq(&email))
                .one(&txn)
                .await?
        }
    };
    let stored = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .or_else(|| admin.as_ref().map(|a| a.password_hash.clone()));
    // Verify before deciding, so an unknown email costs the same as a wrong password.
    let ok = password::verify(body.password, stored).await?;
    let subject = match (ok, user, admin) {
        (true, Some(u), _) => {
            let role = Role::parse(&u.role).unwrap_or(Role::Staff);
            Subject::User {
                user_id: u.id,
                tenant_id: u.tenant_id,
                role: role.as_str(),
            }
        }
        (true, None, Some(a)) => Subject::Admin { admin_id: a.id },
        _ => {
            throttle::record_failure(&txn, &email, &state.settings.auth).await?;
            txn.commit().await?;
            return Err(ApiError::unauthorized(
                "invalid_credentials",
                "the email or password is wrong",
            ));
        }
    };
    throttle::clear(&txn, &email).await?;
    let tokens = sessions::issue(&state, &txn, subject, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(tokens))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct RefreshRequest {
    #[validate(length(min = 1, max = 512, message = "is required"))]
    pub refresh_token: String,
}

/// Rotates a refresh token: the old one stops working, a new pair is issued.
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), (status = 401, description = "invalid_refresh_token, refresh_token_reused or refresh_token_expired")))]
#[post("/auth/refresh")]
pub async fn refresh(state: web::Data<AppState>, body: Valid<RefreshRequest>) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Write).await?;
    let consumed = sessions::consume(&txn, &body.0.refresh_token).await;
    let row = match consumed {
        Ok(row) => row,
        Err(e) => {
            // A reuse revoked the family: keep that even though the request fails.
            txn.commit().await?;
            return Err(e);
        }
    };
    let subject = match (row.subject_kind.as_str(), row.tenant_id) {
        ("user", Some(tenant_id)) => {
            let user = users::Entity::find_by_id((tenant_id, row.subject_id)).one(&txn).await?;
            let user =
                user.ok_or_else(|| ApiError::unauthorized("invalid_refresh_token", "the account no longer exists"))?;
            let role = Role::parse(&user.role).unwrap_or(Role::Staff);
            Subject::User {
                user_id: user.id,
                tenant_id,
                role: role.as_str(),
            }
        }
        _ => {
            let admin = platform_admins::Entity::find_by_id(row.subject_id).one(&txn).await?;
            let admin =
                admin.ok_or_else(|| ApiError::unauthorized("invalid_refresh_token", "the account no longer exists"))?;
            Subject::Admin { admin_id: admin.id }
        }
    };
    let tokens = sessions::issue(&state, &txn, subject, Some(row.family_id)).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(tokens))
}

/// Signs out: the refresh token's whole family stops working.
#[utoipa::path(tag = "auth", request_body = RefreshRequest, responses((status = 204)))]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: Valid<RefreshRequest>) -> ApiResult<HttpResponse> {
    use crate::auth::tokens::hash_secret;
    use crate::entities::refresh_tokens;
    let txn = state.db.platform(Access::Write).await?;
    let row = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash_secret(&body.0.refresh_token)))
        .one(&txn)
        .await?;
    // Unknown tokens get the same answer: logout reveals nothing.
    if let Some(row) = row {
        sessions::revoke_family(&txn, row.family_id).await?;
    }
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct AcceptInvitationRequest {
    #[validate(length(min = 1, max = 512, message = "is required"))]
    pub token: String,
    #[validate(custom(function = "password::validate_shape"))]
    pub password: String,
}

/// Turns an invitation into a staff account and signs it in.
#[utoipa::path(tag = "auth", request_body = AcceptInvitationRequest,
    responses((status = 201, body = TokenPair), (status = 404, description = "no such open invitation"), (status = 409, description = "email_taken")))]
#[post("/auth/accept-invitation")]
pub async fn accept_invitation(
    state: web::Data<AppState>,
    body: Valid<AcceptInvitationRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let txn = state.db.platform(Access::Write).await?;
    let invitation = invitations::find_open(&txn, &body.token).await?;
    password::check_policy(&body.password, &invitation.email)?;
    ensure_email_free(&txn, &invitation.email).await?;
    let hash = password::hash(body.password).await?;
    let user = invitations::accept(&txn, invitation, hash).await?;
    let role = Role::parse(&user.role).unwrap_or(Role::Staff);
    let subject = Subject::User {
        user_id: user.id,
        tenant_id: user.tenant_id,
        role: role.as_str(),
    };
    let tokens = sessions::issue(&state, &txn, subject, None).await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(tokens))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MeResponse {
    /// `user`, `api_key` or `admin`.
    pub kind: &'static str,
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<tenancy::TenantView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<crate::auth::Scope>>,
}

/// Who the caller is, which tenant, which role.
#[utoipa::path(tag = "auth", responses((status = 200, body = MeResponse), (status = 401)), security(("bearer" = [])))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, principal: Principal) -> ApiResult<HttpResponse> {
    let response = match principal {
        Principal::Admin { admin_id } => {
            let txn = state.db.platform(Access::Read).await?;
            let admin = platform_admins::Entity::find_by_id(admin_id)
                .one(&txn)
                .await?
                .ok_or(ApiError::NotFound)?;
            MeResponse {
                kind: "admin",
                id: admin_id,
                email: Some(admin.email),
                role: None,
                tenant: None,
                scopes: None,
            }
        }
        Principal::User {
            tenant_id,
            user_id,
            role,
        } => {
            let txn = state.db.tenant(tenant_id, Access::Read).await?;
            let user = users::Entity::find_by_id((tenant_id, user_id))
                .one(&*txn)
                .await?
                .ok_or_else(|| ApiError::unauthorized("invalid_token", "the account no longer exists"))?;
            let tenant = tenants::Entity::find_by_id(tenant_id)
                .one(&*txn)
                .await?
                .ok_or(ApiError::NotFound)?;
            MeResponse {
                kind: "user",
                id: user_id,
                email: Some(user.email),
                role: Some(role),
                tenant: Some(tenant.into()),
                scopes: None,
            }
        }
        Principal::ApiKey {
            tenant_id,
            key_id,
            scopes,
        } => {
            let txn = state.db.tenant(tenant_id, Access::Read).await?;
            let tenant = tenants::Entity::find_by_id(tenant_id)
                .one(&*txn)
                .await?
                .ok_or(ApiError::NotFound)?;
            MeResponse {
                kind: "api_key",
                id: key_id,
                email: None,
                role: None,
                tenant: Some(tenant.into()),
                scopes: Some(scopes),
            }
        }
    };
    Ok(HttpResponse::Ok().json(response))
}
