//! The public storefront: what shoppers read without signing in.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock, RwLock};

use actix_web::{get, web, HttpResponse};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, JoinType, QueryFilter, QuerySelect, QueryTrait, Statement};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::reader::{Cells, Kinds};
use crate::db::{placeholders_after, Reads, TenantTxn};
use crate::entities::{customers, idempotency_keys, stores, tenants};
use crate::error::{ApiError, ApiResult};
use crate::orders::cart::{self, CartRequest, Hit};
use crate::state::AppState;
use crate::tenancy::stores::StoreStatus;

/// An active store of an active tenant, found by slugs, with a transaction
/// confined to that tenant for everything the shopper reads next.
pub struct Storefront {
    pub tenant: tenants::Model,
    pub store: stores::Model,
    pub txn: TenantTxn,
}

/// Finds the storefront; anything not shown to shoppers is 404.
pub async fn open(state: &AppState, tenant_slug: &str, store_slug: &str) -> ApiResult<Storefront> {
    let asks = Asks::default();
    let (lookup, _) = self::lookup(state.db.backend(), tenant_slug, store_slug, &asks);
    let (txn, (tenant, shop, _)) = through_driver(state, lookup, &asks, false).await?;
    Ok(Storefront {
        tenant,
        store: shop,
        txn,
    })
}

/// [`lookup`]'s statement in a transaction through the driver, confined
/// to the tenant it finds, and what it found.
async fn through_driver(
    state: &AppState,
    lookup: Statement,
    asks: &Asks<'_>,
    joined: bool,
) -> ApiResult<(TenantTxn, (tenants::Model, stores::Model, Found))> {
    let (txn, rows) = state
        .db
        .tenant_found_by(lookup, STORE_TENANT)
        .await?
        .ok_or(ApiError::NotFound)?;
    let found = found_in(&rows, asks, joined)?;
    Ok((txn, found))
}

/// A storefront found for a priced cart or a checkout, and where the
/// tenant's reads after that go: on PostgreSQL the transaction the
/// storefront was found in; on SQLite statements on the application's own
/// readers, on the request's thread (see [`crate::db::reader`]).
pub struct Shop {
    pub tenant: tenants::Model,
    pub store: stores::Model,
    pub reads: Reads,
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

/// The storefront and the answers to `asks`, in one statement (see [`lookup`]).
pub async fn open_for(
    state: &AppState,
    tenant_slug: &str,
    store_slug: &str,
    asks: &Asks<'_>,
) -> ApiResult<(Shop, Found)> {
    let (lookup, joined) = self::lookup(state.db.backend(), tenant_slug, store_slug, asks);
    let (tenant, shop, found, reads) = match state.db.own_readers() {
        Some(readers) => {
            let rows = readers.rows(lookup, &LOOKUP_KINDS)?;
            let (tenant, shop, found) = found_in(&rows.iter().collect::<Vec<_>>(), asks, joined)?;
            let reads = Reads::Own {
                readers: Arc::clone(readers),
                tenant_id: tenant.id,
                txn: None,
            };
            (tenant, shop, found, reads)
        }
        None => {
            let (txn, (tenant, shop, found)) = through_driver(state, lookup, asks, joined).await?;
            (tenant, shop, found, Reads::Txn(txn))
        }
    };
    Ok((
        Shop {
            tenant,
            store: shop,
            reads,
        },
        found,
    ))
}

/// The columns of [`lookup`]'s statement, typed for the application's own readers.
static LOOKUP_KINDS: LazyLock<Kinds> = LazyLock::new(|| {
    let mut kinds = Kinds::new()
        .entity::<stores::Entity>("A_")
        .entity::<tenants::Entity>("B_");
    for (column, name) in KEY_COLUMNS {
        kinds = kinds.column_of(name, column);
    }
    for (column, name) in CUSTOMER_COLUMNS {
        kinds = kinds.column_of(name, column);
    }
    cart::joined_kinds(kinds)
});

/// The store, its tenant and the answers to `asks` in the rows of [`lookup`]'s statement.
fn found_in(rows: &[impl Cells], asks: &Asks<'_>, joined: bool) -> ApiResult<(tenants::Model, stores::Model, Found)> {
    let row = rows.first().ok_or(ApiError::NotFound)?;
    let shop = row.model::<stores::Entity>("A_")?;
    let tenant = row.model::<tenants::Entity>("B_")?;
    let mut found = Found::default();
    if joined {
        found.hits = Some(cart::joined_hits(rows)?);
    }
    if asks.key.is_some() {
        if let Some(request_hash) = row.get::<Option<String>>(KEY_COLUMNS[0].1)? {
            found.key = Some(SeenKey {
                request_hash,
                status_code: row.get(KEY_COLUMNS[1].1)?,
                response_body: row.get(KEY_COLUMNS[2].1)?,
            });
        }
    }
    if asks.customer_id.is_some() || asks.email.is_some() {
        if let Some(id) = row.get::<Option<Uuid>>(CUSTOMER_COLUMNS[0].1)? {
            found.customer = Some((id, row.get(CUSTOMER_COLUMNS[1].1)?));
        }
    }
    Ok((tenant, shop, found))
}

/// The statement that finds the storefront and answers `asks`: each ask is
/// a subquery on a primary key or unique index of the found tenant's rows,
/// and a cart's variants are rows of the store's tenant joined to its row
/// (true when they are).
///
/// Only the values change from one request to the next; the text depends
/// on the [`Shape`] of the asks and is built once per shape (building it
/// through the query builder took a tenth of a checkout's instructions).
pub fn lookup(backend: DbBackend, tenant_slug: &str, store_slug: &str, asks: &Asks<'_>) -> (Statement, bool) {
    let cart = asks.cart.and_then(cart::joinable);
    let shape = Shape::of(backend, asks, cart.as_ref());
    let mut values = Vec::with_capacity(9 + cart.as_ref().map_or(0, |c| c.values.len()));
    if let Some(key) = asks.key {
        values.extend(KEY_COLUMNS.iter().map(|_| sea_orm::Value::from(key)));
    }
    match (asks.customer_id, asks.email) {
        (Some(id), _) => values.extend(CUSTOMER_COLUMNS.iter().map(|_| sea_orm::Value::from(id))),
        (None, Some(email)) => values.extend(CUSTOMER_COLUMNS.iter().map(|_| sea_orm::Value::from(email))),
        (None, None) => {}
    }
    values.extend([
        tenant_slug.into(),
        ACTIVE_TENANT.into(),
        store_slug.into(),
        StoreStatus::Active.as_str().into(),
    ]);
    let joined = cart.is_some();
    if let Some(sql) = shape.cached() {
        values.extend(cart.map(|c| c.values).unwrap_or_default());
        return (Statement::from_sql_and_values(backend, sql, values), joined);
    }
    let built = build(backend, tenant_slug, store_slug, asks, cart.as_ref());
    values.extend(cart.map(|c| c.values).unwrap_or_default());
    // The text is kept only if the values above are the builder's, in its order.
    if built.values.as_ref().is_some_and(|v| v.0 == values) {
        shape.keep(&built.sql);
    } else {
        tracing::error!("the storefront's statement took its values in another order; not kept");
    }
    (built, joined)
}

/// The tenant status a storefront is open in.
const ACTIVE_TENANT: &str = "active";

/// What the text of [`lookup`]'s statement depends on.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    postgres: bool,
    key: bool,
    /// A customer asked for by id (true) or email (false).
    customer: Option<bool>,
    /// A cart read with the store: by ids (true) or SKUs, and its lines.
    cart: Option<(bool, usize)>,
}

/// Carts of up to this many lines have their statement's text kept (under
/// a thousand texts in all, a few KB each); longer ones build it each time.
const KEPT_LINES: usize = 32;

fn texts() -> &'static RwLock<HashMap<Shape, String>> {
    static TEXTS: OnceLock<RwLock<HashMap<Shape, String>>> = OnceLock::new();
    TEXTS.get_or_init(Default::default)
}

impl Shape {
    fn of(backend: DbBackend, asks: &Asks<'_>, cart: Option<&cart::JoinedCart>) -> Shape {
        Shape {
            postgres: backend == DbBackend::Postgres,
            key: asks.key.is_some(),
            customer: match (asks.customer_id, asks.email) {
                (Some(_), _) => Some(true),
                (None, Some(_)) => Some(false),
                (None, None) => None,
            },
            cart: cart.map(|c| (c.by_id, c.values.len())),
        }
    }

    fn cached(&self) -> Option<String> {
        let texts = texts().read().ok()?;
        texts.get(self).cloned()
    }

    fn keep(&self, sql: &str) {
        if self.cart.is_some_and(|(_, lines)| lines > KEPT_LINES) {
            return;
        }
        if let Ok(mut texts) = texts().write() {
            texts.insert(*self, sql.to_string());
        }
    }
}

/// [`lookup`]'s statement through the query builder, with its values.
fn build(
    backend: DbBackend,
    tenant_slug: &str,
    store_slug: &str,
    asks: &Asks<'_>,
    cart: Option<&cart::JoinedCart>,
) -> Statement {
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
        .filter(tenants::Column::Status.eq(ACTIVE_TENANT))
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
    let Some(cart) = cart else {
        return lookup;
    };
    let found = |column: &str| format!("found.\"A_{column}\"");
    let joined = cart::joined(
        backend,
        cart.by_id,
        cart.values.len(),
        &found("tenant_id"),
        &found("id"),
    );
    let mut values = lookup.values.take().map(|v| v.0).unwrap_or_default();
    let joins = placeholders_after(backend, &joined.joins, values.len());
    values.extend(cart.values.iter().cloned());
    let sql = format!(
        "SELECT found.*, {} FROM ({}) AS found {joins}",
        joined.columns, lookup.sql
    );
    Statement::from_sql_and_values(backend, sql, values)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn cart(lines: serde_json::Value) -> CartRequest {
        serde_json::from_value(serde_json::json!({ "lines": lines })).expect("a cart")
    }

    /// Every shape's kept text, with the values put beside it, is the
    /// statement the query builder makes for the same asks.
    #[test]
    fn a_kept_statement_is_the_one_the_builder_makes() {
        let ids = cart(serde_json::json!([
            {"variant_id": Uuid::now_v7().to_string(), "quantity": 1},
            {"variant_id": Uuid::now_v7().to_string(), "quantity": 2},
        ]));
        let skus = cart(serde_json::json!([{"sku": "A-1", "quantity": 1}]));
        let mixed = cart(serde_json::json!([
            {"sku": "A-1", "quantity": 1},
            {"variant_id": Uuid::now_v7().to_string(), "quantity": 1},
        ]));
        let customer = Uuid::now_v7();
        for backend in [DbBackend::Sqlite, DbBackend::Postgres] {
            for key in [None, Some("key-1")] {
                for (customer_id, email) in [(None, None), (Some(customer), None), (None, Some("a@example.com"))] {
                    for cart in [None, Some(&ids), Some(&skus), Some(&mixed)] {
                        let asks = Asks {
                            key,
                            customer_id,
                            email,
                            cart,
                        };
                        let joinable = asks.cart.and_then(cart::joinable);
                        let shape = Shape::of(backend, &asks, joinable.as_ref());
                        let built = build(backend, "mall", "main", &asks, joinable.as_ref());
                        // The first call may build and keep; the second reads the kept text.
                        for _ in 0..2 {
                            let (statement, joined) = lookup(backend, "mall", "main", &asks);
                            assert_eq!(statement, built);
                            assert_eq!(joined, shape.cart.is_some());
                        }
                        assert!(
                            shape.cached().is_some(),
                            "{:?} {key:?} {customer_id:?} {email:?}",
                            backend
                        );
                    }
                }
            }
        }
        // Other slugs, keys and customers take the same text with their own values.
        let other = Asks {
            key: Some("key-2"),
            customer_id: None,
            email: Some("b@example.com"),
            cart: Some(&skus),
        };
        let joinable = other.cart.and_then(cart::joinable);
        let built = build(DbBackend::Postgres, "other", "shop", &other, joinable.as_ref());
        assert_eq!(lookup(DbBackend::Postgres, "other", "shop", &other).0, built);
    }
}
