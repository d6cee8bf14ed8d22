//! The public storefront: what shoppers read without signing in.

use actix_web::{get, web, HttpResponse};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect, QueryTrait, Statement,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::{placeholders_after, TenantTxn};
use crate::entities::{customers, idempotency_keys, stores, tenants};
use crate::error::{ApiError, ApiResult};
use crate::orders::cart::{self, CartRequest, Hit};
use crate::state::AppState;
use crate::tenancy::stores::StoreStatus;

/// An active store of an active tenant, found by slugs, with a transaction
/// confined to that tenant for everything the shopper asks next (reads; on
/// PostgreSQL a checkout also places its order in it).
pub struct Storefront {
    pub tenant: tenants::Model,
    pub store: stores::Model,
    pub txn: TenantTxn,
}

/// Finds the storefront; anything not shown to shoppers is 404.
pub async fn open(state: &AppState, tenant_slug: &str, store_slug: &str) -> ApiResult<Storefront> {
    Ok(open_for(state, tenant_slug, store_slug, &Asks::default()).await?.0)
}

/// What a priced cart or a checkout also asks about the tenant's rows; each
/// is answered by the statement that finds the storefront.
#[derive(Default)]
pub struct Asks<'a> {
    /// An `Idempotency-Key`.
    pub key: Option<&'a str>,
    /// A customer of the store by id.
    pub customer_id: Option<Uuid>,
    /// A customer of the store by (normalised) email.
    pub email: Option<&'a str>,
    /// A cart's variants, with their products (see [`cart::joined`]).
    pub cart: Option<&'a CartRequest>,
}

/// The answers to [`Asks`].
#[derive(Default)]
pub struct Found {
    pub key: Option<SeenKey>,
    /// The customer asked for by id or email: its id and email.
    pub customer: Option<(Uuid, String)>,
    /// The cart's variants, when this statement could read them; else the
    /// cart reads them itself.
    pub hits: Option<Vec<Hit>>,
}

/// What an `Idempotency-Key` of the store's tenant holds: the request's
/// fingerprint and, once it finished, its answer (status 0 until then).
pub struct SeenKey {
    pub request_hash: String,
    pub status_code: i32,
    pub response_body: String,
}

/// [`open`], and the answers to `asks`, in one statement (see [`lookup`]).
pub async fn open_for(
    state: &AppState,
    tenant_slug: &str,
    store_slug: &str,
    asks: &Asks<'_>,
) -> ApiResult<(Storefront, Found)> {
    let (lookup, joined) = self::lookup(state.db.backend(), tenant_slug, store_slug, asks);
    let (txn, rows) = state
        .db
        .tenant_found_by(lookup, STORE_TENANT)
        .await?
        .ok_or(ApiError::NotFound)?;
    let row = rows.first().ok_or(ApiError::NotFound)?;
    let shop = stores::Model::from_query_result(row, "A_")?;
    let tenant = tenants::Model::from_query_result(row, "B_")?;
    let mut found = Found::default();
    if joined {
        found.hits = Some(cart::joined_hits(&rows)?);
    }
    if asks.key.is_some() {
        if let Some(request_hash) = row.try_get::<Option<String>>("", KEY_COLUMNS[0].1)? {
            found.key = Some(SeenKey {
                request_hash,
                status_code: row.try_get("", KEY_COLUMNS[1].1)?,
                response_body: row.try_get("", KEY_COLUMNS[2].1)?,
            });
        }
    }
    if asks.customer_id.is_some() || asks.email.is_some() {
        if let Some(id) = row.try_get::<Option<Uuid>>("", CUSTOMER_COLUMNS[0].1)? {
            found.customer = Some((id, row.try_get("", CUSTOMER_COLUMNS[1].1)?));
        }
    }
    let storefront = Storefront {
        tenant,
        store: shop,
        txn,
    };
    Ok((storefront, found))
}

/// The statement that finds the storefront and answers `asks`: each ask is
/// a subquery on a primary key or unique index of the found tenant's rows,
/// and a cart's variants are rows of the store's tenant joined to its row
/// (true when they are).
pub fn lookup(backend: DbBackend, tenant_slug: &str, store_slug: &str, asks: &Asks<'_>) -> (Statement, bool) {
    // The store and its tenant in one statement, the first of the read
    // transaction, which from there on is confined to that tenant.
    let owner = stores::Entity::belongs_to(tenants::Entity)
        .from(stores::Column::TenantId)
        .to(tenants::Column::Id)
        .into();
    let mut query = stores::Entity::find()
        .select_also(tenants::Entity)
        .join(JoinType::InnerJoin, owner)
        .filter(tenants::Column::Slug.eq(tenant_slug))
        .filter(tenants::Column::Status.eq("active"))
        .filter(stores::Column::Slug.eq(store_slug))
        .filter(stores::Column::Status.eq(StoreStatus::Active.as_str()));
    if let Some(key) = asks.key {
        for (column, alias) in KEY_COLUMNS {
            let of_key = Query::select()
                .column((idempotency_keys::Entity, column))
                .from(idempotency_keys::Entity)
                .and_where(of_tenant(idempotency_keys::Column::TenantId))
                .and_where(Expr::col((idempotency_keys::Entity, idempotency_keys::Column::Key)).eq(key))
                .to_owned();
            query = query.expr_as(Expr::SubQuery(None, Box::new(of_key.into())), alias);
        }
    }
    let customer = match (asks.customer_id, asks.email) {
        (Some(id), _) => Some((customers::Column::Id, Expr::val(id))),
        (None, Some(email)) => Some((customers::Column::Email, Expr::val(email))),
        (None, None) => None,
    };
    if let Some((by, value)) = &customer {
        for (column, alias) in CUSTOMER_COLUMNS {
            let of_customer = Query::select()
                .column((customers::Entity, column))
                .from(customers::Entity)
                .and_where(of_tenant(customers::Column::TenantId))
                .and_where(
                    Expr::col((customers::Entity, customers::Column::StoreId))
                        .equals((stores::Entity, stores::Column::Id)),
                )
                .and_where(Expr::col((customers::Entity, *by)).eq(value.clone()))
                .to_owned();
            query = query.expr_as(Expr::SubQuery(None, Box::new(of_customer.into())), alias);
        }
    }
    let mut lookup = query.build(backend);
    // The cart's variants as rows of the same statement: one round trip less.
    let joined = asks.cart.and_then(|req| {
        let found = |column: &str| format!("found.\"A_{column}\"");
        cart::joined(backend, req, &found("tenant_id"), &found("id"))
    });
    let Some(joined) = joined else {
        return (lookup, false);
    };
    let mut values = lookup.values.take().map(|v| v.0).unwrap_or_default();
    let joins = placeholders_after(backend, &joined.joins, values.len());
    values.extend(joined.values);
    let sql = format!(
        "SELECT found.*, {} FROM ({}) AS found {joins}",
        joined.columns, lookup.sql
    );
    (Statement::from_sql_and_values(backend, sql, values), true)
}

/// `<table>.tenant_id` is the found tenant's id.
fn of_tenant(column: impl sea_orm::ColumnTrait) -> sea_orm::sea_query::Expr {
    Expr::col((column.entity_name(), column)).equals((tenants::Entity, tenants::Column::Id))
}

/// The key's columns read with the storefront, and their names in the row.
const KEY_COLUMNS: [(idempotency_keys::Column, &str); 3] = [
    (idempotency_keys::Column::RequestHash, "key_request_hash"),
    (idempotency_keys::Column::StatusCode, "key_status_code"),
    (idempotency_keys::Column::ResponseBody, "key_response_body"),
];

/// The store's tenant id in the row (`stores` is the first entity of the select).
const STORE_TENANT: &str = "A_tenant_id";

/// The customer's columns read with the storefront, and their names in the row.
const CUSTOMER_COLUMNS: [(customers::Column, &str); 2] = [
    (customers::Column::Id, "customer_id"),
    (customers::Column::Email, "customer_email"),
];

#[derive(Debug, Serialize, ToSchema)]
pub struct StorefrontStore {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub currency: String,
    pub time_zone: String,
    pub tenant_name: String,
    pub tenant_slug: String,
}

/// A store as shoppers see it; only active stores of active tenants exist here.
#[utoipa::path(tag = "storefront", responses((status = 200, body = StorefrontStore), (status = 404)))]
#[get("/storefront/{tenant_slug}/{store_slug}")]
pub async fn store(state: web::Data<AppState>, path: web::Path<(String, String)>) -> ApiResult<HttpResponse> {
    let (tenant_slug, store_slug) = path.into_inner();
    let Storefront { tenant, store, .. } = open(&state, &tenant_slug, &store_slug).await?;
    Ok(HttpResponse::Ok().json(StorefrontStore {
        id: store.id,
        name: store.name,
        slug: store.slug,
        currency: store.currency,
        time_zone: store.time_zone,
        tenant_name: tenant.name,
        tenant_slug: tenant.slug,
    }))
}
