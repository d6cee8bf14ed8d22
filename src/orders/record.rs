//! Writing a priced order: its number, the order row, its lines, the applied
//! adjustments with the plug-in versions that made them, and the claims taken.

use sea_orm::Value;
use uuid::Uuid;

use crate::db::batch::{Batch, Chain};
use crate::db::insert::{self, Computed};
use crate::entities::{order_adjustments, order_claims, order_lines, orders, stores};
use crate::error::ApiResult;
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
/// written; its time is set by [`Built::place_at`], its number given by
/// [`crate::orders::numbers`] or taken by [`numbered_in`].
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
        // Given by `orders::numbers` or taken by `numbered_in`.
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
/// checked at commit); answers the order's row, for [`numbered_chained`].
pub fn children_chained(chain: &mut Chain, loaded: Loaded, taken: Vec<Taken>) -> orders::Model {
    let Loaded {
        order,
        lines,
        adjustments,
    } = loaded;
    chain.push_rows(lines);
    chain.push_rows(adjustments);
    chain.push_rows(claim_rows(&order, taken));
    order
}

/// PostgreSQL: writes the order, numbered (see [`crate::orders::numbers`]),
/// into `chain`. Answers the part that returns the order's number; it
/// returns none when `until` is given and the database's clock has reached
/// it (the order waited past a price that held only until then).
pub fn numbered_chained(
    chain: &mut Chain,
    order: orders::Model,
    until: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let (text, values) = insert_unless_ended(order, until);
    chain.push_sql(&text, values)
}

/// PostgreSQL: the order's insert, unless the database's clock has reached `until`.
fn insert_unless_ended(order: orders::Model, until: Option<chrono::DateTime<chrono::Utc>>) -> (String, Vec<Value>) {
    let mut text = format!("INSERT INTO \"orders\" {} SELECT ", insert::columns::<orders::Entity>());
    let mut values = Vec::with_capacity(24);
    insert::row_into(&mut text, &mut values, order, None);
    if let Some(until) = until {
        text.push_str(" WHERE clock_timestamp() < ?");
        values.push(until.into());
    }
    text.push_str(" RETURNING \"number\"");
    (text, values)
}

/// The statement that takes the store's next number, creating its counter
/// with the first order (`?` placeholders: tenant, store), without its
/// `RETURNING`. The counter's row stays locked until commit.
const NEXT_NUMBER: &str = "INSERT INTO order_numbers (tenant_id, store_id, last) VALUES (?, ?, 1) \
     ON CONFLICT (tenant_id, store_id) DO UPDATE SET last = order_numbers.last + 1";

/// SQLite: the store's number counter read in a statement (`?`
/// placeholders: tenant, store), for values written after
/// [`numbered_in`] took the order's number in the same transaction.
pub const LAST_NUMBER: &str = "(SELECT last FROM order_numbers WHERE tenant_id = ? AND store_id = ?)";

/// SQLite: takes the store's next number, answering `step` with it in its
/// second column, and writes the order with that number, its lines,
/// adjustments and claims, into `batch`.
pub fn numbered_in(batch: &mut Batch, loaded: Loaded, taken: Vec<Taken>, step: i64) {
    let Loaded {
        order,
        lines,
        adjustments,
    } = loaded;
    let (tenant, store) = (order.tenant_id, order.store_id);
    batch.push_sql(
        &format!("{NEXT_NUMBER} RETURNING {step}, last"),
        [tenant.into(), store.into()],
    );
    let number = Computed {
        column: orders::Column::Number,
        sql: LAST_NUMBER,
        values: vec![tenant.into(), store.into()],
    };
    let claims = claim_rows(&order, taken);
    let (text, values) = insert::row_with(order, &number);
    batch.push_sql(&text, values);
    batch.push_rows(lines);
    batch.push_rows(adjustments);
    batch.push_rows(claims);
}

fn claim_rows(order: &orders::Model, taken: Vec<Taken>) -> Vec<order_claims::Model> {
    taken
        .into_iter()
        .enumerate()
        .map(|(i, t)| order_claims::Model {
            tenant_id: order.tenant_id,
            order_id: order.id,
            position: position(i),
            install_id: t.install_id,
            key: t.key,
            scope_key: t.scope_key,
            amount: t.amount,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{TimeZone, Utc};
    use sea_orm::sea_query::{Expr, Query, SqliteQueryBuilder};
    use sea_orm::{ActiveModelTrait, IntoActiveModel, Iterable};
    use uuid::Uuid;

    use super::{insert_unless_ended, LAST_NUMBER};
    use crate::db::insert::{row_with, Computed};
    use crate::entities::orders;

    fn order() -> orders::Model {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap();
        orders::Model {
            tenant_id: Uuid::from_u128(1),
            id: Uuid::from_u128(2),
            store_id: Uuid::from_u128(3),
            number: 0,
            status: "pending_payment".into(),
            currency: "EUR".into(),
            customer_id: None,
            email: Some("a@example.com".into()),
            customer_key: "a@example.com".into(),
            stream_id: Some(Uuid::from_u128(4)),
            codes: serde_json::json!(["SAVE"]),
            subtotal: 100,
            adjustments_total: -10,
            total: 90,
            pricing: serde_json::json!({"now_ms": 1, "note": "it's"}),
            created_at: at,
            updated_at: at,
            paid_at: None,
            fulfilled_at: None,
            cancelled_at: None,
            refunded_at: None,
        }
    }

    /// The order's values as the query builder took them, `number` for its number.
    fn built_values(order: &orders::Model, number: &Expr) -> Vec<Expr> {
        let row = order.clone().into_active_model();
        orders::Column::iter()
            .map(|c| match c {
                orders::Column::Number => number.clone(),
                _ => Expr::val(row.get(c).into_value().unwrap()),
            })
            .collect()
    }

    #[test]
    fn the_sqlite_order_insert_is_the_builders() {
        let order = order();
        let (tenant, store) = (order.tenant_id, order.store_id);
        let computed = Computed {
            column: orders::Column::Number,
            sql: LAST_NUMBER,
            values: vec![tenant.into(), store.into()],
        };
        let (text, values) = row_with(order.clone(), &computed);
        let number = Expr::cust_with_values(LAST_NUMBER, [tenant, store]);
        let (built, built_values_) = Query::insert()
            .into_table(orders::Entity)
            .columns(orders::Column::iter())
            .values(built_values(&order, &number))
            .unwrap()
            .build(SqliteQueryBuilder);
        assert_eq!(text, built);
        assert_eq!(values, built_values_.0);
    }

    #[test]
    fn the_postgres_order_insert_is_the_builders() {
        let order = order();
        let until = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        for until in [None, Some(until)] {
            let mut numbered = order.clone();
            numbered.number = 7;
            let (text, values) = insert_unless_ended(numbered, until);
            let mut select = Query::select();
            select.exprs(built_values(&order, &Expr::val(7_i64)));
            if let Some(until) = until {
                select.and_where(Expr::cust_with_values("clock_timestamp() < ?", [until]));
            }
            let (built, built_values_) = Query::insert()
                .into_table(orders::Entity)
                .columns(orders::Column::iter())
                .select_from(select)
                .unwrap()
                .returning_col(orders::Column::Number)
                .build(SqliteQueryBuilder);
            assert_eq!(text, built);
            assert_eq!(values, built_values_.0);
        }
    }
}
