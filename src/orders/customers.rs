//! Customers of a store, and who a shopper is at checkout. Emails are stored
//! normalised (trimmed, lower-cased) and are unique per store. A shopper's
//! key for plug-in counters is the customer id, else the normalised email;
//! a guest email that belongs to a customer keys as that customer, so a
//! per-customer limit cannot be dodged by checking out as a guest.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{normalize_email, Scope, TenantScope};
use crate::db::{Access, TenantTxn};
use crate::entities::customers;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::http::pagination::{self, Page, PageQuery};
use crate::orders::merchant::open_store;
use crate::state::AppState;

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomer {
    #[validate(
        email(message = "must be a valid email address"),
        length(max = 254, message = "must be at most 254 characters")
    )]
    pub email: String,
    #[validate(length(max = 200, message = "must be at most 200 characters"))]
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: Uuid,
    pub store_id: Uuid,
    /// Normalised: trimmed and lower-cased.
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<customers::Model> for CustomerView {
    fn from(c: customers::Model) -> Self {
        CustomerView {
            id: c.id,
            store_id: c.store_id,
            email: c.email,
            name: c.name,
            created_at: c.created_at,
        }
    }
}

/// The shopper an order is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shopper {
    pub customer_id: Option<Uuid>,
    pub email: Option<String>,
    /// The stable identity plug-ins key per-customer counters on.
    pub key: String,
}

impl Shopper {
    pub fn to_abi(&self) -> livemall_abi::Customer {
        livemall_abi::Customer {
            id: self.customer_id.map(|id| id.to_string()),
            key: self.key.clone(),
        }
    }
}

async fn by_email(txn: &TenantTxn, store_id: Uuid, email: &str) -> ApiResult<Option<customers::Model>> {
    Ok(customers::Entity::find()
        .filter(customers::Column::TenantId.eq(txn.tenant_id()))
        .filter(customers::Column::StoreId.eq(store_id))
        .filter(customers::Column::Email.eq(email))
        .one(&**txn)
        .await?)
}

async fn find(txn: &TenantTxn, store_id: Uuid, id: Uuid) -> ApiResult<Option<customers::Model>> {
    Ok(customers::Entity::find_by_id((txn.tenant_id(), id))
        .filter(customers::Column::StoreId.eq(store_id))
        .one(&**txn)
        .await?)
}

/// Who is shopping: a customer of this store by id, or an email; `None` when
/// neither was sent. `found` is the store's customer with that id or
/// (normalised) email, looked up with the storefront
/// ([`crate::tenancy::storefront::Asks`]).
pub fn identify(
    customer_id: Option<Uuid>,
    email: Option<&str>,
    found: Option<(Uuid, String)>,
) -> ApiResult<Option<Shopper>> {
    let customer = match (customer_id, email) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "validation_failed",
                "customer_id",
                "send `customer_id` or `email`, not both",
            ))
        }
        (None, None) => return Ok(None),
        (Some(_), None) => Some(
            found
                .ok_or_else(|| ApiError::field("unknown_customer", "customer_id", "no such customer in this store"))?,
        ),
        (None, Some(email)) => match found {
            Some(customer) => Some(customer),
            None => {
                let email = normalize_email(email);
                return Ok(Some(Shopper {
                    customer_id: None,
                    key: email.clone(),
                    email: Some(email),
                }));
            }
        },
    };
    Ok(customer.map(|(id, email)| Shopper {
        customer_id: Some(id),
        key: id.to_string(),
        email: Some(email),
    }))
}

/// Creates a customer of the store. Honours `Idempotency-Key`.
#[utoipa::path(tag = "orders", request_body = NewCustomer,
    params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer for the same key and body")),
    responses((status = 201, body = CustomerView), (status = 404), (status = 409, description = "duplicate_email"),
        (status = 422, description = "validation_failed")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/customers")]
pub async fn create(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    key: IdempotencyKey,
    body: Valid<NewCustomer>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let body = body.0;
    let txn = open_store(&state, &scope, Scope::OrdersWrite, Access::Write, store_id).await?;
    let route = format!("POST /stores/{store_id}/customers");
    let claimed = match idempotency::begin(&txn, &key, idempotency::fingerprint(&route, &body)?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let email = normalize_email(&body.email);
    let duplicate = || ApiError::conflict("duplicate_email", "this store already has a customer with this email");
    if by_email(&txn, store_id, &email).await?.is_some() {
        return Err(duplicate());
    }
    let now = crate::orders::types::now();
    let row = customers::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        email: Set(email),
        name: Set(body.name.trim().to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&*txn)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => duplicate(),
        _ => e.into(),
    })?;
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &CustomerView::from(row)).await?;
    txn.commit().await?;
    Ok(response)
}

/// The store's customers, oldest first.
#[utoipa::path(tag = "orders", params(PageQuery),
    responses((status = 200, body = Page<CustomerView>), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/customers")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    store_id: web::Path<Uuid>,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let store_id = store_id.into_inner();
    let txn = open_store(&state, &scope, Scope::OrdersRead, Access::Read, store_id).await?;
    let query = customers::Entity::find()
        .filter(customers::Column::TenantId.eq(txn.tenant_id()))
        .filter(customers::Column::StoreId.eq(store_id));
    let page: Page<CustomerView> = pagination::fetch(query, customers::Column::Id, &page, &*txn, |c| c.id).await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(tag = "orders", responses((status = 200, body = CustomerView), (status = 404)), security(("bearer" = [])))]
#[get("/stores/{store_id}/customers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (store_id, id) = path.into_inner();
    let txn = open_store(&state, &scope, Scope::OrdersRead, Access::Read, store_id).await?;
    let customer = find(&txn, store_id, id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(CustomerView::from(customer)))
}
