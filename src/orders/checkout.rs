//! Placing an order in one write transaction: the idempotency claim, the
//! stock, the plug-ins' claims, the order with its lines and adjustments, and
//! the `order.created` event. Any refusal rolls all of it back.
//!
//! Rows are locked in one global order (variants by id, then counters by
//! key, then the tenant's usage counter, then, on SQLite, the store's order
//! number; PostgreSQL's come from [`crate::orders::numbers`]), so
//! concurrent checkouts on PostgreSQL queue behind each other instead of
//! deadlocking, all of them in the last statement before the commit (see
//! the `postgres` module). On SQLite, one writer at a time, the same
//! statements go in one batch in the writer's turn (see the `sqlite` module).

use actix_web::HttpResponse;
use livemall_abi::{CartLine, Claim};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait};
use uuid::Uuid;

use crate::billing::account::{self, Account};
use crate::billing::limits::{self, Limit};
use crate::db::batch::Steps;
use crate::db::{Reads, TenantTxn};
use crate::entities::{stores, variants};
use crate::error::{ApiError, ApiResult};
use crate::http::idempotency::IdempotencyKey;
use crate::orders::counters;
use crate::orders::customers::Shopper;
use crate::orders::pricing::Priced;
use crate::orders::record::Taken;
use crate::orders::types;
use crate::orders::views::Loaded;
use crate::state::AppState;

mod postgres;
mod sqlite;

/// What the storefront's transaction, in which the cart was read, leaves
/// to the checkout.
pub enum Handover {
    /// PostgreSQL: the transaction itself, confined to the tenant; the
    /// order is placed in it (see the `postgres` module).
    Txn(TenantTxn),
    /// SQLite: the tenant's account, read in it, so that the writer's turn
    /// only writes (see the `sqlite` module); `None` for a tenant that
    /// never subscribed.
    Account(Option<Account>),
    /// Nothing: the checkout opens what it needs.
    Nothing,
}

/// The storefront's reads handed over to a checkout. On SQLite they end
/// here, so no connection is held while plug-ins run; the account comes
/// from `read` when pricing read it with the store's installs, else from
/// one more statement.
pub async fn hand_over(reads: Reads, read: Option<Option<Account>>) -> ApiResult<Handover> {
    match (reads, read) {
        (Reads::Txn(txn), _) => Ok(Handover::Txn(txn)),
        (_, Some(account)) => Ok(Handover::Account(account)),
        (reads, None) => Ok(Handover::Account(account::load(reads.on()).await?)),
    }
}

/// A priced cart about to become an order.
pub struct Placing<'a> {
    pub handover: Handover,
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

/// The claims to take, merged per counter (see [`counters::merged`]);
/// refuses the order when one can never be met.
fn claims_to_take<'t, 'p>(claims: &'t [counters::Target<'p>]) -> ApiResult<Vec<counters::Merged<'t, 'p>>> {
    counters::merged(claims).map_err(|target| claim_refused(target.claim))
}

fn claim_refused(claim: &Claim) -> ApiError {
    ApiError::conflict("claim_refused", claim.message.clone())
}

fn taken(target: &counters::Target<'_>) -> Taken {
    Taken {
        install_id: target.install_id,
        key: target.claim.key.clone(),
        amount: i64::try_from(target.claim.amount).unwrap_or(i64::MAX),
        scope_key: target.scope_key.clone(),
    }
}

/// The code of the refusal when a price ran out before the order could be
/// placed; the storefront prices the cart again once before passing it on.
pub const PRICE_CHANGED: &str = "price_changed";

/// The order's time, refused when an applied adjustment holds only before it
/// (a countdown that ended while the order waited for the database).
fn placed_at(priced: &Priced) -> ApiResult<chrono::DateTime<chrono::Utc>> {
    let now = types::now();
    match priced.valid_until_ms() {
        Some(until) if now.timestamp_millis() >= until => Err(price_changed()),
        _ => Ok(now),
    }
}

fn price_changed() -> ApiError {
    ApiError::conflict(
        PRICE_CHANGED,
        "a price in this cart ended before the order was placed; price the cart again",
    )
}

/// The refusal when the plan's orders of the month are used up.
async fn orders_used_up(db: &impl ConnectionTrait, account: &Account) -> ApiError {
    limits::reached(db, account, Limit::OrdersPerMonth, account.orders).await
}

/// The refusal for the first statement in `done` that did not take what
/// it asked for: a line's stock, a plug-in's claim, the plan's next order.
async fn refusal<R>(
    txn: &TenantTxn,
    done: &Steps<R>,
    lines: &[(Uuid, &CartLine)],
    claims: &[counters::Merged<'_, '_>],
    account: Option<&Account>,
) -> ApiResult<Option<ApiError>> {
    for (i, (variant_id, line)) in lines.iter().enumerate() {
        if !done.answered(step(STOCK, i)) {
            return Ok(Some(out_of_stock(txn, *variant_id, line).await?));
        }
    }
    for (j, claim) in claims.iter().enumerate() {
        if !done.answered(step(CLAIM, j)) {
            return Ok(Some(claim_refused(claim.target.claim)));
        }
    }
    match account {
        Some(account) if !done.answered(USAGE) => Ok(Some(orders_used_up(&**txn, account).await)),
        _ => Ok(None),
    }
}

// Steps of the statements whose outcome decides the order (see
// `crate::db::batch`); a line's and a claim's add their index.
const USAGE: i64 = 1;
const NUMBERED: i64 = 2;
const STOCK: i64 = 1_000;
const CLAIM: i64 = 1_000_000;

fn step(base: i64, index: usize) -> i64 {
    base + i64::try_from(index).unwrap_or(i64::MAX - base)
}

/// The order's number while its JSON is written, before the database takes
/// the real one; a value no store reaches.
const STAND_IN: i64 = 7_340_217_965_318_205_913;

/// The order's JSON before and after its number, so the database can put
/// the number it takes in between; `loaded` keeps the stand-in number.
fn json_around_number(loaded: &mut Loaded) -> ApiResult<(String, String)> {
    loaded.order.number = STAND_IN;
    let json = serde_json::to_string(&loaded.view()).map_err(anyhow::Error::from)?;
    split_at_number(&json)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the order's JSON does not hold its number once")))
}

/// The JSON before and after the stand-in number. `None` unless the
/// stand-in is the value of exactly one `"number"` key (a quote inside a
/// string is escaped, so text such as a product's title cannot match).
fn split_at_number(json: &str) -> Option<(String, String)> {
    const KEY: &str = "\"number\":";
    let stand_in = format!("{KEY}{STAND_IN}");
    let mut found = json.match_indices(&stand_in);
    let (at, _) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some((
        json[..at + KEY.len()].to_string(),
        json[at + stand_in.len()..].to_string(),
    ))
}

/// Commits the order, or nothing at all.
pub async fn place(state: &AppState, p: Placing<'_>) -> ApiResult<HttpResponse> {
    match state.db.backend() {
        DbBackend::Sqlite => sqlite::place(state, p).await,
        _ => postgres::place(state, p).await,
    }
}

#[cfg(test)]
mod tests {
    use super::{split_at_number, STAND_IN};

    #[test]
    fn the_json_is_split_at_the_one_stand_in_number() {
        let json = format!(r#"{{"id":"a","number":{STAND_IN},"note":"x"}}"#);
        let (prefix, suffix) = split_at_number(&json).expect("one stand-in");
        assert_eq!(format!("{prefix}12{suffix}"), r#"{"id":"a","number":12,"note":"x"}"#);
    }

    #[test]
    fn the_stand_in_in_text_is_not_the_number() {
        let json = format!(r#"{{"number":{STAND_IN},"note":"\"number\":{STAND_IN} {STAND_IN}"}}"#);
        let (prefix, suffix) = split_at_number(&json).expect("one number key");
        assert_eq!(prefix, r#"{"number":"#);
        assert!(suffix.starts_with(r#","note":"#));
    }

    #[test]
    fn a_json_with_the_number_key_twice_or_never_is_not_split() {
        let json = format!(r#"{{"number":{STAND_IN},"line":{{"number":{STAND_IN}}}}}"#);
        assert_eq!(split_at_number(&json), None);
        assert_eq!(split_at_number(r#"{"number":1}"#), None);
    }
}
