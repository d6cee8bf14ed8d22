//! What the orders API answers, and the order as plug-ins see it in `order.*` events.

use chrono::{DateTime, Utc};
use livemall_abi::{AppliedAdjustment, Cart, CartLine, Customer};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::{order_adjustments, order_lines, orders};
use crate::error::ApiResult;
use crate::orders::types::OrderStatus;

/// An order without its lines, as lists show it. Amounts are minor units of `currency`.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    pub id: Uuid,
    pub store_id: Uuid,
    /// Sequential per store, from 1.
    pub number: i64,
    pub status: OrderStatus,
    pub currency: String,
    pub customer_id: Option<Uuid>,
    pub email: Option<String>,
    pub stream_id: Option<Uuid>,
    pub codes: Vec<String>,
    pub subtotal: i64,
    /// Zero or negative for discounts, positive for surcharges.
    pub adjustments_total: i64,
    pub total: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub paid_at: Option<DateTime<Utc>>,
    pub fulfilled_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub refunded_at: Option<DateTime<Utc>>,
}

impl From<orders::Model> for OrderSummary {
    fn from(o: orders::Model) -> Self {
        OrderSummary::from(&o)
    }
}

impl From<&orders::Model> for OrderSummary {
    fn from(o: &orders::Model) -> Self {
        OrderSummary {
            id: o.id,
            store_id: o.store_id,
            number: o.number,
            status: OrderStatus::parse(&o.status).unwrap_or(OrderStatus::PendingPayment),
            currency: o.currency.clone(),
            customer_id: o.customer_id,
            email: o.email.clone(),
            stream_id: o.stream_id,
            codes: Vec::<String>::deserialize(&o.codes).unwrap_or_default(),
            subtotal: o.subtotal,
            adjustments_total: o.adjustments_total,
            total: o.total,
            created_at: o.created_at,
            updated_at: o.updated_at,
            paid_at: o.paid_at,
            fulfilled_at: o.fulfilled_at,
            cancelled_at: o.cancelled_at,
            refunded_at: o.refunded_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderLineView {
    pub position: i32,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    pub sku: String,
    pub title: String,
    pub unit_price: i64,
    pub quantity: i32,
    /// `unit_price * quantity`.
    pub total: i64,
    /// After this line's own adjustments.
    pub adjusted_total: i64,
}

/// An applied adjustment with the install and the plug-in version that made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderAdjustmentView {
    /// The line it applies to; absent for the order.
    pub line: Option<i32>,
    pub amount: i64,
    pub label: String,
    pub code: Option<String>,
    pub class: String,
    pub install_id: Uuid,
    pub plugin_id: Uuid,
    pub plugin_slug: String,
    pub version_id: Uuid,
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub summary: OrderSummary,
    /// The identity plug-ins keyed per-customer counters on.
    pub customer_key: String,
    pub lines: Vec<OrderLineView>,
    pub adjustments: Vec<OrderAdjustmentView>,
}

/// An order row with its lines and adjustments.
pub struct Loaded {
    pub order: orders::Model,
    pub lines: Vec<order_lines::Model>,
    pub adjustments: Vec<order_adjustments::Model>,
}

pub async fn load(txn: &TenantTxn, order: orders::Model) -> ApiResult<Loaded> {
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::TenantId.eq(txn.tenant_id()))
        .filter(order_lines::Column::OrderId.eq(order.id))
        .order_by_asc(order_lines::Column::Position)
        .all(&**txn)
        .await?;
    let adjustments = order_adjustments::Entity::find()
        .filter(order_adjustments::Column::TenantId.eq(txn.tenant_id()))
        .filter(order_adjustments::Column::OrderId.eq(order.id))
        .order_by_asc(order_adjustments::Column::Position)
        .all(&**txn)
        .await?;
    Ok(Loaded {
        order,
        lines,
        adjustments,
    })
}

impl Loaded {
    pub fn view(&self) -> OrderView {
        OrderView {
            summary: OrderSummary::from(&self.order),
            customer_key: self.order.customer_key.clone(),
            lines: self
                .lines
                .iter()
                .map(|l| OrderLineView {
                    position: l.position,
                    product_id: l.product_id,
                    variant_id: l.variant_id,
                    sku: l.sku.clone(),
                    title: l.title.clone(),
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    total: l.total,
                    adjusted_total: l.adjusted_total,
                })
                .collect(),
            adjustments: self
                .adjustments
                .iter()
                .map(|a| OrderAdjustmentView {
                    line: a.line,
                    amount: a.amount,
                    label: a.label.clone(),
                    code: a.code.clone(),
                    class: a.class.clone(),
                    install_id: a.install_id,
                    plugin_id: a.plugin_id,
                    plugin_slug: a.plugin_slug.clone(),
                    version_id: a.version_id,
                    version: a.version.clone(),
                })
                .collect(),
        }
    }

    /// The order as `order.*` events carry it; lines come from the cart kept
    /// with the order, so plug-ins see them exactly as they priced them.
    pub fn to_abi(&self) -> livemall_abi::Order {
        let lines = self
            .order
            .pricing
            .get("cart")
            .and_then(|cart| Cart::deserialize(cart).ok())
            .map(|cart| cart.lines)
            .unwrap_or_default();
        self.to_abi_with(lines)
    }

    /// [`Loaded::to_abi`] with the lines of the cart the order was priced
    /// from, at hand when it is placed.
    pub fn to_abi_with(&self, lines: Vec<CartLine>) -> livemall_abi::Order {
        let o = &self.order;
        livemall_abi::Order {
            id: o.id.to_string(),
            status: o.status.clone(),
            currency: o.currency.clone(),
            lines,
            subtotal: o.subtotal,
            adjustments_total: o.adjustments_total,
            total: o.total,
            customer: Some(Customer {
                id: o.customer_id.map(|id| id.to_string()),
                key: o.customer_key.clone(),
            }),
            stream_id: o.stream_id.map(|id| id.to_string()),
            codes: Vec::<String>::deserialize(&o.codes).unwrap_or_default(),
            adjustments: self
                .adjustments
                .iter()
                .map(|a| AppliedAdjustment {
                    install_id: a.install_id.to_string(),
                    line: a.line.and_then(|l| u32::try_from(l).ok()),
                    amount: a.amount,
                    label: a.label.clone(),
                    code: a.code.clone(),
                })
                .collect(),
        }
    }
}
