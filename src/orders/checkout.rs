//! Placing an order in one write transaction: the idempotency claim, the
//! stock, the plug-ins' claims, the order with its lines and adjustments, and
//! the `order.created` event. Any refusal rolls all of it back.
//!
//! Rows are locked in one global order (variants by id, then counters by
//! key, then the tenant's usage counter, then the store's order number), so
//! concurrent checkouts on PostgreSQL queue behind each other instead of
//! deadlocking; the order number, which every checkout of the store needs,
//! comes last, so each holds it only for the order's own rows and the commit.
//!
//! On SQLite, one writer at a time, the same statements go in four round
//! trips (see the `sqlite` module).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::{CartLine, Claim, OrderEvent};
use sea_orm::{DbBackend, EntityTrait};
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

mod sqlite;

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

/// The cart's lines in lock order (by variant id), each with its variant id.
fn lines_in_order(priced: &Priced) -> ApiResult<Vec<(Uuid, &CartLine)>> {
    let mut lines = Vec::with_capacity(priced.cart.lines.len());
    for line in &priced.cart.lines {
        lines.push((line.variant_id.parse().map_err(anyhow::Error::from)?, line));
    }
    lines.sort_by_key(|(id, _)| *id);
    Ok(lines)
}

/// The refusal naming a line's SKU, with the stock left.
async fn out_of_stock(txn: &TenantTxn, variant_id: Uuid, line: &CartLine) -> ApiResult<ApiError> {
    let left = variants::Entity::find_by_id((txn.tenant_id(), variant_id))
        .one(&**txn)
        .await?
        .map_or(0, |v| v.stock);
    Ok(ApiError::conflict(
        "out_of_stock",
        format!("`{}` is out of stock: {left} left, {} asked", line.sku, line.quantity),
    ))
}

/// Takes every line's units with one conditional UPDATE each; refuses the
/// order naming the first SKU that has too few.
async fn take_stock(txn: &TenantTxn, priced: &Priced) -> ApiResult<()> {
    for (variant_id, line) in lines_in_order(priced)? {
        if !apply_delta(txn, variant_id, -i64::from(line.quantity)).await? {
            return Err(out_of_stock(txn, variant_id, line).await?);
        }
    }
    Ok(())
}

/// The plug-ins' claims in lock order (install, key, scope).
fn claims_in_order<'p>(priced: &'p Priced, customer_key: &str) -> Vec<counters::Target<'p>> {
    let mut claims: Vec<_> = priced
        .claim_targets(Some(customer_key))
        .into_iter()
        .map(|(_, target)| target)
        .collect();
    claims.sort_by(|a, b| (a.install_id, &a.claim.key, &a.scope_key).cmp(&(b.install_id, &b.claim.key, &b.scope_key)));
    claims
}

fn claim_refused(claim: &Claim) -> ApiError {
    ApiError::conflict("claim_refused", claim.message.clone())
}

fn taken(target: counters::Target<'_>) -> Taken {
    Taken {
        install_id: target.install_id,
        key: target.claim.key.clone(),
        amount: i64::try_from(target.claim.amount).unwrap_or(i64::MAX),
        scope_key: target.scope_key,
    }
}

/// Takes the plug-ins' claims; refuses the order with the claim's message
/// when one would pass its limit.
async fn take_claims(txn: &TenantTxn, priced: &Priced, customer_key: &str) -> ApiResult<Vec<Taken>> {
    let claims = claims_in_order(priced, customer_key);
    let mut taken = Vec::with_capacity(claims.len());
    for target in claims {
        let claim = target.claim;
        if !counters::claim(
            txn,
            target.install_id,
            &claim.key,
            &target.scope_key,
            claim.amount,
            claim.limit,
        )
        .await?
        {
            return Err(claim_refused(claim));
        }
        taken.push(self::taken(target));
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
    if state.db.backend() == DbBackend::Sqlite {
        return sqlite::place(state, p).await;
    }
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
    record::write_children(&txn, &built).await?;
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
