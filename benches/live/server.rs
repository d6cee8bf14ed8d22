//! The real `livemall` binary as a child process, on a fresh database, and
//! a merchant with a live stream set up over HTTP.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Resident set size of the server process, in MiB.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }
}

/// A database URL: a new PostgreSQL database with `LOAD_ENGINE=postgres`, else a SQLite file in `dir`.
pub async fn database(dir: &Path) -> String {
    if matches!(std::env::var("LOAD_ENGINE").as_deref(), Ok("postgres") | Ok("pg")) {
        use sea_orm::{ConnectionTrait, Database};
        let name = format!("livemall_bench_{}", uuid::Uuid::new_v4().simple());
        let admin = Database::connect("postgres://postgres@127.0.0.1:5432/postgres")
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        format!("postgres://postgres@127.0.0.1:5432/{name}")
    } else {
        format!("sqlite://{}?mode=rwc", dir.join("bench.db").display())
    }
}

pub async fn start(url: &str, dir: &Path, extra: &[(&str, String)]) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livemall"));
    cmd.arg("serve")
        .env("DATABASE_URL", url)
        .env("LIVEMALL_SERVER__PORT", port.to_string())
        .env("LIVEMALL_DATA_DIR", dir.join("data"))
        .env("LIVEMALL_DEMO_DATA", "false")
        .env("LIVEMALL_PLUGINS__BUNDLED_DIR", dir.join("none"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let server = Server {
        child: cmd.spawn().unwrap(),
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if let Ok(r) = client.get(format!("{}/health/ready", server.address)).send().await {
            if r.status().is_success() {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not become ready");
}

/// A merchant's token, tenant slug, store id and a live stream's id.
pub struct Stage {
    pub token: String,
    pub tenant_id: uuid::Uuid,
    pub tenant_slug: String,
    pub store_id: String,
    pub stream_id: String,
}

pub async fn stage(address: &str) -> Stage {
    let c = reqwest::Client::new();
    let api = format!("{address}/api/v1");
    let post = |path: String, token: Option<String>, body: Value| {
        let mut r = c.post(format!("{api}{path}")).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move { r.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let signup = json!({"email": "bench@example.com", "password": "correct horse battery", "tenant_name": "Bench"});
    let t = post("/auth/signup".into(), None, signup).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    let store = json!({"name": "Main", "slug": "main", "currency": "EUR", "time_zone": "UTC"});
    let store = post("/stores".into(), Some(token.clone()), store).await;
    let store_id = store["id"].as_str().unwrap().to_string();
    let stream = json!({"title": "Bench live", "scheduled_at": "2026-11-27T18:00:00Z"});
    let stream = post(format!("/stores/{store_id}/streams"), Some(token.clone()), stream).await;
    let stream_id = stream["id"].as_str().unwrap().to_string();
    post(
        format!("/stores/{store_id}/streams/{stream_id}/start"),
        Some(token.clone()),
        json!({}),
    )
    .await;
    Stage {
        token,
        tenant_id: t["tenant"]["id"].as_str().unwrap().parse().unwrap(),
        tenant_slug: t["tenant"]["slug"].as_str().unwrap().to_string(),
        store_id,
        stream_id,
    }
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}
