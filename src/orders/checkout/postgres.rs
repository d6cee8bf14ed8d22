//! Placing an order on PostgreSQL in two round trips. Checkouts run side by
//! side here, and what they all need (a hot variant's stock, a coupon's
//! counter, the tenant's usage count, the store's order number) is locked
//! from the statement that changes it until commit; so those rows are
//! changed by one statement, the last, sent with the `COMMIT` (see
//! [`crate::db::script`]), and no round trip to this process holds them:
//!
//! 1. `BEGIN`, the tenant's role and settings, and one statement that
//!    claims the idempotency key (a request with the same key waits there
//!    until this one commits, then replays its answer), writes what no other
//!    checkout touches (the order's lines, adjustments and claims, the
//!    outbox event) and reads the tenant's account.
//! 2. One statement that takes, in lock order, each line's stock, each
//!    plug-in counter, one more order of the plan's month and the store's
//!    next number, and writes the order with that number, its usage record
//!    and the key's answer; then `COMMIT`. A part that did not take what it
//!    asked for fails the statement, naming the parts that did (see
//!    [`Chain::script_all_or_nothing`]), so the `COMMIT` is skipped and
//!    the refusal is worked out after the rollback.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::{CartLine, OrderEvent};
use sea_orm::{DbBackend, EntityTrait, QueryTrait};
use uuid::Uuid;

use super::{
    claims_in_order, claims_to_take, lines_in_order, orders_used_up, placed_at, price_changed, refusal,
    refuse_rejected, step, taken, Placing, CLAIM, NUMBERED, STOCK, USAGE,
};
use crate::billing::account::{self, Account};
use crate::billing::usage;
use crate::catalog::stock;
use crate::db::batch::{returning_step, Chain, Steps};
use crate::db::script::Ended;
use crate::db::Access;
use crate::entities::outbox_events;
use crate::error::{ApiError, ApiResult};
use crate::events::{notify, outbox};
use crate::http::idempotency::{self, Begin, Claimed};
use crate::orders::counters::{self, Merged};
use crate::orders::record::{self, NewOrder};
use crate::orders::views::Loaded;
use crate::state::AppState;

/// The answer of the first statement: whether the key was free, and the account.
const ACCOUNT: i64 = 1;

/// The order's number while its JSON is written, before the database takes
/// the real one; a value no store reaches.
const STAND_IN: i64 = 7_340_217_965_318_205_913;

pub(super) async fn place(state: &AppState, p: Placing<'_>) -> ApiResult<HttpResponse> {
    let tenant_id = p.tenant_id;
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
        (Err(refused), _) | (_, Err(refused)) => return unless_used_before(state, &p, refused).await,
    };
    let mut loaded = built.loaded;
    let order_id = loaded.order.id;
    // The order's JSON, with the number the database will take put in by it.
    loaded.order.number = STAND_IN;
    let json = serde_json::to_string(&loaded.view()).map_err(anyhow::Error::from)?;
    let (prefix, suffix) =
        split_at_number(&json).ok_or_else(|| anyhow::anyhow!("an order's JSON without its number"))?;

    // 1. The key, what only this order writes, the account.
    let mut own = Chain::new();
    let (key_free, claimed) = match &p.key.0 {
        Some(key) => {
            let (part, claimed) = idempotency::begin_chained(&mut own, tenant_id, key, p.fingerprint.clone());
            (format!("(SELECT count(*) FROM {part})"), Some(claimed))
        }
        None => ("1".to_string(), None),
    };
    let event = OrderEvent { order: loaded.to_abi() };
    let event = outbox::event(tenant_id, Uuid::now_v7(), "order.created", order_id, &event)?;
    own.push_statement(outbox_events::Entity::insert(event).build(DbBackend::Sqlite));
    record::children_chained(&mut own, &loaded, claims.iter().map(taken).collect());
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
    let (mut txn, read) = state.db.tenant_script(tenant_id, own).await?;

    // 2. What other checkouts need too, in lock order, and the commit.
    let next = match last(
        &read,
        &p,
        &lines,
        &merged,
        &loaded,
        claimed,
        (prefix.clone(), suffix.clone()),
    ) {
        Ok(next) => next,
        Err(e) => {
            txn.rollback().await?;
            return Err(e);
        }
    };
    let (last, account) = match next {
        Next::Write(last, account) => (last, account),
        Next::Replay(key) => {
            txn.rollback().await?;
            let txn = state.db.tenant(tenant_id, Access::Read).await?;
            return idempotency::used_before(&txn, key, &p.fingerprint).await;
        }
        Next::UsedUp(account) => {
            txn.rollback().await?;
            let txn = state.db.tenant(tenant_id, Access::Read).await?;
            return Err(orders_used_up(&txn, &account).await);
        }
    };
    txn.notify_on_commit(notify::EVENTS, String::new());

    match txn.commit_with(last).await? {
        Ended::Committed(done) => {
            let number: i64 = match done.row(NUMBERED) {
                Some(row) => row.try_get_by_index(1)?,
                None => return Err(anyhow::anyhow!("a committed order without its number").into()),
            };
            Ok(idempotency::respond(
                StatusCode::CREATED,
                format!("{prefix}{number}{suffix}"),
            ))
        }
        Ended::Refused(answered) => {
            let txn = state.db.tenant(tenant_id, Access::Read).await?;
            let refused = refusal(&txn, &answered, &lines, &merged, account.as_ref()).await?;
            Err(refused.unwrap_or_else(price_changed))
        }
    }
}

/// What the first statement's answer leads to.
enum Next {
    /// The last statement, and the account the order counts against.
    Write(Chain, Option<Account>),
    /// The key was used by another request, which this one waited for.
    Replay(String),
    /// The plan's orders of the month are used up.
    UsedUp(Account),
}

/// The last statement: takes, in lock order, each line's stock, each
/// plug-in counter, one more order of the plan's month and the store's
/// next number; writes the order with that number, its usage record and
/// the key's answer.
fn last(
    read: &Steps,
    p: &Placing<'_>,
    lines: &[(Uuid, &CartLine)],
    merged: &[Merged<'_, '_>],
    loaded: &Loaded,
    claimed: Option<Claimed>,
    answer: (String, String),
) -> ApiResult<Next> {
    let tenant_id = p.tenant_id;
    let row = read
        .row(ACCOUNT)
        .ok_or_else(|| anyhow::anyhow!("the checkout's first statement answered no row"))?;
    if let (Some(key), 0) = (&p.key.0, row.try_get::<i64>("", "key_free")?) {
        return Ok(Next::Replay(key.clone()));
    }
    let account = account::from_joined_row(row)?;
    if let Some(account) = &account {
        account.may_spend()?;
    }
    let mut last = Chain::new();
    for (i, (variant_id, line)) in lines.iter().enumerate() {
        let mut update = stock::delta_update(tenant_id, *variant_id, -i64::from(line.quantity)).into_query();
        update.returning(returning_step(1));
        let part = last.push(&update);
        last.answer(&answers(step(STOCK, i), &part), []);
    }
    for (j, m) in merged.iter().enumerate() {
        let (claim, values) = counters::claim_sql(tenant_id, m);
        let part = last.push_sql(&format!("{claim} RETURNING 1"), values);
        last.answer(&answers(step(CLAIM, j), &part), []);
    }
    if let Some(account) = &account {
        let (order_id, at) = (loaded.order.id, loaded.order.created_at);
        let Some((record, (count, values))) = usage::order_statements(tenant_id, account, order_id, at) else {
            return Ok(Next::UsedUp(account.clone()));
        };
        let part = last.push_sql(&format!("{count} RETURNING 1"), values);
        last.answer(&answers(USAGE, &part), []);
        last.push_statement(record);
    }
    let until = p
        .priced
        .valid_until_ms()
        .and_then(chrono::DateTime::from_timestamp_millis);
    let numbered = record::numbered_chained(&mut last, &loaded.order, until)?;
    last.answer(&format!("SELECT {NUMBERED}::int8, number FROM {numbered}"), []);
    if let Some(claimed) = claimed {
        idempotency::complete_chained(&mut last, tenant_id, claimed, StatusCode::CREATED, answer, &numbered);
    }
    Ok(Next::Write(last, account))
}

/// A checkout refused before anything was written: a key already used is
/// answered as before; otherwise the refusal.
async fn unless_used_before(state: &AppState, p: &Placing<'_>, refused: ApiError) -> ApiResult<HttpResponse> {
    let txn = state.db.tenant(p.tenant_id, Access::Write).await?;
    match idempotency::begin(&txn, p.key, p.fingerprint.clone()).await? {
        Begin::Replay(answered) => Ok(answered),
        Begin::Fresh(_) => Err(refused),
    }
}

/// The answer of `part`: a row with `step` for each row it wrote.
fn answers(step: i64, part: &str) -> String {
    format!("SELECT {step}::int8, NULL::int8 FROM {part}")
}

/// The JSON before and after the order's number, the stand-in. A key
/// followed by it is the order's own: no string holds an unescaped quote,
/// and the number comes before every field whose content is not ours.
fn split_at_number(json: &str) -> Option<(String, String)> {
    let number = STAND_IN.to_string();
    let at = json.find(&format!("\"number\":{number}"))? + "\"number\":".len();
    Some((json[..at].to_string(), json[at + number.len()..].to_string()))
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
    fn only_the_first_number_field_is_the_orders() {
        let json = format!(r#"{{"number":{STAND_IN},"note":"\"number\":{STAND_IN}","data":{{"number":{STAND_IN}}}}}"#);
        let (prefix, suffix) = split_at_number(&json).expect("the order's number");
        assert_eq!(prefix, r#"{"number":"#);
        assert!(suffix.starts_with(r#","note":"#));
        assert_eq!(split_at_number(r#"{"number":1}"#), None);
    }
}
