//! Placing an order on SQLite in one job on the writer's own connection.
//! SQLite has one writer at a time, and every other checkout waits
//! while one holds the writer's lock, so everything that can be done before
//! the lock is taken is done before it, and the turn only writes:
//!
//! - Before the turn: the tenant's account was read with the storefront
//!   ([`Handover::Account`]); the order, its lines, adjustments and answer
//!   are built, and all the turn's statements written into one batch (see
//!   [`crate::db::batch`]) with their values bound as SQLite's (see
//!   [`crate::db::writer::Bound`]). A refusal found here (a plug-in's `reject`, a
//!   claim that can never be met, an account that may not spend) costs the
//!   writer nothing.
//! - The turn: one batch writes the outbox event, a conditional UPDATE
//!   per line's stock, a conditional upsert per plug-in claim, the usage
//!   record and its counter, the store's next number, the order with that
//!   number, its lines, adjustments and claims, and last the idempotency
//!   key with its answer, in which the database puts the number. Each
//!   conditional statement answers its step when it took what it asked
//!   for; one that did not refuses the order, and its savepoint is rolled
//!   back, undoing everything the batch wrote. A key already used stops the
//!   batch with a unique-key error. The turn is a part of one transaction
//!   with the checkouts queued next to it (group commit, see
//!   [`crate::db::writer`]), answered after its `COMMIT`.
//! - After the turn: the response; the refusal's message (which reads what
//!   was left on a reader); or, for a key already used, its first answer
//!   sent again.
//!
//! The turn is one job on the writer's thread ([`crate::db::Db::on_writer`]):
//! its statements run one after another on that thread's connection, with
//! no hand-off between them, so it waits for nothing but SQLite while it
//! holds the lock.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::OrderEvent;
use rusqlite::types::Value as Sql;
use rusqlite::Connection;
use uuid::Uuid;

use super::{
    claims_in_order, claims_to_take, json_around_number, lines_in_order, orders_used_up, placed_at, price_changed,
    refusal, refuse_rejected, step, taken, Handover, Placing, CLAIM, NUMBERED, STOCK, USAGE,
};
use crate::billing::account::{self, Account};
use crate::billing::usage;
use crate::catalog::stock;
use crate::db::batch::{Batch, Steps};
use crate::db::writer::{run_batch, Bound, Ended};
use crate::db::Access;
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::idempotency;
use crate::orders::counters;
use crate::orders::record::{self, NewOrder, LAST_NUMBER};
use crate::orders::types;
use crate::state::AppState;

/// The writer's turn, built before it: moved to the writer's thread.
struct Turn {
    batch: Bound,
    /// The steps that must all answer for the order to commit.
    required: Vec<i64>,
    /// The end of the shortest-lived price applied, in Unix milliseconds.
    until_ms: Option<i64>,
}

/// What the turn answers.
enum Outcome {
    /// Kept (and committed), with the order's number.
    Created(i64),
    /// Undone: a step that had to answer did not.
    Refused(Steps<Vec<Sql>>),
    /// Undone before the batch ended (a price that ran out, a key
    /// already used, a database error): the key's first answer if it was
    /// used before, else this error.
    Stopped(ApiError),
}

pub(super) async fn place(state: &AppState, mut p: Placing<'_>) -> ApiResult<HttpResponse> {
    let tenant_id = p.tenant_id;
    let account = match std::mem::replace(&mut p.handover, Handover::Nothing) {
        Handover::Account(account) => account,
        Handover::Txn(txn) => account::load(&txn).await?,
        Handover::Nothing => account::load(&state.db.tenant(tenant_id, Access::Read).await?).await?,
    };
    let lines = lines_in_order(&p.priced)?;
    let claims = claims_in_order(&p.priced, &p.shopper.key);
    let merged = match claims_to_take(&claims) {
        Ok(merged) => merged,
        Err(refused) => return unless_used_before(state, &p, refused).await,
    };
    let (turn, (prefix, suffix)) = match prepare(state, &p, account.as_ref(), &lines, &merged, &claims).await {
        Ok(prepared) => prepared,
        Err(refused) => return unless_used_before(state, &p, refused).await,
    };

    match state.db.on_writer(move |conn| write(conn, turn)).await? {
        Outcome::Created(number) => Ok(idempotency::respond(
            StatusCode::CREATED,
            format!("{prefix}{number}{suffix}"),
        )),
        Outcome::Stopped(error) => unless_used_before(state, &p, error).await,
        Outcome::Refused(done) => {
            let reader = state.db.tenant(tenant_id, Access::Read).await?;
            Err(refusal(&reader, &done, &lines, &merged, account.as_ref())
                .await?
                .unwrap_or_else(|| ApiError::Internal(anyhow::anyhow!("a checkout was refused with every step taken"))))
        }
    }
}

/// Builds the order and the turn's batch; refuses what needs no database
/// to refuse. Answers the turn and the order's JSON before and after its number.
async fn prepare(
    state: &AppState,
    p: &Placing<'_>,
    account: Option<&Account>,
    lines: &[(Uuid, &livemall_abi::CartLine)],
    merged: &[counters::Merged<'_, '_>],
    claims: &[counters::Target<'_>],
) -> ApiResult<(Turn, (String, String))> {
    let tenant_id = p.tenant_id;
    refuse_rejected(&p.priced)?;
    if let Some(account) = account {
        account.may_spend()?;
    }
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
    let mut loaded = built.loaded;
    let (order_id, at) = (loaded.order.id, loaded.order.created_at);
    let (prefix, suffix) = json_around_number(&mut loaded)?;

    let mut batch = Batch::new();
    let mut required = Vec::with_capacity(lines.len() + merged.len() + 2);
    let event = OrderEvent {
        order: loaded.to_abi_with(p.priced.cart.lines.clone()),
    };
    let event = outbox::event(tenant_id, Uuid::now_v7(), "order.created", order_id, &event)?;
    batch.push_rows(vec![event]);
    for (i, (variant_id, line)) in lines.iter().enumerate() {
        let (update, values) = stock::delta_sql(tenant_id, *variant_id, -i64::from(line.quantity));
        batch.push_sql(&format!("{update} RETURNING {}", step(STOCK, i)), values);
        required.push(step(STOCK, i));
    }
    for (j, m) in merged.iter().enumerate() {
        let (claim, values) = counters::claim_sql(tenant_id, m);
        batch.push_sql(&format!("{claim} RETURNING {}", step(CLAIM, j)), values);
        required.push(step(CLAIM, j));
    }
    if let Some(account) = account {
        if !usage::record_order_in(&mut batch, tenant_id, account, order_id, at, USAGE) {
            return Err(orders_used_up(state.db.connection(), account).await);
        }
        required.push(USAGE);
    }
    record::numbered_in(&mut batch, loaded, claims.iter().map(taken).collect(), NUMBERED);
    required.push(NUMBERED);
    if let Some(key) = &p.key.0 {
        let values = vec![
            prefix.clone().into(),
            tenant_id.into(),
            p.store.id.into(),
            suffix.clone().into(),
        ];
        let body = format!("? || {LAST_NUMBER} || ?");
        idempotency::answered_in(
            &mut batch,
            tenant_id,
            key,
            p.fingerprint.clone(),
            StatusCode::CREATED,
            (&body, values),
        );
    }
    let turn = Turn {
        batch: Bound::of(batch).map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("binding the order")))?,
        required,
        until_ms: p.priced.valid_until_ms(),
    };
    Ok((turn, (prefix, suffix)))
}

/// The turn, on the writer's own connection: the batch, kept (and
/// committed with the parts of its group) only if every required step
/// answered.
fn write(conn: &Connection, turn: Turn) -> Ended<Outcome> {
    // A price that ended while the order waited for its turn is not committed.
    if turn
        .until_ms
        .is_some_and(|until| types::now().timestamp_millis() >= until)
    {
        return Ended::Undo(Outcome::Stopped(price_changed()));
    }
    let done = match run_batch(conn, &turn.batch) {
        Ok(done) => done,
        Err(error) => {
            let error = ApiError::Internal(anyhow::Error::new(error).context("database"));
            return Ended::Undo(Outcome::Stopped(error));
        }
    };
    if !turn.required.iter().all(|s| done.answered(*s)) {
        return Ended::Undo(Outcome::Refused(done));
    }
    match done.row(NUMBERED).and_then(|row| row.first()) {
        Some(Sql::Integer(number)) => Ended::Keep(Outcome::Created(*number)),
        _ => Ended::Undo(Outcome::Stopped(ApiError::Internal(anyhow::anyhow!(
            "the store's next number was not taken"
        )))),
    }
}

/// A checkout refused before its turn or stopped in it: a key already
/// used is answered as before; otherwise the refusal.
async fn unless_used_before(state: &AppState, p: &Placing<'_>, refused: ApiError) -> ApiResult<HttpResponse> {
    let Some(key) = &p.key.0 else { return Err(refused) };
    let reader = state.db.tenant(p.tenant_id, Access::Read).await?;
    match idempotency::stored(&reader, key.clone()).await? {
        Some(existing) => idempotency::answer_again(existing, &p.fingerprint),
        None => Err(refused),
    }
}
