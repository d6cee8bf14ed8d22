//! The outbox dispatcher: deliveries to subscribed installs, effects,
//! retries, the dead letter and its replay.

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{Sse, Studio};

fn statuses(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|d| d["status"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn stream_events_reach_subscribed_installs_and_their_broadcasts_reach_viewers() {
    let s = Studio::open().await;
    let config = json!({"stream.comment": {"broadcasts": [{"kind": "banner", "data": {"text": "thanks!"}}]}});
    let install = s.install("async_effects", "echo", config).await;
    // A plug-in without async hooks gets no deliveries.
    let pricing_only = s.install("config_effects", "pricing", json!({})).await;
    let id = s.live_stream().await;
    let mut viewer = Sse::connect(&s.app.address, &s.feed(&id), None).await;
    s.post(
        &format!("/streams/{id}/comments"),
        json!({"author": "mika", "text": "hi"}),
    )
    .await;
    let banner = viewer.next_of("banner").await;
    assert_eq!(banner.data, json!({"text": "thanks!"}));

    let items = s
        .wait_deliveries(install, |d| {
            d.len() == 2 && statuses(d).iter().all(|s| s == "delivered")
        })
        .await;
    let hooks: Vec<&str> = items.iter().map(|d| d["hook"].as_str().unwrap()).collect();
    assert_eq!(hooks, ["stream.comment", "stream.started"], "newest first");
    assert_eq!(items[0]["attempts"], 1);
    assert!(items[0]["event_id"].is_string());
    assert!(s.deliveries(pricing_only, None).await.is_empty());
    let delivered = s.deliveries(install, Some("delivered")).await;
    assert_eq!(delivered.len(), 2);
    let r = s.get(&format!("/plugins/{install}/deliveries?status=lost")).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_query")
    );
}

#[tokio::test]
async fn a_failing_hook_is_retried_then_dead_and_a_replay_delivers_it() {
    let s = Studio::open().await;
    let install = s
        .install("async_effects", "flaky", json!({"stream.started": "fail"}))
        .await;
    s.live_stream().await;
    let items = s.wait_deliveries(install, |d| statuses(d) == ["dead"]).await;
    assert_eq!(items[0]["attempts"], 3, "max_attempts tries");
    assert!(
        items[0]["last_error"].as_str().unwrap().starts_with("guest_error"),
        "{}",
        items[0]
    );
    assert!(items[0]["next_attempt_at"].is_null());

    // The merchant fixes the configuration and replays the dead delivery.
    let path = s.path(&format!("/plugins/{install}"));
    let r = s.app.patch(&path, &s.t.token, json!({"config": {}})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let delivery = items[0]["id"].as_str().unwrap();
    let r = s
        .post(&format!("/plugins/{install}/deliveries/{delivery}/replay"), json!({}))
        .await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::OK, Some("pending")));
    let items = s.wait_deliveries(install, |d| statuses(d) == ["delivered"]).await;
    assert_eq!(items[0]["attempts"], 1);
    let r = s
        .post(&format!("/plugins/{install}/deliveries/{delivery}/replay"), json!({}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "not_dead"));
}

#[tokio::test]
async fn a_streams_events_are_delivered_in_order() {
    let s = Studio::open().await;
    let config = json!({"stream.comment": {}, "stream.viewers": {}, "order.created": {}});
    let install = s.install("async_effects", "ordered", config).await;
    let id = s.live_stream().await;
    for i in 0..5 {
        s.post(
            &format!("/streams/{id}/comments"),
            json!({"author": "a", "text": format!("{i}")}),
        )
        .await;
        s.post(&format!("/streams/{id}/viewers"), json!({"viewers": i})).await;
    }
    s.order(&id, 1).await;
    let items = s
        .wait_deliveries(install, |d| {
            d.len() == 12 && statuses(d).iter().all(|s| s == "delivered")
        })
        .await;
    // In event order, each was delivered no earlier than the one before it
    // (compared as instants: RFC 3339 text drops trailing zero digits, so
    // it does not sort as text).
    let mut by_event = items;
    by_event.sort_by(|a, b| a["event_id"].as_str().cmp(&b["event_id"].as_str()));
    let delivered: Vec<DateTime<Utc>> = by_event
        .iter()
        .map(|d| d["delivered_at"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        delivered.windows(2).all(|w| w[0] <= w[1]),
        "delivery order follows event order: {delivered:?}"
    );
    assert_eq!(by_event.last().unwrap()["hook"], "order.created");
}

#[tokio::test]
async fn an_order_event_can_release_counter_units() {
    let s = Studio::open().await;
    let install = s.install("async_effects", "promo", promo()).await;
    let id = s.live_stream().await;
    let order = s.order(&id, 1).await;
    assert_eq!(used(&s, install).await, 1);
    pay(&s, &order).await;
    s.wait_deliveries(install, |d| {
        d.iter()
            .any(|d| d["hook"] == "order.paid" && d["status"] == "delivered")
    })
    .await;
    assert_eq!(used(&s, install).await, 0, "released once");
}

/// Two delivery runs at once (a second process, or a replay racing the
/// dispatcher) deliver each delivery once and apply its effects once: on
/// PostgreSQL the second skips the rows the first holds, on SQLite the
/// second finds them settled when it comes to write and drops its results.
#[tokio::test]
async fn two_delivery_runs_at_once_apply_each_delivery_once() {
    let s = Studio::open_with(|settings| settings.events.dispatcher = false).await;
    let install = s.install("async_effects", "promo", promo()).await;
    let id = s.live_stream().await;
    let order = s.order(&id, 1).await;
    s.order(&id, 1).await;
    s.order(&id, 1).await;
    pay(&s, &order).await;
    let state = &s.app.state;
    livemall::events::route::route(state, s.t.tenant_id).await.unwrap();
    let (a, b) = tokio::join!(
        livemall::events::deliver::deliver_due(state, s.t.tenant_id),
        livemall::events::deliver::deliver_due(state, s.t.tenant_id),
    );
    let tried = a.unwrap() + b.unwrap();

    let items = s.deliveries(install, None).await;
    assert!(items.iter().any(|d| d["hook"] == "order.paid"), "{items:?}");
    assert_eq!(statuses(&items), vec!["delivered"; items.len()]);
    assert!(items.iter().all(|d| d["attempts"] == 1), "{items:?}");
    assert_eq!(tried, items.len(), "each delivery tried by one run");
    assert_eq!(
        used(&s, install).await,
        2,
        "three orders claimed one each, the paid one released once"
    );
}

/// A promotion claiming one use per order (at most 5), released when the order is paid.
fn promo() -> Value {
    json!({
        "cart.price": {"claims": [{"key": "promo", "amount": 1, "limit": 5, "message": "used up"}]},
        "order.paid": {"releases": [{"key": "promo", "amount": 1}]},
    })
}

async fn pay(s: &Studio, order: &Value) {
    let r = s
        .post(&format!("/orders/{}/pay", order["id"].as_str().unwrap()), json!({}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

/// The uses the install's counters hold.
async fn used(s: &Studio, install: uuid::Uuid) -> i64 {
    use sea_orm::EntityTrait;
    let txn = s
        .app
        .db
        .tenant(s.t.tenant_id, livemall::db::Access::Read)
        .await
        .unwrap();
    livemall::entities::plugin_counters::Entity::find()
        .all(&*txn)
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.install_id == install)
        .map(|c| c.used)
        .sum()
}

#[tokio::test]
async fn the_dispatcher_finds_each_tenant_with_waiting_events_one_index_step_each() {
    use livemall::entities::outbox_events;
    use livemall::events::dispatcher::tenants_with_new_events;
    use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Set, Statement};
    use uuid::Uuid;

    let app = crate::helpers::spawn_app().await;
    let db = app.db.connection();
    let (waiting, done) = ([Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()], Uuid::now_v7());
    // A topic no dispatcher routes, so that the running one leaves these alone.
    let event = |tenant_id: Uuid, dispatched: bool| outbox_events::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(Uuid::now_v7()),
        topic: Set("test.unrouted".into()),
        aggregate_id: Set(Uuid::now_v7()),
        payload: Set(json!({})),
        created_at: Set(chrono::Utc::now()),
        dispatched_at: Set(dispatched.then(chrono::Utc::now)),
    };
    let mut rows: Vec<_> = waiting
        .iter()
        .flat_map(|t| [event(*t, false), event(*t, false)])
        .collect();
    rows.push(event(done, true));
    outbox_events::Entity::insert_many(rows).exec(db).await.unwrap();

    let statement = tenants_with_new_events(db.get_database_backend());
    let found: Vec<Uuid> = db
        .query_all_raw(statement.clone())
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "tenant_id").unwrap())
        .collect();
    for tenant in waiting {
        assert_eq!(found.iter().filter(|t| **t == tenant).count(), 1, "{found:?}");
    }
    assert!(
        !found.contains(&done),
        "a tenant whose events were all dispatched has no work"
    );

    if db.get_database_backend() == DbBackend::Sqlite {
        let plan = db
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {}", statement.sql),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = plan.iter().map(|row| row.try_get("", "detail").unwrap()).collect();
        // Each step after the first (which stops at its first entry) seeks
        // the next tenant in the index of waiting events.
        assert!(
            plan.iter()
                .any(|l| l.starts_with("SEARCH o USING") && l.contains("INDEX outbox_events_pending (tenant_id>?)")),
            "{plan:#?}"
        );
    }
}
