//! Dispatcher throughput and delay: one plug-in (tests/guests/async_effects.wat)
//! subscribed to `stream.comment` in one store.
//!
//! 1. Throughput: `DISPATCH_EVENTS` (default 2,000) comments are written
//!    while no dispatcher runs; then a server with a dispatcher starts and
//!    the time until every delivery is delivered gives deliveries/s
//!    (routing and the hook call included).
//! 2. Delay: on that server, `DISPATCH_PACED` (default 500) comments at
//!    about 100/s; the delay from the event's commit to its delivery
//!    (`delivered_at - created_at`), p50/p99.
//!
//! `cargo bench --bench dispatch_load` (SQLite), `LOAD_ENGINE=postgres` for PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "live/server.rs"]
#[allow(dead_code)] // shared with live_fanout, which starts the binary
mod server;

use std::time::{Duration, Instant};

use livemall::db::Access;
use livemall::entities::{event_deliveries, outbox_events};
use livemall::marketplace::{installs, registry};
use livemall::settings::Settings;
use livemall::startup::Application;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn app(url: &str, dir: &std::path::Path, dispatcher: bool) -> Application {
    let mut s = Settings::default();
    s.database.url = url.to_string();
    // One data dir: both apps sign and verify with the key kept there.
    s.data_dir = dir.join("data");
    s.server.port = 0;
    s.demo_data = Some(false);
    s.plugins.bundled_dir = dir.join("none");
    s.plugins.pool_slots = 64;
    s.events.dispatcher = dispatcher;
    s.log.filter = "warn".into();
    Application::build(s).await.unwrap()
}

async fn delivered(app: &Application, tenant: Uuid) -> u64 {
    let txn = app.state().db.tenant(tenant, Access::Read).await.unwrap();
    event_deliveries::Entity::find()
        .filter(event_deliveries::Column::Status.eq("delivered"))
        .count(&*txn)
        .await
        .unwrap()
}

async fn comment(c: &reqwest::Client, base: &str, stage: &server::Stage, i: usize) {
    let url = format!(
        "{base}/api/v1/stores/{}/streams/{}/comments",
        stage.store_id, stage.stream_id
    );
    let body = json!({"author": "bench", "text": format!("{i}")});
    let r = c.post(url).bearer_auth(&stage.token).json(&body).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

#[tokio::main]
async fn main() {
    let burst = env_num("DISPATCH_EVENTS", 2_000);
    let paced = env_num("DISPATCH_PACED", 500);
    let dir = tempfile::tempdir().unwrap();
    let url = server::database(dir.path()).await;

    let writer = app(&url, dir.path(), false).await;
    let base = format!("http://127.0.0.1:{}", writer.port());
    let state = writer.state().clone();
    let writer_port = writer.port();
    tokio::spawn(writer.run_until_stopped());
    let stage = server::stage(&format!("http://127.0.0.1:{writer_port}")).await;
    let tenant = stage.tenant_id;
    let wasm = wat::parse_file(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/guests/async_effects.wat")).unwrap();
    let plugin = registry::NewPlugin {
        slug: "bench".into(),
        name: "bench".into(),
        description: String::new(),
        author: "bench".into(),
        version: "1.0.0".into(),
        config_schema: json!({"type": "object"}),
        wasm,
    };
    let registered = registry::register(&state, plugin).await.unwrap();
    let txn = state.db.tenant(tenant, Access::Write).await.unwrap();
    let store = stage.store_id.parse().unwrap();
    installs::install(
        &state,
        &txn,
        store,
        registered.plugin_id,
        json!({"stream.comment": {}}),
        0,
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();

    let c = reqwest::Client::new();
    for i in 0..burst {
        comment(&c, &base, &stage, i).await;
    }
    let dispatcher = app(&url, dir.path(), true).await;
    let started = Instant::now();
    while delivered(&dispatcher, tenant).await < burst as u64 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = burst as f64 / elapsed;

    let dbase = format!("http://127.0.0.1:{}", dispatcher.port());
    let before = delivered(&dispatcher, tenant).await;
    let dstate = dispatcher.state().clone();
    tokio::spawn(dispatcher.run_until_stopped());
    let since = chrono::Utc::now();
    for i in 0..paced {
        comment(&c, &dbase, &stage, i).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut delays = Vec::new();
    for _ in 0..1000 {
        // A fresh transaction each time: one read transaction keeps its snapshot.
        let txn = dstate.db.tenant(tenant, Access::Read).await.unwrap();
        let rows = event_deliveries::Entity::find()
            .filter(event_deliveries::Column::CreatedAt.gte(since))
            .filter(event_deliveries::Column::Status.eq("delivered"))
            .all(&*txn)
            .await
            .unwrap();
        if rows.len() >= paced {
            for d in rows {
                let e = outbox_events::Entity::find_by_id((tenant, d.event_id))
                    .one(&*txn)
                    .await
                    .unwrap()
                    .unwrap();
                let ms = (d.delivered_at.unwrap() - e.created_at).num_microseconds().unwrap() as f64 / 1000.0;
                delays.push(ms);
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(before >= burst as u64);
    delays.sort_by(|a, b| a.total_cmp(b));
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("| engine | backlog | deliveries/s | paced events | delay p50 ms | delay p99 ms | max ms |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {engine} | {burst} | {rate:.0} | {} | {:.1} | {:.1} | {:.1} |",
        delays.len(),
        server::percentile(&delays, 0.5),
        server::percentile(&delays, 0.99),
        delays.last().copied().unwrap_or(0.0)
    );
}
