//! Placing an order on SQLite: the same transaction as on PostgreSQL, sent
//! in four round trips instead of one per statement (see
//! [`crate::db::batch`]). SQLite has one writer at a time, and the writer's
//! lock is held from the first round trip to the last, so what the order
//! depends on can be read once and the rest written blind:
//!
//! 1. `BEGIN IMMEDIATE` takes the writer's lock.
//! 2. One read: the store's last order number, the tenant's account, and
//!    the idempotency key. A key already used answers again; no other
//!    writer can use it, or take the next number, until this commit.
//! 3. One batch: the key with its answer, the outbox event, a conditional
//!    UPDATE per line's stock and a conditional upsert per plug-in claim,
//!    the usage record and its counter, the order number, the order, its
//!    lines, adjustments and claims. Each conditional statement answers its
//!    step when it took what it asked for; one that did not refuses the
//!    order, and the rollback undoes everything the batch wrote.
//! 4. `COMMIT`.
//!
//! The transaction runs on the writer's thread ([`crate::db::Db::on_writer`]),
//! so it waits for nothing but the database while it holds the lock.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use livemall_abi::OrderEvent;
use sea_orm::{DbBackend, EntityTrait, FromQueryResult, QueryTrait};
use uuid::Uuid;

use super::{
    claims_in_order, claims_to_take, lines_in_order, orders_used_up, placed_at, refusal, refuse_rejected, step, taken,
    Placing, CLAIM, NUMBERED, STOCK, USAGE,
};
use crate::billing::{account, usage};
use crate::catalog::stock;
use crate::db::batch::{returning_step, Batch};
use crate::db::{Access, Db};
use crate::entities::{idempotency_keys, outbox_events, stores};
use crate::error::{ApiError, ApiResult};
use crate::events::outbox;
use crate::http::idempotency;
use crate::orders::counters;
use crate::orders::customers::Shopper;
use crate::orders::pricing::Priced;
use crate::orders::record::{self, NewOrder};
use crate::state::AppState;

// Steps of the read.
const NUMBER: i64 = 1;
const ACCOUNT: i64 = 2;
const KEY: i64 = 3;
/// [`Placing`] with everything owned, to move to the writer's thread.
struct Owned {
    tenant_id: Uuid,
    store: stores::Model,
    shopper: Shopper,
    stream_id: Option<Uuid>,
    priced: Priced,
    key: Option<String>,
    fingerprint: String,
}

/// What the transaction answers.
enum Outcome {
    /// The order's view, as JSON.
    Created(String),
    /// The key was used before: its row.
    Seen(idempotency_keys::Model),
}

pub(super) async fn place(state: &AppState, p: Placing<'_>) -> ApiResult<HttpResponse> {
    // Only a reader's: the order is written on the writer's connection.
    drop(p.txn);
    let fingerprint = p.fingerprint.clone();
    let owned = Owned {
        tenant_id: p.tenant_id,
        store: p.store.clone(),
        shopper: p.shopper,
        stream_id: p.stream_id,
        priced: p.priced,
        key: p.key.0.clone(),
        fingerprint: p.fingerprint,
    };
    let db = state.db.clone();
    match state.db.on_writer(async move { write(&db, owned).await }).await?? {
        Outcome::Created(json) => Ok(idempotency::respond(StatusCode::CREATED, json)),
        Outcome::Seen(existing) => idempotency::answer_again(existing, &fingerprint),
    }
}

async fn write(db: &Db, p: Owned) -> ApiResult<Outcome> {
    let tenant_id = p.tenant_id;
    let txn = db.tenant(tenant_id, Access::Write).await?;

    let mut reads = Batch::new();
    reads.push_sql(
        &format!("SELECT {NUMBER}, last FROM order_numbers WHERE tenant_id = ? AND store_id = ?"),
        [tenant_id.into(), p.store.id.into()],
    );
    reads.push_sql(&account::select_with_step(ACCOUNT), [tenant_id.into()]);
    if let Some(key) = &p.key {
        reads.push_sql(
            &format!("SELECT {KEY}, * FROM idempotency_keys WHERE tenant_id = ? AND key = ?"),
            [tenant_id.into(), key.clone().into()],
        );
    }
    let read = reads.run(&*txn).await?;
    if let Some(row) = read.row(KEY) {
        return Ok(Outcome::Seen(idempotency_keys::Model::from_query_result(row, "")?));
    }
    refuse_rejected(&p.priced)?;
    let account = read.row(ACCOUNT).map(account::from_row).transpose()?;
    if let Some(account) = &account {
        account.may_spend()?;
    }
    let last: i64 = match read.row(NUMBER) {
        Some(row) => row.try_get_by_index(1)?,
        None => 0,
    };

    let mut built = record::build(
        tenant_id,
        NewOrder {
            store: &p.store,
            shopper: &p.shopper,
            stream_id: p.stream_id,
            priced: &p.priced,
        },
    )?;
    built.place_at(placed_at(&p.priced)?);
    let mut loaded = built.loaded;
    loaded.order.number = last + 1;
    let (order_id, at) = (loaded.order.id, loaded.order.created_at);
    let json = serde_json::to_string(&loaded.view()).map_err(anyhow::Error::from)?;

    let mut batch = Batch::new();
    if let Some(key) = &p.key {
        let answered = idempotency::answered(tenant_id, key, p.fingerprint, StatusCode::CREATED, json.clone());
        batch.push_statement(idempotency_keys::Entity::insert(answered).build(DbBackend::Sqlite));
    }
    let event = OrderEvent { order: loaded.to_abi() };
    let event = outbox::event(tenant_id, Uuid::now_v7(), "order.created", order_id, &event)?;
    batch.push_statement(outbox_events::Entity::insert(event).build(DbBackend::Sqlite));
    let lines = lines_in_order(&p.priced)?;
    for (i, (variant_id, line)) in lines.iter().enumerate() {
        let mut update = stock::delta_update(tenant_id, *variant_id, -i64::from(line.quantity)).into_query();
        update.returning(returning_step(step(STOCK, i)));
        batch.push(&update);
    }
    let claims = claims_in_order(&p.priced, &p.shopper.key);
    let merged = claims_to_take(&claims)?;
    for (j, m) in merged.iter().enumerate() {
        let (claim, values) = counters::claim_sql(tenant_id, m);
        batch.push_sql(&format!("{claim} RETURNING {}", step(CLAIM, j)), values);
    }
    if let Some(account) = &account {
        if !usage::record_order_in(&mut batch, tenant_id, account, order_id, at, USAGE) {
            return Err(orders_used_up(&txn, account).await);
        }
    }
    record::insert_in(&mut batch, &loaded, claims.iter().map(taken).collect(), NUMBERED);

    let done = batch.run(&*txn).await?;
    if let Some(refused) = refusal(&txn, &done, &lines, &merged, account.as_ref()).await? {
        return Err(refused);
    }
    if !done.answered(NUMBERED) {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the store's order number moved while the writer's lock was held"
        )));
    }
    txn.commit().await?;
    Ok(Outcome::Created(json))
}
