//! Writing a priced order: its number, the order row, its lines, the applied
//! adjustments with the plug-in versions that made them, and the claims taken.

use sea_orm::sea_query::{Alias, Expr, OnConflict, PostgresQueryBuilder, Query};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, Iterable, QueryTrait, Set, Statement,
};
use uuid::Uuid;

use crate::db::batch::Batch;
use crate::db::TenantTxn;
use crate::entities::{order_adjustments, order_claims, order_lines, order_numbers, orders, stores};
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

/// Runs `statement`, which bumps the store's order counter and answers the
/// new number in one row. The store's first order finds no counter (no
/// row): the counter is created at 0, unless a concurrent checkout did, and
/// the statement runs again.
async fn bump(txn: &TenantTxn, store_id: Uuid, statement: impl Fn() -> Statement) -> ApiResult<i64> {
    if let Some(row) = txn.query_one_raw(statement()).await? {
        return Ok(row.try_get_by_index(0)?);
    }
    let first = order_numbers::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        store_id: Set(store_id),
        last: Set(0),
    };
    order_numbers::Entity::insert(first)
        .on_conflict(
            OnConflict::columns([order_numbers::Column::TenantId, order_numbers::Column::StoreId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&**txn)
        .await?;
    let row = txn
        .query_one_raw(statement())
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("order number row vanished")))?;
    Ok(row.try_get_by_index(0)?)
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
/// [`insert`] (or, on SQLite, by the caller of [`insert_in`]).
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
        // Taken by `insert`.
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

/// PostgreSQL: writes the order's lines and adjustments, before the
/// contended rows are locked (their foreign keys to the order are checked
/// at commit).
pub async fn write_children(txn: &TenantTxn, built: &Built) -> ApiResult<()> {
    let (lines, adjustments) = children(&built.loaded);
    lines.exec_without_returning(&**txn).await?;
    if let Some(adjustments) = adjustments {
        adjustments.exec_without_returning(&**txn).await?;
    }
    Ok(())
}

/// PostgreSQL: writes the claims taken, then takes the store's next number
/// and writes the order in one statement (after [`write_children`]). The
/// number's row stays locked until commit, so callers do this last: it is
/// held for that statement, the caller's last ones and the commit.
pub async fn insert(txn: &TenantTxn, built: Built, taken: Vec<Taken>) -> ApiResult<Loaded> {
    let mut loaded = built.loaded;
    insert_claims(txn, claim_rows(&loaded.order, taken)).await?;
    loaded.order.number = insert_numbered(txn, &loaded.order).await?;
    Ok(loaded)
}

/// SQLite: the order with the number already in it (the caller read the
/// store's counter under the writer's lock), its counter, lines, adjustments
/// and claims, into `batch`. The counter answers `step` when it moved to the
/// order's number, which it always does while the lock is held.
pub fn insert_in(batch: &mut Batch, loaded: &Loaded, taken: Vec<Taken>, step: i64) {
    let order = &loaded.order;
    batch.push_sql(
        &format!(
            "INSERT INTO order_numbers (tenant_id, store_id, last) VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id, store_id) DO UPDATE SET last = excluded.last \
             WHERE order_numbers.last = excluded.last - 1 RETURNING {step}"
        ),
        [order.tenant_id.into(), order.store_id.into(), order.number.into()],
    );
    batch.push_statement(orders::Entity::insert(order.clone().into_active_model()).build(DbBackend::Sqlite));
    let (lines, adjustments) = children(loaded);
    batch.push_statement(lines.build(DbBackend::Sqlite));
    if let Some(adjustments) = adjustments {
        batch.push_statement(adjustments.build(DbBackend::Sqlite));
    }
    let claims = claim_rows(order, taken);
    if !claims.is_empty() {
        batch.push_statement(order_claims::Entity::insert_many(claims).build(DbBackend::Sqlite));
    }
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

/// The inserts of the lines and, when there are any, the adjustments.
fn children(
    loaded: &Loaded,
) -> (
    sea_orm::InsertMany<order_lines::ActiveModel>,
    Option<sea_orm::InsertMany<order_adjustments::ActiveModel>>,
) {
    let lines = order_lines::Entity::insert_many(loaded.lines.iter().cloned().map(IntoActiveModel::into_active_model));
    let adjustments = (!loaded.adjustments.is_empty()).then(|| {
        order_adjustments::Entity::insert_many(
            loaded
                .adjustments
                .iter()
                .cloned()
                .map(IntoActiveModel::into_active_model),
        )
    });
    (lines, adjustments)
}

async fn insert_claims(txn: &TenantTxn, claims: Vec<order_claims::ActiveModel>) -> ApiResult<()> {
    if !claims.is_empty() {
        order_claims::Entity::insert_many(claims)
            .exec_without_returning(&**txn)
            .await?;
    }
    Ok(())
}

/// PostgreSQL: bumps the store's counter and inserts the order with the new
/// number in one statement; answers the number.
async fn insert_numbered(txn: &TenantTxn, order: &orders::Model) -> ApiResult<i64> {
    let row = order.clone().into_active_model();
    let mut select = Query::select();
    for column in orders::Column::iter() {
        if matches!(column, orders::Column::Number) {
            select.expr(Expr::cust("n.last"));
        } else {
            let value = row
                .get(column)
                .into_value()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("order column {column:?} not set")))?;
            select.expr(Expr::val(value));
        }
    }
    select.from(Alias::new("n"));
    let (insert, mut values) = Query::insert()
        .into_table(orders::Entity)
        .columns(orders::Column::iter())
        .select_from(select)
        .map_err(|e| ApiError::Internal(e.into()))?
        .returning_col(orders::Column::Number)
        .build(PostgresQueryBuilder);
    let at = values.0.len();
    values.0.push(order.tenant_id.into());
    values.0.push(order.store_id.into());
    let sql = format!(
        "WITH n AS (UPDATE order_numbers SET last = last + 1 WHERE tenant_id = ${} AND store_id = ${} RETURNING last) {insert}",
        at + 1,
        at + 2
    );
    // Without a counter (the store's first order) nothing is inserted and no row comes back.
    bump(txn, order.store_id, || {
        Statement::from_sql_and_values(DbBackend::Postgres, sql.clone(), values.0.clone())
    })
    .await
}
