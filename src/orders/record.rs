//! Writing a priced order: its number, the order row, its lines, the applied
//! adjustments with the plug-in versions that made them, and the claims taken.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, IntoActiveModel, Set, Statement};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{order_adjustments, order_claims, order_lines, order_numbers, orders, stores};
use crate::error::{ApiError, ApiResult};
use crate::orders::customers::Shopper;
use crate::orders::pricing::Priced;
use crate::orders::stacking::Decision;
use crate::orders::types::OrderStatus;
use crate::orders::views::Loaded;

/// A claim taken with the order, kept so a cancel can give it back.
pub struct Taken {
    pub install_id: Uuid,
    pub key: String,
    pub scope_key: String,
    pub amount: i64,
}

/// The store's next order number. The counter row is locked until commit, so
/// numbers are sequential without gaps; callers bump it late to hold it briefly.
async fn next_number(txn: &TenantTxn, store_id: Uuid) -> ApiResult<i64> {
    let backend = txn.get_database_backend();
    let tenant_id = txn.tenant_id();
    // One round trip: bump and read in the same statement (PostgreSQL and SQLite 3.35+).
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE order_numbers SET last = last + 1 WHERE tenant_id = $1 AND store_id = $2 RETURNING last"
        }
        _ => "UPDATE order_numbers SET last = last + 1 WHERE tenant_id = ? AND store_id = ? RETURNING last",
    };
    let bump = || Statement::from_sql_and_values(backend, sql, [tenant_id.into(), store_id.into()]);
    if let Some(row) = txn.query_one_raw(bump()).await? {
        return Ok(row.try_get_by_index(0)?);
    }
    // The store's first order: create the counter (at 1) unless a concurrent checkout did.
    let first = order_numbers::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        store_id: Set(store_id),
        last: Set(1),
    };
    let created = order_numbers::Entity::insert(first)
        .on_conflict(
            OnConflict::columns([order_numbers::Column::TenantId, order_numbers::Column::StoreId])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&**txn)
        .await?;
    if created == 1 {
        return Ok(1);
    }
    let row = txn
        .query_one_raw(bump())
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
    pub taken: Vec<Taken>,
    /// The order's time: its prices were checked as valid at this instant.
    pub placed_at: chrono::DateTime<chrono::Utc>,
}

fn position(i: usize) -> i32 {
    // At most 100 lines and a bounded number of adjustments per order.
    i32::try_from(i).unwrap_or(i32::MAX)
}

/// Writes the order and its children into `txn`; returns them as loaded.
pub async fn insert(txn: &TenantTxn, new: NewOrder<'_>) -> ApiResult<Loaded> {
    let (tenant_id, priced) = (txn.tenant_id(), new.priced);
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
    let claims = new
        .taken
        .into_iter()
        .enumerate()
        .map(|(i, t)| order_claims::ActiveModel {
            tenant_id: Set(tenant_id),
            order_id: Set(id),
            position: Set(position(i)),
            install_id: Set(t.install_id),
            key: Set(t.key),
            scope_key: Set(t.scope_key),
            amount: Set(t.amount),
        });

    // The number last: its row stays locked until commit, so take it as late as possible.
    let now = new.placed_at;
    let order = orders::Model {
        tenant_id,
        id,
        store_id: new.store.id,
        number: next_number(txn, new.store.id).await?,
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
    orders::Entity::insert(order.clone().into_active_model())
        .exec_without_returning(&**txn)
        .await?;
    order_lines::Entity::insert_many(lines.iter().cloned().map(IntoActiveModel::into_active_model))
        .exec_without_returning(&**txn)
        .await?;
    if !adjustments.is_empty() {
        order_adjustments::Entity::insert_many(adjustments.iter().cloned().map(IntoActiveModel::into_active_model))
            .exec_without_returning(&**txn)
            .await?;
    }
    let claims: Vec<_> = claims.collect();
    if !claims.is_empty() {
        order_claims::Entity::insert_many(claims)
            .exec_without_returning(&**txn)
            .await?;
    }
    Ok(Loaded {
        order,
        lines,
        adjustments,
    })
}
