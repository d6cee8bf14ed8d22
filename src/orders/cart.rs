//! The cart a shopper sends, checked and turned into the ABI `Cart` from the
//! catalogue: each line a live variant of an active product of this store,
//! priced from the catalogue in the store's currency, never from the request.

use std::collections::{HashMap, HashSet};

use livemall_abi::{Cart, CartLine};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, IdenStatic, Iterable, JoinType, QueryFilter, QuerySelect,
    QueryTrait, SelectTwo,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::catalog::types::ProductStatus;
use crate::db::reader::{Cells, Kind, Kinds};
use crate::db::TenantTxn;
use crate::entities::{products, stores, variants};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::orders::types::{validate_codes, MAX_CODES, MAX_LINES, MAX_QUANTITY};

/// One line: a variant by id or by SKU, and how many.
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    /// The variant's id; send this or `sku`.
    pub variant_id: Option<String>,
    /// The variant's SKU in this store; send this or `variant_id`.
    pub sku: Option<String>,
    /// 1 to 999.
    #[validate(range(min = 1, max = "MAX_QUANTITY", message = "must be 1 to 999"))]
    pub quantity: i64,
}

/// What to price (and, at checkout, to order).
#[derive(Debug, Clone, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartRequest {
    /// 1 to 100 lines, each variant at most once.
    #[validate(length(min = 1, max = "MAX_LINES", message = "a cart has 1 to 100 lines"), nested)]
    pub lines: Vec<LineRequest>,
    /// Codes the shopper typed (coupons...), up to 10, passed to plug-ins as typed.
    #[serde(default)]
    #[validate(
        length(max = "MAX_CODES", message = "at most 10 codes"),
        custom(function = "validate_codes")
    )]
    pub codes: Vec<String>,
    /// A customer of this store; or send `email`. Checkout needs one of the two.
    pub customer_id: Option<Uuid>,
    /// The shopper's email, for a guest.
    #[validate(
        email(message = "must be a valid email address"),
        length(max = 254, message = "must be at most 254 characters")
    )]
    pub email: Option<String>,
    /// The live stream the shopper orders from, if any.
    pub stream_id: Option<Uuid>,
    /// The currency the shopper expects; refused when it is not the store's.
    pub currency: Option<String>,
}

/// How a line names its variant.
enum Ref {
    Id(Uuid),
    Sku(String),
}

/// A 422 about several fields, with the first one's message as the detail.
pub fn fields_problem(code: &'static str, errors: FieldErrors) -> ApiError {
    let detail = errors
        .iter()
        .next()
        .map(|(field, messages)| format!("{field}: {}", messages.join("; ")))
        .unwrap_or_default();
    ApiError::Unprocessable { code, detail, errors }
}

fn refs(lines: &[LineRequest]) -> ApiResult<Vec<Ref>> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        match (&line.variant_id, &line.sku) {
            (Some(id), None) => match id.parse() {
                Ok(id) => out.push(Ref::Id(id)),
                Err(_) => {
                    let field = format!("lines[{i}].variant_id");
                    errors.insert(field, vec!["no such variant in this store".into()]);
                }
            },
            (None, Some(sku)) => out.push(Ref::Sku(sku.clone())),
            _ => {
                return Err(ApiError::field(
                    "validation_failed",
                    &format!("lines[{i}]"),
                    "send exactly one of `variant_id` or `sku`",
                ))
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(fields_problem("unknown_variant", errors))
    }
}

/// The tags of the product of the variant named `variant` (a table or its
/// alias) as a JSON array of text: a subquery of the variant's row.
fn tags_of(backend: DbBackend, variant: &str) -> String {
    let (aggregate, end) = match backend {
        DbBackend::Postgres => ("CAST((SELECT json_agg(t.tag)", ") AS text)"),
        _ => ("(SELECT json_group_array(t.tag)", ")"),
    };
    format!(
        "{aggregate} FROM product_tags AS t \
         WHERE t.tenant_id = {variant}.\"tenant_id\" AND t.product_id = {variant}.\"product_id\"{end}"
    )
}

/// Variants joined to their products, each row with its product's tags as
/// a JSON array (one statement: the tags are a subquery of the row).
fn with_products(backend: DbBackend) -> SelectTwo<variants::Entity, products::Entity> {
    let product = variants::Entity::belongs_to(products::Entity)
        .from((variants::Column::TenantId, variants::Column::ProductId))
        .to((products::Column::TenantId, products::Column::Id))
        .into();
    variants::Entity::find()
        .select_also(products::Entity)
        .join(JoinType::InnerJoin, product)
        .expr_as(Expr::cust(tags_of(backend, "\"variants\"")), TAGS)
}

/// The name of the tags column of [`with_products`].
const TAGS: &str = "tags";

/// A variant, its product and the product's tags (sorted).
pub type Hit = (variants::Model, products::Model, Vec<String>);

/// The hit in `row`: the variant's columns named with the prefix
/// `variant`, the product's with `product`, the tags in column `tags`.
fn hit_in(row: &impl Cells, variant: &str, product: &str, tags: &str) -> ApiResult<Hit> {
    let v = row.model::<variants::Entity>(variant)?;
    let p = row.model::<products::Entity>(product)?;
    let mut tags: Vec<String> = match row.get::<Option<String>>(tags)? {
        Some(json) => serde_json::from_str(&json).map_err(anyhow::Error::from)?,
        None => Vec::new(),
    };
    tags.sort_unstable();
    Ok((v, p, tags))
}

/// Runs a [`with_products`] query.
async fn hits_of(txn: &TenantTxn, query: SelectTwo<variants::Entity, products::Entity>) -> ApiResult<Vec<Hit>> {
    let rows = txn.query_all_raw(query.build(txn.get_database_backend())).await?;
    rows.iter().map(|row| hit_in(row, "A_", "B_", TAGS)).collect()
}

/// The cart's variants read by a statement about something else (the
/// storefront's, see [`crate::tenancy::storefront::open_for`]): what
/// [`Joined::columns`] and [`Joined::joins`] add to its row or rows. The
/// text depends only on [`JoinedCart::by_id`] and the number of lines.
pub struct Joined {
    /// The variant's, its product's and the tags' columns.
    pub columns: String,
    /// Joins the cart's variants and their products; each variant adds a
    /// row, none leaves one row without a variant. Its `?` placeholders
    /// take [`JoinedCart::values`].
    pub joins: String,
}

/// A cart that [`Joined`] can read: its lines all name their variant by
/// id, or all by SKU.
pub struct JoinedCart {
    /// The lines name their variants by id (else by SKU).
    pub by_id: bool,
    /// The ids or the SKUs, in line order.
    pub values: Vec<sea_orm::Value>,
}

/// The variant's alias in [`Joined`], and the prefix of its columns.
const JOINED_VARIANT: (&str, &str) = ("cv", "cv_");
/// The product's alias in [`Joined`], and the prefix of its columns.
const JOINED_PRODUCT: (&str, &str) = ("cp", "cp_");
/// The tags' column in [`Joined`].
const JOINED_TAGS: &str = "cv_tags";

/// The cart as [`Joined`] reads it; `None` for a cart that mixes ids and
/// SKUs or has a malformed id, which [`build`] reads (or refuses) itself.
pub fn joinable(req: &CartRequest) -> Option<JoinedCart> {
    let refs = refs(&req.lines).ok()?;
    let mut ids: Vec<sea_orm::Value> = Vec::new();
    let mut skus: Vec<sea_orm::Value> = Vec::new();
    for r in refs {
        match r {
            Ref::Id(id) => ids.push(id.into()),
            Ref::Sku(sku) => skus.push(sku.into()),
        }
    }
    match (ids.is_empty(), skus.is_empty()) {
        (false, true) => Some(JoinedCart {
            by_id: true,
            values: ids,
        }),
        (true, false) => Some(JoinedCart {
            by_id: false,
            values: skus,
        }),
        _ => None,
    }
}

/// [`Joined`] for `lines` variants named by id (`by_id`) or by SKU:
/// `tenant` and `store` are the SQL of the store's tenant id and id in the
/// statement.
pub fn joined(backend: DbBackend, by_id: bool, lines: usize, tenant: &str, store: &str) -> Joined {
    let marks = vec!["?"; lines].join(", ");
    let (v, p) = (JOINED_VARIANT.0, JOINED_PRODUCT.0);
    // As in `read_hits`: ids through the primary key, SKUs through the store's index.
    let which = if by_id {
        format!("{v}.id IN ({marks})")
    } else {
        format!("{v}.store_id = {store} AND {v}.sku IN ({marks})")
    };
    let columns = variants::Column::iter()
        .map(|c| format!("{v}.\"{0}\" AS \"{1}{0}\"", c.as_str(), JOINED_VARIANT.1))
        .chain(products::Column::iter().map(|c| format!("{p}.\"{0}\" AS \"{1}{0}\"", c.as_str(), JOINED_PRODUCT.1)))
        .chain(std::iter::once(format!("{} AS {JOINED_TAGS}", tags_of(backend, v))))
        .collect::<Vec<_>>()
        .join(", ");
    let joins = format!(
        "LEFT JOIN variants AS {v} ON {v}.tenant_id = {tenant} AND {which} \
         LEFT JOIN products AS {p} ON {p}.tenant_id = {v}.tenant_id AND {p}.id = {v}.product_id"
    );
    Joined { columns, joins }
}

/// [`Joined`]'s columns, typed for the application's own readers.
pub fn joined_kinds(kinds: Kinds) -> Kinds {
    kinds
        .entity::<variants::Entity>(JOINED_VARIANT.1)
        .entity::<products::Entity>(JOINED_PRODUCT.1)
        .column(JOINED_TAGS, Kind::Text)
}

/// The hits in the rows of a statement with [`Joined`].
pub fn joined_hits(rows: &[impl Cells]) -> ApiResult<Vec<Hit>> {
    let id = format!("{}id", JOINED_VARIANT.1);
    let mut hits = Vec::with_capacity(rows.len());
    for row in rows {
        if row.get::<Option<Uuid>>(&id)?.is_some() {
            hits.push(hit_in(row, JOINED_VARIANT.1, JOINED_PRODUCT.1, JOINED_TAGS)?);
        }
    }
    Ok(hits)
}

/// The variants `refs` name in the store, each with its product and tags.
async fn read_hits(txn: &TenantTxn, store: &stores::Model, refs: &[Ref]) -> ApiResult<Vec<Hit>> {
    let mut ids = Vec::new();
    let mut skus = Vec::new();
    for r in refs {
        match r {
            Ref::Id(id) => ids.push(*id),
            Ref::Sku(sku) => skus.push(sku.clone()),
        }
    }
    // By id and by SKU apart, each through its own index: one query with
    // `id IN (..) OR sku IN (..)` reads every variant of the store. Ids are
    // looked up by the primary key alone and the store checked here: with
    // the store in the query too, PostgreSQL's generic plan took the
    // (tenant, store, sku) index and read all of the store's variants.
    // Each variant comes with its product and its tags (one statement).
    let mut hits = Vec::with_capacity(refs.len());
    let backend = txn.get_database_backend();
    if !ids.is_empty() {
        let by_ids = with_products(backend)
            .filter(variants::Column::TenantId.eq(txn.tenant_id()))
            .filter(variants::Column::Id.is_in(ids));
        hits.extend(
            hits_of(txn, by_ids)
                .await?
                .into_iter()
                .filter(|(v, ..)| v.store_id == store.id),
        );
    }
    if !skus.is_empty() {
        let by_skus = with_products(backend)
            .filter(variants::Column::TenantId.eq(txn.tenant_id()))
            .filter(variants::Column::StoreId.eq(store.id))
            .filter(variants::Column::Sku.is_in(skus));
        hits.extend(hits_of(txn, by_skus).await?);
    }
    Ok(hits)
}

/// Checks the request against the catalogue and builds the cart (no customer yet).
pub async fn build(txn: &TenantTxn, store: &stores::Model, req: &CartRequest) -> ApiResult<Cart> {
    same_currency(store, req)?;
    let refs = refs(&req.lines)?;
    let hits = read_hits(txn, store, &refs).await?;
    assemble(store, req, &refs, hits)
}

/// [`build`], with the cart's variants already read (see [`joined`]).
pub fn from_joined(store: &stores::Model, req: &CartRequest, read: Vec<Hit>) -> ApiResult<Cart> {
    same_currency(store, req)?;
    let refs = refs(&req.lines)?;
    // Ids were read without the store; it is checked here, as in `read_hits`.
    let hits = read.into_iter().filter(|(v, ..)| v.store_id == store.id).collect();
    assemble(store, req, &refs, hits)
}

fn same_currency(store: &stores::Model, req: &CartRequest) -> ApiResult<()> {
    match &req.currency {
        Some(currency) if !currency.eq_ignore_ascii_case(&store.currency) => Err(ApiError::field(
            "currency_mismatch",
            "currency",
            format!("this store sells in {}, not {currency}", store.currency),
        )),
        _ => Ok(()),
    }
}

/// The cart of `req`'s lines (`refs`) from the variants found (`hits`).
fn assemble(store: &stores::Model, req: &CartRequest, refs: &[Ref], hits: Vec<Hit>) -> ApiResult<Cart> {
    let mut found = Vec::with_capacity(hits.len());
    let mut products: HashMap<Uuid, (products::Model, Vec<String>)> = HashMap::with_capacity(hits.len());
    for (variant, product, tags) in hits {
        products.insert(product.id, (product, tags));
        found.push(variant);
    }
    let by_id: HashMap<Uuid, &variants::Model> = found.iter().map(|v| (v.id, v)).collect();
    let by_sku: HashMap<&str, &variants::Model> = found.iter().map(|v| (v.sku.as_str(), v)).collect();

    let mut chosen = Vec::with_capacity(refs.len());
    let mut unknown = FieldErrors::new();
    for (i, r) in refs.iter().enumerate() {
        let (hit, field) = match r {
            Ref::Id(id) => (by_id.get(id), "variant_id"),
            Ref::Sku(sku) => (by_sku.get(sku.as_str()), "sku"),
        };
        match hit {
            Some(v) => chosen.push((*v, field)),
            None => {
                unknown.insert(
                    format!("lines[{i}].{field}"),
                    vec!["no such variant in this store".into()],
                );
            }
        }
    }
    if !unknown.is_empty() {
        return Err(fields_problem("unknown_variant", unknown));
    }
    let mut seen = HashSet::new();
    if let Some(i) = chosen.iter().position(|(v, _)| !seen.insert(v.id)) {
        return Err(ApiError::field(
            "duplicate_line",
            &format!("lines[{i}]"),
            "this variant is already on another line; raise that line's quantity",
        ));
    }
    let mut unavailable = FieldErrors::new();
    let mut lines = Vec::with_capacity(chosen.len());
    for (i, ((v, field), line)) in chosen.iter().zip(&req.lines).enumerate() {
        let product = products.get(&v.product_id);
        let live = product.is_some_and(|(p, _)| ProductStatus::parse(&p.status) == ProductStatus::Active);
        let (Some((product, tags)), true, false) = (product, live, v.archived) else {
            unavailable.insert(
                format!("lines[{i}].{field}"),
                vec![format!("`{}` is not available", v.sku)],
            );
            continue;
        };
        lines.push(CartLine {
            product_id: product.id.to_string(),
            variant_id: v.id.to_string(),
            sku: v.sku.clone(),
            title: product.title.clone(),
            // Validation bounds the quantity to 1..=999.
            quantity: u32::try_from(line.quantity).unwrap_or(0),
            unit_price: v.price,
            tags: tags.clone(),
        });
    }
    if !unavailable.is_empty() {
        return Err(fields_problem("unavailable", unavailable));
    }
    Ok(Cart {
        currency: store.currency.clone(),
        subtotal: lines.iter().map(CartLine::total).sum(),
        lines,
        codes: req.codes.clone(),
        customer: None,
        stream: None,
        checkout: false,
    })
}
