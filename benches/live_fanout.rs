//! Feed fan-out under load: the real server binary, `FANOUT_VIEWERS`
//! (default 5,000) SSE viewers of one stream on raw TCP connections, then a
//! burst of `FANOUT_EVENTS` (default 100) comments written as fast as one
//! client can. Each comment carries its send time; every viewer records
//! when it read it. Prints the delivery delay from the write to the viewer
//! (p50/p99/max over every viewer and event) and the server's RSS.
//!
//! `cargo bench --bench live_fanout` (SQLite), `LOAD_ENGINE=postgres` for PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "live/server.rs"]
#[allow(dead_code)] // shared with dispatch_load, which reads more of it
mod server;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros() as u64
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// One viewer: connects, waits for its snapshot, then reads `events`
/// comments and returns each one's delay in microseconds.
async fn viewer(port: u16, path: String, events: usize, ready: Arc<Barrier>) -> Vec<u64> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut text = String::new();
    while !text.contains("event: snapshot") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the feed closed");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    text.clear();
    ready.wait().await;
    let mut delays = Vec::with_capacity(events);
    const MARK: &str = "\"text\":\"";
    while delays.len() < events {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "the feed closed");
        let at = now_us();
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
        // Each comment's data carries its send time; consume whole ones only.
        while let Some(start) = text.find(MARK) {
            let rest = &text[start + MARK.len()..];
            let Some(end) = rest.find('"') else { break };
            let sent: u64 = rest[..end].parse().unwrap_or(at);
            delays.push(at.saturating_sub(sent));
            text.drain(..start + MARK.len() + end);
        }
    }
    delays
}

#[tokio::main]
async fn main() {
    let viewers = env_num("FANOUT_VIEWERS", 5_000);
    let events = env_num("FANOUT_EVENTS", 100);
    let dir = tempfile::tempdir().unwrap();
    let url = server::database(dir.path()).await;
    let srv = server::start(&url, dir.path(), &[]).await;
    let stage = server::stage(&srv.address).await;
    let port: u16 = srv.address.rsplit(':').next().unwrap().parse().unwrap();
    let path = format!(
        "/api/v1/storefront/{}/streams/{}/events",
        stage.tenant_slug, stage.stream_id
    );
    let rss_idle = srv.rss_mib();

    let ready = Arc::new(Barrier::new(viewers + 1));
    let connect = Instant::now();
    let tasks: Vec<_> = (0..viewers)
        .map(|_| tokio::spawn(viewer(port, path.clone(), events, Arc::clone(&ready))))
        .collect();
    ready.wait().await;
    let connected = connect.elapsed();
    let rss_connected = srv.rss_mib();

    let client = reqwest::Client::new();
    let comments = format!(
        "{}/api/v1/stores/{}/streams/{}/comments",
        srv.address, stage.store_id, stage.stream_id
    );
    let burst = Instant::now();
    for _ in 0..events {
        let body = json!({"author": "bench", "text": now_us().to_string()});
        let r = client
            .post(&comments)
            .bearer_auth(&stage.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    let written = burst.elapsed();
    let mut peak = srv.rss_mib();
    let mut all = Vec::with_capacity(viewers * events);
    for task in tasks {
        peak = peak.max(srv.rss_mib());
        all.extend(task.await.unwrap().into_iter().map(|us| us as f64 / 1000.0));
    }
    let delivered = burst.elapsed();
    all.sort_by(|a, b| a.total_cmp(b));
    let engine = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!("| engine | viewers | events | connect all | burst written | all delivered | p50 ms | p99 ms | max ms | RSS idle / connected / peak MiB |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {engine} | {viewers} | {events} | {:.1} s | {:.2} s | {:.2} s | {:.1} | {:.1} | {:.1} | {:.0} / {:.0} / {:.0} |",
        connected.as_secs_f64(),
        written.as_secs_f64(),
        delivered.as_secs_f64(),
        server::percentile(&all, 0.50),
        server::percentile(&all, 0.99),
        all.last().copied().unwrap_or(0.0),
        rss_idle,
        rss_connected,
        peak,
    );
    println!("({} deliveries measured; load average {})", all.len(), load_average());
    tokio::time::sleep(Duration::from_millis(10)).await;
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
