//! The order lifecycle, driven by the merchant (users, or API keys with
//! `orders:write`):
//!
//! ```text
//! pending_payment -> paid -> fulfilled
//! pending_payment | paid -> cancelled     stock and claims come back
//! paid | fulfilled -> refunded            stock is not restocked
//! ```
//!
//! Each change is one guarded UPDATE (`... WHERE status IN (...)`), so of
//! concurrent requests exactly one changes the order; only that one gives
//! stock and claims back and writes the event.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpResponse};
use livemall_abi::OrderEvent;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::auth::{Scope, TenantScope};
use crate::catalog::stock::apply_delta;
use crate::db::{Access, TenantTxn};
use crate::entities::{order_claims, orders};
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::orders::counters;
use crate::orders::merchant::{find, open_store};
use crate::orders::types;
use crate::orders::types::OrderStatus::{self, Cancelled, Fulfilled, Paid, PendingPayment, Refunded};
use crate::orders::views;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Pay,
    Fulfill,
    Cancel,
    Refund,
}

impl Action {
    /// Where it goes, from where, the timestamp it sets and the event it writes.
    fn rule(self) -> (OrderStatus, &'static [OrderStatus], orders::Column, &'static str) {
        match self {
            Action::Pay => (Paid, &[PendingPayment], orders::Column::PaidAt, "order.paid"),
            Action::Fulfill => (Fulfilled, &[Paid], orders::Column::FulfilledAt, "order.fulfilled"),
            Action::Cancel => (
                Cancelled,
                &[PendingPayment, Paid],
                orders::Column::CancelledAt,
                "order.cancelled",
            ),
            Action::Refund => (
                Refunded,
                &[Paid, Fulfilled],
                orders::Column::RefundedAt,
                "order.refunded",
            ),
        }
    }
}

/// Gives a cancelled order's stock and claims back, in the lock order checkout uses.
async fn give_back(txn: &TenantTxn, order: &views::Loaded) -> ApiResult<()> {
    let mut lines: Vec<_> = order.lines.iter().collect();
    lines.sort_by_key(|l| l.variant_id);
    for line in lines {
        if !apply_delta(txn, line.variant_id, i64::from(line.quantity)).await? {
            tracing::warn!(variant_id = %line.variant_id, "restocking would pass the stock limit; left as is");
        }
    }
    let claims = order_claims::Entity::find()
        .filter(order_claims::Column::TenantId.eq(txn.tenant_id()))
        .filter(order_claims::Column::OrderId.eq(order.order.id))
        .order_by_asc(order_claims::Column::InstallId)
        .order_by_asc(order_claims::Column::Key)
        .order_by_asc(order_claims::Column::ScopeKey)
        .all(&**txn)
        .await?;
    for c in claims {
        counters::release(txn, c.install_id, &c.key, &c.scope_key, c.amount).await?;
    }
    Ok(())
}

async fn transition(
    state: &AppState,
    scope: &TenantScope,
    (store_id, id): (Uuid, Uuid),
    key: &IdempotencyKey,
    action: Action,
) -> ApiResult<HttpResponse> {
    let (to, from, stamp, topic) = action.rule();
    let txn = open_store(state, scope, Scope::OrdersWrite, Access::Write, store_id).await?;
    let route = format!("POST /stores/{store_id}/orders/{id}/{action:?}");
    let claimed = match idempotency::begin(&txn, key, idempotency::fingerprint(&route, &())?).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let now = types::now();
    let changed = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to.as_str()))
        .col_expr(stamp, Expr::value(now))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::TenantId.eq(txn.tenant_id()))
        .filter(orders::Column::StoreId.eq(store_id))
        .filter(orders::Column::Id.eq(id))
        .filter(orders::Column::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(&*txn)
        .await?
        .rows_affected
        == 1;
    let order = find(&txn, store_id, id).await?;
    if !changed {
        return Err(ApiError::conflict(
            "invalid_transition",
            format!("an order that is `{}` cannot become `{}`", order.status, to.as_str()),
        ));
    }
    let order = views::load(&txn, order).await?;
    if action == Action::Cancel {
        give_back(&txn, &order).await?;
    }
    outbox::write(&txn, topic, id, &OrderEvent { order: order.to_abi() }).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::OK, &order.view()).await?;
    txn.commit().await?;
    Ok(response)
}

/// Marks a pending order paid.
#[utoipa::path(tag = "orders", params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer")),
    responses((status = 200, body = views::OrderView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/orders/{id}/pay")]
pub async fn pay(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), &key, Action::Pay).await
}

/// Marks a paid order fulfilled.
#[utoipa::path(tag = "orders", params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer")),
    responses((status = 200, body = views::OrderView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/orders/{id}/fulfill")]
pub async fn fulfill(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), &key, Action::Fulfill).await
}

/// Cancels a pending or paid order; its stock and plug-in claims come back, once.
#[utoipa::path(tag = "orders", params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer")),
    responses((status = 200, body = views::OrderView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), &key, Action::Cancel).await
}

/// Refunds a paid or fulfilled order. Stock is not restocked automatically:
/// returned goods are counted back with the stock endpoint.
#[utoipa::path(tag = "orders", params(("Idempotency-Key" = Option<String>, Header, description = "replays the first answer")),
    responses((status = 200, body = views::OrderView), (status = 404), (status = 409, description = "invalid_transition")),
    security(("bearer" = [])))]
#[post("/stores/{store_id}/orders/{id}/refund")]
pub async fn refund(
    state: web::Data<AppState>,
    scope: TenantScope,
    path: web::Path<(Uuid, Uuid)>,
    key: IdempotencyKey,
) -> ApiResult<HttpResponse> {
    transition(&state, &scope, path.into_inner(), &key, Action::Refund).await
}
