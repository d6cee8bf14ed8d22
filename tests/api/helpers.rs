//! `spawn_app()` and typed request helpers.

use std::sync::Once;

use livemall::db::Db;
use livemall::settings::{Settings, SigningKey};
use livemall::startup::Application;
use reqwest::{Method, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "correct horse battery staple";
pub const TEST_KEY: &str = "test-signing-key-that-is-long-enough-0123456789";

static TRACING: Once = Once::new();

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

pub fn engine() -> Engine {
    match std::env::var("LIVEMALL_TEST_DB").as_deref() {
        Ok("postgres") | Ok("pg") => Engine::Postgres,
        _ => Engine::Sqlite,
    }
}

fn pg_base() -> String {
    std::env::var("LIVEMALL_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub state: livemall::state::AppState,
    pub engine: Engine,
    _dir: tempfile::TempDir,
}

pub struct Tenant {
    pub tenant_id: Uuid,
    pub tenant_slug: String,
    pub user_id: Uuid,
    pub token: String,
    pub refresh: String,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(|_| {}).await
}

pub async fn spawn_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    TRACING.call_once(|| {
        let mut log = Settings::default().log;
        log.filter = std::env::var("TEST_LOG").unwrap_or_else(|_| "off".into());
        livemall::telemetry::init(&log);
    });
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.data_dir = dir.path().to_path_buf();
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.server.shutdown_timeout = 1;
    settings.database.max_connections = 8;
    settings.demo_data = Some(false);
    // Tests share one plug-in runtime per process; a small pool keeps its address space small.
    settings.plugins.pool_slots = 64;
    settings.plugins.bundled_dir = dir.path().join("bundled");
    settings.auth.signing_keys = vec![SigningKey {
        kid: "test".into(),
        secret: TEST_KEY.into(),
    }];
    let engine = engine();
    configure(&mut settings);
    // A database of its own unless `configure` named one.
    if engine == Engine::Postgres && settings.database.url.is_empty() {
        settings.database.url = pg_database().await;
    }
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let db = app.state().db.clone();
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        state,
        engine,
        _dir: dir,
    }
}

/// A response with its status, headers and JSON body (Null when empty).
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// The problem `code` of an error answer.
    pub fn code(&self) -> &str {
        self.body["code"].as_str().unwrap_or("")
    }

    /// The `items` of a page.
    pub fn items(&self) -> Vec<Value> {
        self.body["items"].as_array().cloned().unwrap_or_default()
    }
}

impl TestApp {
    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.client.request(method, format!("{}{}", self.address, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        into_reply(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.request(Method::GET, path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::POST, path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PATCH, path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.request(Method::DELETE, path, Some(token), None).await
    }
    /// A POST with an `Idempotency-Key`.
    pub async fn post_keyed(&self, path: &str, token: &str, key: &str, body: Value) -> Reply {
        let req = self
            .client
            .post(format!("{}{}", self.address, path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body);
        into_reply(req.send().await.unwrap()).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Reply {
        self.request(Method::PUT, path, Some(token), Some(body)).await
    }
    pub async fn public_post(&self, path: &str, body: Value) -> Reply {
        self.request(Method::POST, path, None, Some(body)).await
    }
    /// A public POST with an `Idempotency-Key`.
    pub async fn public_post_keyed(&self, path: &str, key: &str, body: Value) -> Reply {
        let req = self
            .client
            .post(format!("{}{}", self.address, path))
            .header("Idempotency-Key", key)
            .json(&body);
        into_reply(req.send().await.unwrap()).await
    }
    pub async fn public_get(&self, path: &str) -> Reply {
        self.request(Method::GET, path, None, None).await
    }

    /// Sends raw bytes, for bodies that are not valid JSON.
    pub async fn raw_post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Reply {
        let req = self
            .client
            .post(format!("{}{}", self.address, path))
            .header("content-type", content_type)
            .body(body);
        into_reply(req.send().await.unwrap()).await
    }

    pub async fn signup(&self, email: &str, tenant_name: &str) -> Tenant {
        let r = self
            .public_post(
                "/api/v1/auth/signup",
                json!({"email": email, "password": PASSWORD, "tenant_name": tenant_name}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        Tenant {
            tenant_id: r.body["tenant"]["id"].as_str().unwrap().parse().unwrap(),
            tenant_slug: r.body["tenant"]["slug"].as_str().unwrap().to_string(),
            user_id: r.body["user_id"].as_str().unwrap().parse().unwrap(),
            token: r.body["access_token"].as_str().unwrap().to_string(),
            refresh: r.body["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    pub async fn create_store(&self, token: &str, name: &str, slug: &str) -> Value {
        let r = self
            .post(
                "/api/v1/stores",
                token,
                json!({"name": name, "slug": slug, "currency": "EUR", "time_zone": "Europe/Paris"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

async fn into_reply(resp: reqwest::Response) -> Reply {
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Reply { status, headers, body }
}

/// A URL of a new, empty database of the engine under test: a PostgreSQL
/// database of its own, or a SQLite file in `dir`.
pub async fn fresh_database_url(dir: &std::path::Path) -> String {
    match engine() {
        Engine::Sqlite => format!("sqlite://{}?mode=rwc", dir.join("livemall.db").display()),
        Engine::Postgres => pg_database().await,
    }
}

/// Creates a PostgreSQL database for one test and returns its URL.
async fn pg_database() -> String {
    let name = format!("livemall_test_{}", Uuid::new_v4().simple());
    let admin = Database::connect(pg_base()).await.unwrap();
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    admin.close().await.unwrap();
    let base = pg_base();
    let root = base.rsplit_once('/').map(|(r, _)| r.to_string()).unwrap();
    format!("{root}/{name}")
}
