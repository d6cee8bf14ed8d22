//! Plans, managed by the platform owner under `/admin/plans`; tenants read
//! the plans on offer at `/plans`.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{AdminPrincipal, Principal};
use crate::db::Access;
use crate::entities::plans;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::pagination::{self, Page, PageQuery};
use crate::money::{currency, Currency, Money};
use crate::state::AppState;
use crate::tenancy::slug;

/// What a plan allows; absent or null means unlimited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[validate(range(min = 0, message = "must not be negative"))]
    pub stores: Option<i64>,
    #[validate(range(min = 0, message = "must not be negative"))]
    pub plugin_installs: Option<i64>,
    #[validate(range(min = 0, message = "must not be negative"))]
    pub orders_per_month: Option<i64>,
    #[validate(range(min = 0, message = "must not be negative"))]
    pub plugin_calls_per_month: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PlanView {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// Charged per monthly period.
    pub price: Money,
    pub trial_days: i32,
    pub limits: Limits,
    pub archived: bool,
}

impl From<plans::Model> for PlanView {
    fn from(p: plans::Model) -> Self {
        PlanView {
            id: p.id,
            limits: limits_of(&p),
            slug: p.slug,
            name: p.name,
            price: Money::new(p.price, &p.currency),
            trial_days: p.trial_days,
            archived: p.archived,
        }
    }
}

pub fn limits_of(p: &plans::Model) -> Limits {
    Limits {
        stores: p.max_stores,
        plugin_installs: p.max_installs,
        orders_per_month: p.max_orders,
        plugin_calls_per_month: p.max_plugin_calls,
    }
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePlan {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub name: String,
    /// Defaults to the name, slugified.
    pub slug: Option<String>,
    /// Minor units per month.
    #[validate(range(min = 0, message = "must not be negative"))]
    pub price: i64,
    #[validate(custom(function = "currency::validate"))]
    pub currency: String,
    #[validate(range(min = 0, max = 365, message = "must be 0 to 365"))]
    #[serde(default)]
    pub trial_days: i32,
    #[validate(nested)]
    #[serde(default)]
    pub limits: Limits,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdatePlan {
    #[validate(length(min = 1, max = 100, message = "must be 1 to 100 characters"))]
    pub name: Option<String>,
    #[validate(range(min = 0, message = "must not be negative"))]
    pub price: Option<i64>,
    #[validate(range(min = 0, max = 365, message = "must be 0 to 365"))]
    pub trial_days: Option<i32>,
    /// Replaces every limit when present.
    #[validate(nested)]
    pub limits: Option<Limits>,
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> ApiResult<plans::Model> {
    plans::Entity::find_by_id(id).one(db).await?.ok_or(ApiError::NotFound)
}

/// Creates a plan.
#[utoipa::path(tag = "billing", request_body = CreatePlan,
    responses((status = 201, body = PlanView), (status = 409, description = "duplicate_slug"), (status = 422)),
    security(("bearer" = [])))]
#[post("/admin/plans")]
pub async fn create(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    body: Valid<CreatePlan>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let slug = match &body.slug {
        Some(s) => slug::parse("slug", s)?,
        None => slug::slugify(&body.name),
    };
    let currency =
        Currency::parse(&body.currency).ok_or_else(|| ApiError::field("validation_failed", "currency", "unknown"))?;
    let txn = state.db.platform(Access::Write).await?;
    let taken = plans::Entity::find()
        .filter(plans::Column::Slug.eq(&slug))
        .one(&txn)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict("duplicate_slug", format!("a plan `{slug}` exists")));
    }
    let now = Utc::now();
    let plan = plans::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(slug),
        name: Set(body.name.trim().to_string()),
        price: Set(body.price),
        currency: Set(currency.code().to_string()),
        trial_days: Set(body.trial_days),
        max_stores: Set(body.limits.stores),
        max_installs: Set(body.limits.plugin_installs),
        max_orders: Set(body.limits.orders_per_month),
        max_plugin_calls: Set(body.limits.plugin_calls_per_month),
        archived: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(PlanView::from(plan)))
}

/// Every plan, archived ones too, oldest first.
#[utoipa::path(tag = "billing", params(PageQuery), responses((status = 200, body = Page<PlanView>)), security(("bearer" = [])))]
#[get("/admin/plans")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let page: Page<PlanView> =
        pagination::fetch(plans::Entity::find(), plans::Column::Id, &page, &txn, |p| p.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The plans a tenant may choose.
#[utoipa::path(tag = "billing", params(PageQuery), responses((status = 200, body = Page<PlanView>)), security(("bearer" = [])))]
#[get("/plans")]
pub async fn public_list(
    state: web::Data<AppState>,
    _who: Principal,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let query = plans::Entity::find().filter(plans::Column::Archived.eq(false));
    let page: Page<PlanView> = pagination::fetch(query, plans::Column::Id, &page, &txn, |p| p.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(tag = "billing", responses((status = 200, body = PlanView), (status = 404)), security(("bearer" = [])))]
#[get("/admin/plans/{id}")]
pub async fn get(state: web::Data<AppState>, _admin: AdminPrincipal, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    Ok(HttpResponse::Ok().json(PlanView::from(find(&txn, *id).await?)))
}

/// Changes name, price, trial or limits. A new price applies from each
/// subscriber's next period; limits apply at once.
#[utoipa::path(tag = "billing", request_body = UpdatePlan,
    responses((status = 200, body = PlanView), (status = 404), (status = 422)), security(("bearer" = [])))]
#[patch("/admin/plans/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    id: web::Path<Uuid>,
    body: Valid<UpdatePlan>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let txn = state.db.platform(Access::Write).await?;
    let mut plan: plans::ActiveModel = find(&txn, *id).await?.into();
    if let Some(name) = body.name {
        plan.name = Set(name.trim().to_string());
    }
    if let Some(price) = body.price {
        plan.price = Set(price);
    }
    if let Some(days) = body.trial_days {
        plan.trial_days = Set(days);
    }
    if let Some(l) = body.limits {
        plan.max_stores = Set(l.stores);
        plan.max_installs = Set(l.plugin_installs);
        plan.max_orders = Set(l.orders_per_month);
        plan.max_plugin_calls = Set(l.plugin_calls_per_month);
    }
    plan.updated_at = Set(Utc::now());
    let plan = plan.update(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(PlanView::from(plan)))
}

/// Archives the plan: nobody new may choose it; its subscribers keep it.
#[utoipa::path(tag = "billing", responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[delete("/admin/plans/{id}")]
pub async fn archive(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Write).await?;
    let mut plan: plans::ActiveModel = find(&txn, *id).await?.into();
    plan.archived = Set(true);
    plan.updated_at = Set(Utc::now());
    plan.update(&txn).await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}
