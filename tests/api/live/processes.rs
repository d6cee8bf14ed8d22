//! Real server processes (the `livemall` binary) on one database: events
//! written through one reach viewers of another, a timer fires once, and a
//! process killed with SIGKILL loses nothing and applies no effect twice.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use livemall::db::Access;
use livemall::entities::{event_deliveries, stream_feed};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use super::{quick, Sse, Studio};
use crate::helpers::{fresh_database_url, spawn_with, TEST_KEY};

/// A `livemall serve` process; killed (SIGKILL) when dropped.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(url: &str, dir: &Path, extra: &[(&str, &str)]) -> Server {
    let config = dir.join("livemall.toml");
    std::fs::write(
        &config,
        format!("[[auth.signing_keys]]\nkid = \"test\"\nsecret = \"{TEST_KEY}\"\n"),
    )
    .unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livemall"));
    cmd.arg("serve")
        .env("LIVEMALL_CONFIG", &config)
        .env("DATABASE_URL", url)
        .env("LIVEMALL_SERVER__PORT", port.to_string())
        .env("LIVEMALL_SERVER__WORKERS", "2")
        .env("LIVEMALL_DATA_DIR", dir.join(format!("data-{port}")))
        .env("LIVEMALL_DEMO_DATA", "false")
        .env("LIVEMALL_DATABASE__MAX_CONNECTIONS", "8")
        .env("LIVEMALL_PLUGINS__POOL_SLOTS", "16")
        .env("LIVEMALL_PLUGINS__BUNDLED_DIR", dir.join("none"))
        .env("LIVEMALL_EVENTS__POLL_MS", "25")
        .env("LIVEMALL_EVENTS__BACKOFF_MS", "20")
        .env("LIVEMALL_LIVE__FEED_POLL_MS", "25")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().unwrap(),
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let ready = client.get(format!("{}/health/ready", server.address)).send().await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

/// A merchant set up through an in-process app on `url` that dispatches nothing.
async fn setup(url: &str) -> Studio {
    let url = url.to_string();
    let app = spawn_with(move |s| {
        quick(s);
        s.database.url = url;
        s.events.dispatcher = false;
    })
    .await;
    Studio::on(app).await
}

async fn feed_count(s: &Studio, stream_id: &str, kind: &str) -> usize {
    let txn = s.app.db.tenant(s.t.tenant_id, Access::Read).await.unwrap();
    stream_feed::Entity::find()
        .filter(stream_feed::Column::StreamId.eq(stream_id.parse::<uuid::Uuid>().unwrap()))
        .filter(stream_feed::Column::Kind.eq(kind))
        .all(&*txn)
        .await
        .unwrap()
        .len()
}

async fn all_deliveries(s: &Studio) -> Vec<event_deliveries::Model> {
    let txn = s.app.db.tenant(s.t.tenant_id, Access::Read).await.unwrap();
    event_deliveries::Entity::find().all(&*txn).await.unwrap()
}

async fn wait_all_delivered(s: &Studio, n: usize) -> Vec<event_deliveries::Model> {
    for _ in 0..600 {
        let all = all_deliveries(s).await;
        if all.len() == n && all.iter().all(|d| d.status == "delivered") {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not all delivered: {:?}", all_deliveries(s).await);
}

#[tokio::test]
async fn events_written_through_one_process_reach_a_viewer_of_another() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let s = setup(&url).await;
    let a = serve(&url, dir.path(), &[]).await;
    let b = serve(&url, dir.path(), &[]).await;
    let config = json!({"stream.comment": {"broadcasts": [{"kind": "ack"}]}});
    s.install("async_effects", "ack", config).await;
    let id = s.live_stream().await;

    let mut viewer = Sse::connect(&b.address, &s.feed(&id), None).await;
    assert_eq!(viewer.next().await.event, "snapshot");
    let path = s.path(&format!("/streams/{id}/comments"));
    for i in 0..20 {
        let body = json!({"author": "a", "text": format!("{i}")});
        let r = s
            .app
            .client
            .post(format!("{}{path}", a.address))
            .bearer_auth(&s.t.token)
            .json(&body)
            .send()
            .await;
        assert_eq!(r.unwrap().status(), reqwest::StatusCode::CREATED);
    }
    let mut texts = Vec::new();
    let mut acks = 0;
    while texts.len() < 20 || acks < 20 {
        let e = viewer.next().await;
        match e.event.as_str() {
            "comment" => texts.push(e.data["text"].as_str().unwrap().to_string()),
            "ack" => acks += 1,
            _ => {}
        }
    }
    let expected: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(texts, expected);
    // Both processes dispatch; each event (20 comments and the start) was handled once.
    let all = wait_all_delivered(&s, 21).await;
    assert!(all.iter().all(|d| d.attempts == 1));
    assert_eq!(feed_count(&s, &id, "ack").await, 20);
}

#[tokio::test]
async fn a_timer_set_through_one_process_fires_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let s = setup(&url).await;
    let id = s.stream().await;
    let config = json!({
        "stream.started": {"timers": [{"key": "flash", "at_ms": 0}]},
        "timer.fired": {"broadcasts": [{"stream_id": id, "kind": "countdown"}]},
    });
    s.install("async_effects", "countdown", config).await;
    let a = serve(&url, dir.path(), &[]).await;
    let _b = serve(&url, dir.path(), &[]).await;
    let path = s.path(&format!("/streams/{id}/start"));
    let r = s
        .app
        .client
        .post(format!("{}{path}", a.address))
        .bearer_auth(&s.t.token)
        .send()
        .await;
    assert_eq!(r.unwrap().status(), reqwest::StatusCode::OK);
    let all = wait_all_delivered(&s, 2).await;
    let hooks: Vec<&str> = all.iter().map(|d| d.hook.as_str()).collect();
    assert!(
        hooks.contains(&"timer.fired") && hooks.contains(&"stream.started"),
        "{hooks:?}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(all_deliveries(&s).await.len(), 2);
    assert_eq!(feed_count(&s, &id, "countdown").await, 1);
}

#[tokio::test]
async fn a_process_killed_with_events_pending_loses_none_and_applies_no_effect_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database_url(dir.path()).await;
    let s = setup(&url).await;
    let config = json!({"stream.comment": {"broadcasts": [{"kind": "ack"}]}});
    s.install("async_effects", "ack", config).await;
    let id = s.live_stream().await;
    const N: usize = 150;
    for i in 0..N {
        s.post(
            &format!("/streams/{id}/comments"),
            json!({"author": "a", "text": format!("{i}")}),
        )
        .await;
    }
    // Small batches, so the kill lands while most events are still pending.
    let a = serve(&url, dir.path(), &[("LIVEMALL_EVENTS__BATCH", "4")]).await;
    for _ in 0..400 {
        if all_deliveries(&s).await.iter().any(|d| d.status == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(a); // SIGKILL
    let before = all_deliveries(&s).await;
    let pending = before.iter().filter(|d| d.status != "delivered").count() + (N + 1 - before.len());
    assert!(pending > 0, "the kill came after everything was delivered");

    let _b = serve(&url, dir.path(), &[]).await;
    let all = wait_all_delivered(&s, N + 1).await;
    assert_eq!(all.iter().filter(|d| d.hook == "stream.comment").count(), N);
    assert_eq!(feed_count(&s, &id, "ack").await, N, "one broadcast per event");
}
