//! Timers set by plug-ins come back once as `timer.fired`.

use std::time::{Duration, Instant};

use livemall::db::Access;
use livemall::entities::plugin_timers;
use sea_orm::EntityTrait;
use serde_json::json;

use super::{Sse, Studio};

async fn timer_keys(s: &Studio) -> Vec<String> {
    let txn = s.app.db.tenant(s.t.tenant_id, Access::Read).await.unwrap();
    plugin_timers::Entity::find()
        .all(&*txn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.key)
        .collect()
}

#[tokio::test]
async fn a_timer_fires_once_and_its_broadcast_reaches_the_feed() {
    let s = Studio::open().await;
    let id = s.stream().await;
    let config = json!({
        "stream.started": {"timers": [
            {"key": "flash", "at_ms": 0, "payload": {"price": 1499}},
            {"key": "later", "at_ms": 4_000_000_000_000_i64}
        ]},
        "stream.comment": {"cancel_timers": ["later"]},
        "timer.fired": {"broadcasts": [{"stream_id": id, "kind": "countdown", "data": {"left": 10}}]},
    });
    let install = s.install("async_effects", "countdown", config).await;
    let mut viewer = Sse::connect(&s.app.address, &s.feed(&id), None).await;
    s.post(&format!("/streams/{id}/start"), json!({})).await;
    let countdown = viewer.next_of("countdown").await;
    assert_eq!(countdown.data, json!({"left": 10}));

    let fired = |d: &[serde_json::Value]| {
        d.iter()
            .filter(|d| d["hook"] == "timer.fired" && d["status"] == "delivered")
            .count()
    };
    s.wait_deliveries(install, |d| fired(d) == 1).await;
    assert_eq!(timer_keys(&s).await, ["later"]);
    s.post(&format!("/streams/{id}/comments"), json!({"author": "a", "text": "b"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && !timer_keys(&s).await.is_empty() {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(timer_keys(&s).await.is_empty(), "the comment cancelled the later timer");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(fired(&s.deliveries(install, None).await), 1, "fired once");
}
