//! `/api/v1/users`: the tenant's people.

use actix_web::{delete, get, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, ModelTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{sessions, Role, TenantScope};
use crate::db::Access;
use crate::entities::users;
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

impl From<users::Model> for UserView {
    fn from(u: users::Model) -> Self {
        UserView {
            id: u.id,
            email: u.email,
            role: Role::parse(&u.role).unwrap_or(Role::Staff),
            created_at: u.created_at,
        }
    }
}

/// Lists the tenant's users (owner only).
#[utoipa::path(tag = "users", params(PageQuery), responses((status = 200, body = Page<UserView>)), security(("bearer" = [])))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Read).await?;
    let query = users::Entity::find().filter(users::Column::TenantId.eq(txn.tenant_id()));
    let page: Page<UserView> = pagination::fetch(query, users::Column::Id, &page, &*txn, |r| r.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Removes a staff member and signs them out everywhere (owner only).
#[utoipa::path(tag = "users", responses((status = 204), (status = 404), (status = 409, description = "cannot_remove_owner")), security(("bearer" = [])))]
#[delete("/users/{id}")]
pub async fn remove(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    scope.require_owner()?;
    let txn = scope.begin(&state, Access::Write).await?;
    let user = users::Entity::find_by_id((txn.tenant_id(), id.into_inner()))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if user.role == Role::Owner.as_str() {
        return Err(ApiError::conflict(
            "cannot_remove_owner",
            "the tenant's owner cannot be removed",
        ));
    }
    let user_id = user.id;
    user.delete(&*txn).await?;
    sessions::revoke_subject(&*txn, user_id).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
