//! Live streams, the live feed and the event pipeline: the stream's life
//! through the API with a real SSE client, deliveries to plug-ins, timers,
//! and several real server processes on one database.

mod bad_input;
mod feed;
mod life;
mod pipeline;
mod processes;
mod timers;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use livemall::db::Access;
use livemall::marketplace::{installs, registry};
use livemall::settings::Settings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::catalog::product;
use crate::helpers::{spawn_with, Reply, Tenant, TestApp};

/// Fast pipeline settings, so retries and timers happen within a test.
pub fn quick(s: &mut Settings) {
    s.events.poll_ms = 25;
    s.events.backoff_ms = 20;
    s.events.max_attempts = 3;
    s.live.feed_poll_ms = 25;
}

/// A merchant with one store selling a lamp and a bulb.
pub struct Studio {
    pub app: TestApp,
    pub t: Tenant,
    pub store_id: String,
    pub lamp: String,
    pub lamp_variant: String,
    pub bulb: String,
}

impl Studio {
    pub async fn open() -> Studio {
        Studio::open_with(|_| {}).await
    }

    pub async fn open_with(configure: impl FnOnce(&mut Settings)) -> Studio {
        let app = spawn_with(|s| {
            quick(s);
            configure(s);
        })
        .await;
        Studio::on(app).await
    }

    /// Signs a merchant up on `app` and stocks a store.
    pub async fn on(app: TestApp) -> Studio {
        let t = app.signup("live@example.com", "Live Shop").await;
        let store = app.create_store(&t.token, "Main", "main").await;
        let store_id = store["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/stores/{store_id}/products");
        let lamp = app.post(&path, &t.token, product("Lamp", &[("LAMP", 4900, 10)])).await;
        let bulb = app.post(&path, &t.token, product("Bulb", &[("BULB", 500, 100)])).await;
        assert_eq!(lamp.status, StatusCode::CREATED, "{}", lamp.body);
        Studio {
            lamp: lamp.body["id"].as_str().unwrap().to_string(),
            lamp_variant: lamp.body["variants"][0]["id"].as_str().unwrap().to_string(),
            bulb: bulb.body["id"].as_str().unwrap().to_string(),
            app,
            t,
            store_id,
        }
    }

    /// `/api/v1/stores/{store}` followed by `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/stores/{}{rest}", self.store_id)
    }

    /// The public feed of a stream.
    pub fn feed(&self, stream_id: &str) -> String {
        format!("/api/v1/storefront/{}/streams/{stream_id}/events", self.t.tenant_slug)
    }

    pub async fn post(&self, rest: &str, body: Value) -> Reply {
        self.app.post(&self.path(rest), &self.t.token, body).await
    }

    pub async fn get(&self, rest: &str) -> Reply {
        self.app.get(&self.path(rest), &self.t.token).await
    }

    /// A scheduled stream's id.
    pub async fn stream(&self) -> String {
        let r = self
            .post(
                "/streams",
                json!({"title": "Friday live", "scheduled_at": "2026-11-27T18:00:00Z"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body["id"].as_str().unwrap().to_string()
    }

    /// A stream that is live.
    pub async fn live_stream(&self) -> String {
        let id = self.stream().await;
        let r = self.post(&format!("/streams/{id}/start"), json!({})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        id
    }

    /// Registers `tests/guests/{guest}.wat` as `slug` and installs it with `config`.
    pub async fn install(&self, guest: &str, slug: &str, config: Value) -> Uuid {
        let plugin = crate::marketplace::guest_plugin(slug, guest);
        let registered = registry::register(&self.app.state, plugin).await.unwrap();
        let txn = self.app.db.tenant(self.t.tenant_id, Access::Write).await.unwrap();
        let store_id = self.store_id.parse().unwrap();
        let id = installs::install(&self.app.state, &txn, store_id, registered.plugin_id, config, 0)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        id
    }

    /// The install's deliveries (newest first), optionally of one status.
    pub async fn deliveries(&self, install: Uuid, status: Option<&str>) -> Vec<Value> {
        let filter = status.map(|s| format!("?status={s}")).unwrap_or_default();
        let r = self.get(&format!("/plugins/{install}/deliveries{filter}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        r.items()
    }

    /// Waits until `check` holds for the install's deliveries (30 s at
    /// most: the whole suite shares two cores with this dispatcher).
    pub async fn wait_deliveries(&self, install: Uuid, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let items = self.deliveries(install, None).await;
            if check(&items) {
                return items;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("deliveries never matched: {:?}", self.deliveries(install, None).await);
    }

    /// A guest order from the stream.
    pub async fn order(&self, stream_id: &str, quantity: i64) -> Value {
        let path = format!("/api/v1/storefront/{}/main/orders", self.t.tenant_slug);
        let body = json!({"email": "sam@example.com", "stream_id": stream_id,
            "lines": [{"variant_id": self.lamp_variant, "quantity": quantity}]});
        let r = self
            .app
            .public_post_keyed(&path, &Uuid::new_v4().to_string(), body)
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: Option<i64>,
    pub event: String,
    pub data: Value,
}

/// A real SSE client: reads the response body as it arrives.
pub struct Sse {
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<actix_web::web::Bytes>> + Send>>,
    buffer: String,
}

impl Sse {
    pub async fn connect(address: &str, path: &str, last_event_id: Option<i64>) -> Sse {
        let mut req = reqwest::Client::new().get(format!("{address}{path}"));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "text/event-stream");
        Sse {
            body: Box::pin(resp.bytes_stream()),
            buffer: String::new(),
        }
    }

    /// The next event (comments and `retry` lines skipped), within 20 s.
    pub async fn next(&mut self) -> Event {
        tokio::time::timeout(Duration::from_secs(20), self.read())
            .await
            .expect("no event within 20 s")
    }

    /// The next event of kind `kind`, skipping others.
    pub async fn next_of(&mut self, kind: &str) -> Event {
        loop {
            let e = self.next().await;
            if e.event == kind {
                return e;
            }
        }
    }

    /// The next event of kind `kind` within `wait`, skipping others.
    pub async fn next_of_within(&mut self, kind: &str, wait: Duration) -> Event {
        self.next_of_within_any(&[kind], wait).await
    }

    /// The next event of one of `kinds` within `wait`, skipping others.
    pub async fn next_of_within_any(&mut self, kinds: &[&str], wait: Duration) -> Event {
        tokio::time::timeout(wait, async {
            loop {
                let e = self.read().await;
                if kinds.contains(&e.event.as_str()) {
                    return e;
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no {kinds:?} event within {wait:?}"))
    }

    async fn read(&mut self) -> Event {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = Event {
                    id: None,
                    event: String::new(),
                    data: Value::Null,
                };
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        event.id = v.parse().ok();
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        event.data = serde_json::from_str(v).unwrap();
                    }
                }
                if !event.event.is_empty() {
                    return event;
                }
            }
            let chunk = self.body.next().await.expect("the feed ended").unwrap();
            self.buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}
