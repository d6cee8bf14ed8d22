//! Writing a priced order: its number, the order row, its lines, the applied
//! adjustments with the plug-in versions that made them, and the claims taken.

use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ActiveModelTrait, DbBackend, EntityTrait, IntoActiveModel, Iterable, QueryTrait, Set, Statement};
use uuid::Uuid;

use crate::db::batch::{Batch, Chain};
use crate::entities::{order_adjustments, order_claims, order_lines, orders, stores};
use crate::error::{ApiError, ApiResult};
use crate::orders::customers::Shopper;
use crate::orders::pricing::Priced;
use crate::orders::stacking::Decision;
use crate::orders::types::{self, OrderStatus};
use crate::orders::views::Loaded;

/// A claim taken with the order, kept so a cancel can give it back.
pub struct Taken {
    pub install_id: Uuid,
    pub key: String,
    pub scope_key: String,
    pub amount: i64,
}

/// Everything the order row needs besides the pricing.
pub struct NewOrder<'a> {
    pub store: &'a stores::Model,
    pub shopper: &'a Shopper,
    pub stream_id: Option<Uuid>,
    pub priced: &'a Priced,
}

fn position(i: usize) -> i32 {
    // At most 100 lines and a bounded number of adjustments per order.
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// An order with its lines and adjustments, built before anything is
/// written; its time is set by [`Built::place_at`], its number taken by
/// [`numbered_chained`] or [`numbered_in`].
pub struct Built {
    pub loaded: Loaded,
}

impl Built {
    /// The order's time: its prices were checked as valid at this instant.
    pub fn place_at(&mut self, at: chrono::DateTime<chrono::Utc>) {
        self.loaded.order.created_at = at;
        self.loaded.order.updated_at = at;
    }
}

/// Builds the order's rows from the priced cart.
pub fn build(tenant_id: Uuid, new: NewOrder<'_>) -> ApiResult<Built> {
    let priced = new.priced;
    let id = Uuid::now_v7();
    let lines: Vec<order_lines::Model> = priced
        .cart
        .lines
        .iter()
        .zip(&priced.stacked.lines)
        .enumerate()
        .map(|(i, (l, adjusted))| order_lines::Model {
            tenant_id,
            order_id: id,
            position: position(i),
            product_id: l.product_id.parse().unwrap_or_default(),
            variant_id: l.variant_id.parse().unwrap_or_default(),
            sku: l.sku.clone(),
            title: l.title.clone(),
            unit_price: l.unit_price,
            quantity: i32::try_from(l.quantity).unwrap_or(i32::MAX),
            total: l.total(),
            adjusted_total: *adjusted,
        })
        .collect();
    let applied = priced
        .proposals
        .iter()
        .zip(&priced.stacked.decisions)
        .zip(&priced.proposed_by)
        .filter_map(|((a, d), run)| match d {
            Decision::Applied { amount } => Some((a, *amount, &priced.runs[*run])),
            Decision::Skipped(_) => None,
        });
    let adjustments: Vec<order_adjustments::Model> = applied
        .enumerate()
        .map(|(i, (a, amount, run))| order_adjustments::Model {
            tenant_id,
            order_id: id,
            position: position(i),
            line: a.line.and_then(|l| i32::try_from(l).ok()),
            amount,
            label: a.label.clone(),
            code: a.code.clone(),
            class: a.class.clone(),
            install_id: run.install_id,
            plugin_id: run.plugin_id,
            plugin_slug: run.plugin_slug.clone(),
            version_id: run.version_id,
            version: run.version.clone(),
        })
        .collect();
    let now = types::now();
    let order = orders::Model {
        tenant_id,
        id,
        store_id: new.store.id,
        // Taken in the database, by `numbered_chained` or `numbered_in`.
        number: 0,
        status: OrderStatus::PendingPayment.as_str().into(),
        currency: priced.cart.currency.clone(),
        customer_id: new.shopper.customer_id,
        email: new.shopper.email.clone(),
        customer_key: new.shopper.key.clone(),
        stream_id: new.stream_id,
        codes: serde_json::json!(priced.cart.codes),
        subtotal: priced.stacked.subtotal,
        adjustments_total: priced.stacked.adjustments_total,
        total: priced.stacked.total,
        pricing: serde_json::to_value(priced.record()).map_err(anyhow::Error::from)?,
        created_at: now,
        updated_at: now,
        paid_at: None,
        fulfilled_at: None,
        cancelled_at: None,
        refunded_at: None,
    };
    Ok(Built {
        loaded: Loaded {
            order,
            lines,
            adjustments,
        },
    })
}

/// PostgreSQL: the order's lines, adjustments and the claims taken into
/// `chain`, written before the order itself (their foreign keys to it are
/// checked at commit).
pub fn children_chained(chain: &mut Chain, loaded: &Loaded, taken: Vec<Taken>) {
    for statement in children(loaded, taken) {
        chain.push_statement(statement);
    }
}

/// The statement that takes the store's next number, creating its counter
/// with the first order (`?` placeholders: tenant, store), without its
/// `RETURNING`. The counter's row stays locked until commit.
const NEXT_NUMBER: &str = "INSERT INTO order_numbers (tenant_id, store_id, last) VALUES (?, ?, 1) \
     ON CONFLICT (tenant_id, store_id) DO UPDATE SET last = order_numbers.last + 1";

/// The order row's values in column order, with `number` for its number.
fn values_numbered(order: &orders::Model, number: Expr) -> ApiResult<Vec<Expr>> {
    let row = order.clone().into_active_model();
    orders::Column::iter()
        .map(|column| match column {
            orders::Column::Number => Ok(number.clone()),
            _ => row
                .get(column)
                .into_value()
                .map(Expr::val)
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("order column {column:?} not set"))),
        })
        .collect()
}

/// PostgreSQL: takes the store's next number and writes the order with it,
/// into `chain`. Answers the part that returns the order's number; it
/// returns none when `until` is given and the database's clock has reached
/// it (the order waited past a price that held only until then). The
/// number's row stays locked until commit, so this goes last.
pub fn numbered_chained(
    chain: &mut Chain,
    order: &orders::Model,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> ApiResult<String> {
    let n = chain.push_sql(
        &format!("{NEXT_NUMBER} RETURNING last"),
        [order.tenant_id.into(), order.store_id.into()],
    );
    let mut select = Query::select();
    select.exprs(values_numbered(order, Expr::col((Alias::new(&n), Alias::new("last"))))?);
    select.from(Alias::new(&n));
    if let Some(until) = until {
        select.and_where(Expr::cust_with_values("clock_timestamp() < ?", [until]));
    }
    let insert = Query::insert()
        .into_table(orders::Entity)
        .columns(orders::Column::iter())
        .select_from(select)
        .map_err(|e| ApiError::Internal(e.into()))?
        .returning_col(orders::Column::Number)
        .to_owned();
    Ok(chain.push(&insert))
}

/// SQLite: the store's number counter read in a statement (`?`
/// placeholders: tenant, store), for values written after
/// [`numbered_in`] took the order's number in the same transaction.
pub const LAST_NUMBER: &str = "(SELECT last FROM order_numbers WHERE tenant_id = ? AND store_id = ?)";

/// SQLite: takes the store's next number, answering `step` with it in its
/// second column, and writes the order with that number, its lines,
/// adjustments and claims, into `batch`.
pub fn numbered_in(batch: &mut Batch, loaded: &Loaded, taken: Vec<Taken>, step: i64) -> ApiResult<()> {
    let order = &loaded.order;
    let (tenant, store) = (order.tenant_id, order.store_id);
    batch.push_sql(
        &format!("{NEXT_NUMBER} RETURNING {step}, last"),
        [tenant.into(), store.into()],
    );
    let number = Expr::cust_with_values(LAST_NUMBER, [tenant, store]);
    let insert = Query::insert()
        .into_table(orders::Entity)
        .columns(orders::Column::iter())
        .values(values_numbered(order, number)?)
        .map_err(|e| ApiError::Internal(e.into()))?
        .to_owned();
    batch.push(&insert);
    for statement in children(loaded, taken) {
        batch.push_statement(statement);
    }
    Ok(())
}

fn claim_rows(order: &orders::Model, taken: Vec<Taken>) -> Vec<order_claims::ActiveModel> {
    taken
        .into_iter()
        .enumerate()
        .map(|(i, t)| order_claims::ActiveModel {
            tenant_id: Set(order.tenant_id),
            order_id: Set(order.id),
            position: Set(position(i)),
            install_id: Set(t.install_id),
            key: Set(t.key),
            scope_key: Set(t.scope_key),
            amount: Set(t.amount),
        })
        .collect()
}

/// The inserts of the order's lines and, when there are any, its
/// adjustments and the claims taken (built for SQLite: `?` placeholders).
fn children(loaded: &Loaded, taken: Vec<Taken>) -> Vec<Statement> {
    let lines = loaded.lines.iter().cloned().map(IntoActiveModel::into_active_model);
    let mut statements = vec![order_lines::Entity::insert_many(lines).build(DbBackend::Sqlite)];
    if !loaded.adjustments.is_empty() {
        let adjustments = loaded
            .adjustments
            .iter()
            .cloned()
            .map(IntoActiveModel::into_active_model);
        statements.push(order_adjustments::Entity::insert_many(adjustments).build(DbBackend::Sqlite));
    }
    let claims = claim_rows(&loaded.order, taken);
    if !claims.is_empty() {
        statements.push(order_claims::Entity::insert_many(claims).build(DbBackend::Sqlite));
    }
    statements
}
