//! Placing an order on PostgreSQL in three round trips. Checkouts run side
//! by side here, and what several of them need (a hot variant's stock, a
//! coupon's counter, the tenant's usage count) is locked from the statement
//! that changes it until commit; so those rows are changed by one
//! statement, the last before the commit. The store's order number is not
//! one of them: it comes from this process's hand
//! ([`crate::orders::numbers`]), so orders of different variants of one
//! store do not queue for it.
//!
//! 1. The transaction is the storefront's ([`Handover::Txn`]), in which the cart was read and
//!    which its first statement confined to the tenant
//!    ([`crate::db::Db::tenant_found_by`]); without one, `BEGIN` and the
//!    tenant's settings ([`crate::db::Db::tenant`]), two round trips more.
//!    It has only read so far, so while the plug-ins price the cart it
//!    holds no lock, only its connection (each call has a 50 ms deadline);
//!    continuing it saves a checkout from the pool, `BEGIN`, the settings
//!    and the read's `ROLLBACK`.
//! 2. One statement claims the idempotency key (a request with the same key
//!    waits there until this one commits, then replays its answer), writes
//!    what no other checkout touches (the order's lines, adjustments and
//!    claims, the outbox event) and reads the tenant's account.
//! 3. One statement takes, in lock order, each line's stock, each plug-in
//!    counter and one more order of the plan's month; writes the order with
//!    its number, its usage record and the key's answer; and answers which
//!    of them took what they asked for (see [`Chain`]). One that did not
//!    refuses the order, the rollback undoes everything, and the number is
//!    given back.
//! 4. `COMMIT`.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::OrderEvent;
use uuid::Uuid;

use super::{
    claims_in_order, claims_to_take, lines_in_order, orders_used_up, placed_at, price_changed, refusal,
    refuse_rejected, step, taken, Handover, Placing, CLAIM, NUMBERED, STOCK, USAGE,
};
use crate::billing::{account, usage};
use crate::catalog::stock;
use crate::db::batch::Chain;
use crate::db::{Access, TenantTxn};
use crate::error::{ApiError, ApiResult};
use crate::events::{notify, outbox};
use crate::http::idempotency::{self, Begin};
use crate::orders::counters;
use crate::orders::record::{self, NewOrder};
use crate::state::AppState;

/// The answer of statement 2: whether the key was free, and the account.
const ACCOUNT: i64 = 1;

pub(super) async fn place(state: &AppState, mut p: Placing<'_>) -> ApiResult<HttpResponse> {
    let tenant_id = p.tenant_id;
    let txn = match std::mem::replace(&mut p.handover, Handover::Nothing) {
        Handover::Txn(txn) => txn,
        _ => state.db.tenant(tenant_id, Access::Write).await?,
    };
    let built = refuse_rejected(&p.priced).and_then(|()| {
        let mut built = record::build(
            tenant_id,
            NewOrder {
                store: p.store,
                shopper: &p.shopper,
                stream_id: p.stream_id,
                priced: &p.priced,
            },
        )?;
        built.place_at(placed_at(&p.priced)?);
        Ok(built)
    });
    let lines = lines_in_order(&p.priced)?;
    let claims = claims_in_order(&p.priced, &p.shopper.key);
    let merged = claims_to_take(&claims);
    let (built, merged) = match (built, merged) {
        (Ok(built), Ok(merged)) => (built, merged),
        (Err(refused), _) | (_, Err(refused)) => return unless_used_before(&txn, &p, refused).await,
    };
    let mut loaded = built.loaded;
    let (order_id, at) = (loaded.order.id, loaded.order.created_at);
    // Given back on every return before the commit.
    let number = state.numbers.take(&state.db, tenant_id, p.store.id).await?;
    loaded.order.number = number.number();
    let body = serde_json::to_string(&loaded.view()).map_err(anyhow::Error::from)?;

    // 2. The key, what only this order writes, the account.
    let mut own = Chain::new();
    let (key_free, claimed) = match &p.key.0 {
        Some(key) => {
            let (part, claimed) = idempotency::begin_chained(&mut own, tenant_id, key, p.fingerprint.clone());
            (format!("(SELECT count(*) FROM {part})"), Some(claimed))
        }
        None => ("1".to_string(), None),
    };
    let event = OrderEvent {
        order: loaded.to_abi_with(p.priced.cart.lines.clone()),
    };
    let event = outbox::event(tenant_id, Uuid::now_v7(), "order.created", order_id, &event)?;
    own.push_rows(vec![event]);
    let order = record::children_chained(&mut own, loaded, claims.iter().map(taken).collect());
    // One row whatever there is: the key read first, so a request that
    // holds it is waited for before anything else.
    own.answer(
        &format!(
            "SELECT CAST({ACCOUNT} AS BIGINT), {key_free} AS key_free, a.* FROM (SELECT 1) AS one \
             LEFT JOIN ({}) AS a ON true",
            account::select()
        ),
        [tenant_id.into()],
    );
    let read = own.run(&*txn).await?;
    let row = read
        .row(ACCOUNT)
        .ok_or_else(|| anyhow::anyhow!("the checkout's first statement answered no row"))?;
    if let (Some(key), 0) = (&p.key.0, row.try_get::<i64>("", "key_free")?) {
        return idempotency::used_before(&txn, key.clone(), &p.fingerprint).await;
    }
    notify::notify(&txn, notify::EVENTS, "");
    let account = account::from_joined_row(row)?;
    if let Some(account) = &account {
        account.may_spend()?;
    }

    // 3. What other checkouts need too, in lock order.
    let mut shared = Chain::new();
    for (i, (variant_id, line)) in lines.iter().enumerate() {
        let (update, values) = stock::delta_sql(tenant_id, *variant_id, -i64::from(line.quantity));
        let part = shared.push_sql(&format!("{update} RETURNING 1"), values);
        shared.answer(&answers(step(STOCK, i), &part), []);
    }
    for (j, m) in merged.iter().enumerate() {
        let (claim, values) = counters::claim_sql(tenant_id, m);
        let part = shared.push_sql(&format!("{claim} RETURNING 1"), values);
        shared.answer(&answers(step(CLAIM, j), &part), []);
    }
    if let Some(account) = &account {
        let Some(((record, record_values), (count, values))) =
            usage::order_statements(tenant_id, account, order_id, at)
        else {
            return Err(orders_used_up(&*txn, account).await);
        };
        let part = shared.push_sql(&format!("{count} RETURNING 1"), values);
        shared.answer(&answers(USAGE, &part), []);
        shared.push_sql(&record, record_values);
    }
    let until = p
        .priced
        .valid_until_ms()
        .and_then(chrono::DateTime::from_timestamp_millis);
    let numbered = record::numbered_chained(&mut shared, order, until);
    shared.answer(&answers(NUMBERED, &numbered), []);
    if let Some(claimed) = claimed {
        idempotency::complete_chained(&mut shared, tenant_id, claimed, StatusCode::CREATED, body.clone());
    }
    let done = shared.run(&*txn).await?;

    if let Some(refused) = refusal(&txn, &done, &lines, &merged, account.as_ref()).await? {
        return Err(refused);
    }
    if done.row(NUMBERED).is_none() {
        return Err(price_changed());
    }
    number.kept();
    txn.commit().await?;
    Ok(idempotency::respond(StatusCode::CREATED, body))
}

/// A checkout refused before anything was written: a key already used is
/// answered as before; otherwise the refusal.
async fn unless_used_before(txn: &TenantTxn, p: &Placing<'_>, refused: ApiError) -> ApiResult<HttpResponse> {
    match idempotency::begin(txn, p.key, p.fingerprint.clone()).await? {
        Begin::Replay(answered) => Ok(answered),
        Begin::Fresh(_) => Err(refused),
    }
}

/// The answer of `part`: a row with `step` for each row it wrote.
fn answers(step: i64, part: &str) -> String {
    format!("SELECT {step}::int8, NULL::int8 FROM {part}")
}
