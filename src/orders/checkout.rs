//! Placing an order in one write transaction: the idempotency claim, the
//! stock, the plug-ins' claims, the order with its lines and adjustments, and
//! the `order.created` event. Any refusal rolls all of it back.
//!
//! Rows are locked in one global order (variants by id, then counters by
//! key, then the tenant's usage counter, then the store's order number), so
//! concurrent checkouts on PostgreSQL queue behind each other instead of
//! deadlocking; the order number, which every checkout of the store needs,
//! comes last, so each holds it only for the order's own rows and the commit.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::OrderEvent;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::catalog::stock::apply_delta;
use crate::db::{Access, TenantTxn};
use crate::entities::{stores, variants};
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::orders::counters;
use crate::orders::customers::Shopper;
use crate::orders::pricing::Priced;
use crate::orders::record::{self, NewOrder, Taken};
use crate::orders::types;
use crate::state::AppState;

/// A priced cart about to become an order.
pub struct Placing<'a> {
    pub tenant_id: Uuid,
    pub store: &'a stores::Model,
    pub shopper: Shopper,
    pub stream_id: Option<Uuid>,
    pub priced: Priced,
    pub key: &'a IdempotencyKey,
    pub fingerprint: String,
}

/// A plug-in's `reject` refuses the order with its code and message.
fn refuse_rejected(priced: &Priced) -> ApiResult<()> {
    let Some((run, rejection)) = priced.rejections.first() else {
        return Ok(());
    };
    let slug = priced.runs.get(*run).map(|r| r.plugin_slug.as_str()).unwrap_or("");
    let errors = priced
        .rejections
        .iter()
        .map(|(_, r)| (r.code.clone(), vec![r.message.clone()]))
        .collect();
    tracing::info!(plugin = slug, code = %rejection.code, "order rejected by a plug-in");
    Err(ApiError::Unprocessable {
        code: "order_rejected",
        detail: rejection.message.clone(),
        errors,
    })
}

/// Takes every line's units with one conditional UPDATE each; refuses the
/// order naming the first SKU that has too few.
async fn take_stock(txn: &TenantTxn, priced: &Priced) -> ApiResult<()> {
    let mut lines: Vec<_> = priced.cart.lines.iter().collect();
    lines.sort_by(|a, b| a.variant_id.cmp(&b.variant_id));
    for line in lines {
        let variant_id: Uuid = line.variant_id.parse().map_err(anyhow::Error::from)?;
        if !apply_delta(txn, variant_id, -i64::from(line.quantity)).await? {
            let left = variants::Entity::find_by_id((txn.tenant_id(), variant_id))
                .one(&**txn)
                .await?
                .map_or(0, |v| v.stock);
            return Err(ApiError::conflict(
                "out_of_stock",
                format!("`{}` is out of stock: {left} left, {} asked", line.sku, line.quantity),
            ));
        }
    }
    Ok(())
}

/// Takes the plug-ins' claims; refuses the order with the claim's message
/// when one would pass its limit.
async fn take_claims(txn: &TenantTxn, priced: &Priced, customer_key: &str) -> ApiResult<Vec<Taken>> {
    let mut claims: Vec<_> = priced
        .claim_targets(Some(customer_key))
        .into_iter()
        .map(|(_, target)| target)
        .collect();
    claims.sort_by(|a, b| (a.install_id, &a.claim.key, &a.scope_key).cmp(&(b.install_id, &b.claim.key, &b.scope_key)));
    let mut taken = Vec::with_capacity(claims.len());
    for counters::Target {
        install_id,
        claim,
        scope_key,
    } in claims
    {
        if !counters::claim(txn, install_id, &claim.key, &scope_key, claim.amount, claim.limit).await? {
            return Err(ApiError::conflict("claim_refused", claim.message.clone()));
        }
        taken.push(Taken {
            install_id,
            key: claim.key.clone(),
            scope_key,
            amount: i64::try_from(claim.amount).unwrap_or(i64::MAX),
        });
    }
    Ok(taken)
}

/// The code of the refusal when a price ran out before the order could be
/// placed; the storefront prices the cart again once before passing it on.
pub const PRICE_CHANGED: &str = "price_changed";

/// The order's time, refused when an applied adjustment holds only before it
/// (a countdown that ended while the order waited for the database).
fn placed_at(priced: &Priced) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    let now = types::now();
    match priced.valid_until_ms() {
        Some(until) if now.timestamp_millis() >= until => Err(ApiError::conflict(
            PRICE_CHANGED,
            "a price in this cart ended before the order was placed; price the cart again",
        )),
        _ => Ok(now),
    }
}

/// Commits the order, or nothing at all.
pub async fn place(state: &AppState, p: Placing<'_>) -> ApiResult<HttpResponse> {
    let txn = state.db.tenant(p.tenant_id, Access::Write).await?;
    let claimed = match idempotency::begin(&txn, p.key, p.fingerprint).await? {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    refuse_rejected(&p.priced)?;
    let mut built = record::build(
        p.tenant_id,
        NewOrder {
            store: p.store,
            shopper: &p.shopper,
            stream_id: p.stream_id,
            priced: &p.priced,
        },
    )?;
    let id = built.loaded.order.id;
    let event = OrderEvent {
        order: built.loaded.to_abi(),
    };
    outbox::write(&txn, "order.created", id, &event).await?;
    record::write_children_early(&txn, &mut built).await?;
    // From here on rows other checkouts need too, each locked until commit,
    // so as few statements as possible follow them: the stock, the plug-ins'
    // counters, the tenant's usage counter, the store's order number.
    take_stock(&txn, &p.priced).await?;
    let taken = take_claims(&txn, &p.priced, &p.shopper.key).await?;
    built.place_at(placed_at(&p.priced)?);
    crate::billing::usage::record_order(&txn, id, built.loaded.order.created_at).await?;
    let order = record::insert(&txn, built, taken).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::CREATED, &order.view()).await?;
    txn.commit().await?;
    Ok(response)
}
