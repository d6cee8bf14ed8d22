//! The plug-in catalogue and installs: the core as the request paths use
//! it here, the HTTP side in the files below.

mod breaker;
mod calls;
mod catalogue;
mod config;
mod life;
mod scopes;
mod upgrade;

use livemall::db::Access;
use livemall::marketplace::pipeline::ActiveInstall;
use livemall::marketplace::{installs, pipeline, registry};
use livemall::plugin_host::CallRequest;
use livemall_abi::Hook;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{spawn_app, spawn_with, Tenant, TestApp, PASSWORD};

/// The configuration schema of the hello plug-in (its README's table).
pub fn hello_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "percent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 10},
            "min_quantity": {"type": "integer", "minimum": 1, "default": 3},
            "order_threshold": {"type": "integer", "minimum": 0, "default": 10000},
            "order_discount": {"type": "integer", "minimum": 0, "default": 500}
        },
        "additionalProperties": false
    })
}

pub fn hello_plugin(version: &str) -> registry::NewPlugin {
    registry::NewPlugin {
        slug: "hello".into(),
        name: "Hello".into(),
        description: "quantity and order discounts".into(),
        author: "livemall".into(),
        version: version.into(),
        config_schema: hello_schema(),
        wasm: std::fs::read("examples/hello-plugin/hello_plugin.wasm").unwrap(),
    }
}

/// A plug-in from a WAT guest in tests/guests, with an open schema.
pub fn guest_plugin(slug: &str, guest: &str) -> registry::NewPlugin {
    registry::NewPlugin {
        slug: slug.into(),
        name: slug.into(),
        description: String::new(),
        author: "tests".into(),
        version: "1.0.0".into(),
        config_schema: json!({"type": "object"}),
        wasm: wat::parse_file(format!("tests/guests/{guest}.wat")).unwrap(),
    }
}

/// The WAT discount plug-in: answers every cart.price with no effects (or WAT10).
pub fn discount_plugin(version: &str) -> registry::NewPlugin {
    registry::NewPlugin {
        slug: "discount".into(),
        name: "WAT discount".into(),
        description: "10.00 off with WAT10".into(),
        author: "livemall".into(),
        version: version.into(),
        config_schema: json!({"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z0-9]{3,12}$"}}}),
        wasm: std::fs::read("examples/wat-plugin/discount.wasm").unwrap(),
    }
}

/// A merchant with one store and the hello and discount plug-ins in the catalogue.
pub struct Market {
    pub app: TestApp,
    pub t: Tenant,
    pub store_id: String,
}

impl Market {
    pub async fn open() -> Market {
        Market::with(spawn_app().await).await
    }

    pub async fn with(app: TestApp) -> Market {
        registry::register(&app.state, hello_plugin("1.0.0")).await.unwrap();
        registry::register(&app.state, discount_plugin("1.0.0")).await.unwrap();
        let t = app.signup("ann@example.com", "Ann Shop").await;
        let store = app.create_store(&t.token, "Main", "main").await;
        let store_id = store["id"].as_str().unwrap().to_string();
        Market { app, t, store_id }
    }

    /// `/api/v1/stores/{store}/plugins` followed by `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/stores/{}/plugins{rest}", self.store_id)
    }

    pub fn store_uuid(&self) -> Uuid {
        self.store_id.parse().unwrap()
    }

    /// Installs `slug` through the API and returns the install's view.
    pub async fn install(&self, slug: &str, config: Value) -> Value {
        let r = self
            .app
            .post(&self.path(""), &self.t.token, json!({"plugin": slug, "config": config}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// The store's installs that the pipeline would call for cart.price.
    pub async fn active(&self) -> Vec<ActiveInstall> {
        let txn = self.app.db.tenant(self.t.tenant_id, Access::Read).await.unwrap();
        pipeline::installs_for(&self.app.state, &txn, self.store_uuid(), Hook::CartPrice)
            .await
            .unwrap()
    }

    /// Runs `guest`'s module (any of tests/guests or the discount module)
    /// and records the result on the install, as checkout does.
    pub async fn record(&self, install: &ActiveInstall, wasm: &[u8]) {
        let plugin = self.app.state.host.load(wasm, &Default::default()).unwrap();
        let request = CallRequest::new(Hook::CartPrice, b"{}".to_vec());
        let result = self.app.state.host.call(&plugin, &request, &Default::default());
        pipeline::record_call(&self.app.state, self.t.tenant_id, install, Hook::CartPrice, &result)
            .await
            .unwrap();
    }
}

/// A platform administrator's access token.
pub async fn admin_token(app: &TestApp) -> String {
    livemall::admin::create_admin(&app.db, "root@platform.test", PASSWORD.into())
        .await
        .unwrap();
    let r = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "root@platform.test", "password": PASSWORD}),
        )
        .await;
    r.body["access_token"].as_str().unwrap().to_string()
}

/// An app whose installs keep only `kept` calls, pruned on every call.
pub async fn app_keeping(kept: u32) -> TestApp {
    spawn_with(move |s| {
        s.plugins.calls_kept = kept;
        s.plugins.calls_prune_every = 1;
    })
    .await
}

#[tokio::test]
async fn a_registered_version_is_immutable_and_registering_it_again_is_a_no_op() {
    let app = spawn_app().await;
    let first = registry::register(&app.state, hello_plugin("1.0.0")).await.unwrap();
    let again = registry::register(&app.state, hello_plugin("1.0.0")).await.unwrap();
    assert_eq!(first, again);
    let mut other = hello_plugin("1.0.0");
    other.wasm = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    let err = registry::register(&app.state, other).await.unwrap_err();
    assert!(err.to_string().contains("other bytes"), "{err}");
    let mut bad = hello_plugin("2.0.0");
    bad.wasm = b"not wasm".to_vec();
    assert!(registry::register(&app.state, bad).await.is_err());
}

#[tokio::test]
async fn bundled_modules_with_a_manifest_are_registered_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("examples/hello-plugin/hello_plugin.wasm", dir.path().join("hello.wasm")).unwrap();
    std::fs::write(
        dir.path().join("hello.json"),
        r#"{"name": "Hello", "version": "1.2.3"}"#,
    )
    .unwrap();
    let path = dir.path().to_path_buf();
    let app = crate::helpers::spawn_with(move |s| s.plugins.bundled_dir = path).await;
    let txn = app.db.platform(Access::Read).await.unwrap();
    use sea_orm::EntityTrait;
    let versions = livemall::entities::plugin_versions::Entity::find()
        .all(&txn)
        .await
        .unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, "1.2.3");
    assert_eq!(versions[0].hooks, serde_json::json!(["cart.price"]));
}

#[tokio::test]
async fn installs_run_in_priority_order_and_a_failing_one_is_switched_off() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let store = app.create_store(&t.token, "Main", "main").await;
    let store_id: uuid::Uuid = store["id"].as_str().unwrap().parse().unwrap();
    let hello = registry::register(&app.state, hello_plugin("1.0.0")).await.unwrap();
    let mut trap = hello_plugin("1.0.0");
    trap.slug = "trap".into();
    trap.wasm = wat::parse_file("tests/guests/trap_midway.wat").unwrap();
    let trap = registry::register(&app.state, trap).await.unwrap();

    let txn = app.db.tenant(t.tenant_id, Access::Write).await.unwrap();
    let hello_install = installs::install(&app.state, &txn, store_id, hello.plugin_id, serde_json::json!({}), 20)
        .await
        .unwrap();
    let trap_install = installs::install(&app.state, &txn, store_id, trap.plugin_id, serde_json::json!({}), 10)
        .await
        .unwrap();
    let dup = installs::install(&app.state, &txn, store_id, hello.plugin_id, serde_json::json!({}), 5).await;
    assert_eq!(dup.unwrap_err().code(), "already_installed");
    let active = pipeline::installs_for(&app.state, &txn, store_id, Hook::CartPrice)
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|a| a.install_id).collect::<Vec<_>>(),
        vec![trap_install, hello_install]
    );
    assert!(pipeline::installs_for(&app.state, &txn, store_id, Hook::OrderPaid)
        .await
        .unwrap()
        .is_empty());
    txn.commit().await.unwrap();

    let trap_active = active[0].clone();
    for _ in 0..app.state.settings.plugins.breaker_threshold {
        let request = livemall::plugin_host::CallRequest::new(Hook::CartPrice, b"{}".to_vec());
        let result = app.state.host.call(&trap_active.plugin, &request, &Default::default());
        assert!(result.is_err());
        pipeline::record_call(&app.state, t.tenant_id, &trap_active, Hook::CartPrice, &result)
            .await
            .unwrap();
    }
    app.state.calls.flush().await;
    let txn = app.db.tenant(t.tenant_id, Access::Read).await.unwrap();
    let active = pipeline::installs_for(&app.state, &txn, store_id, Hook::CartPrice)
        .await
        .unwrap();
    assert_eq!(
        active.iter().map(|a| a.install_id).collect::<Vec<_>>(),
        vec![hello_install],
        "the failing install is off"
    );
    use sea_orm::EntityTrait;
    let row = livemall::entities::installs::Entity::find_by_id((t.tenant_id, trap_install))
        .one(&*txn)
        .await
        .unwrap()
        .unwrap();
    assert!(row.breaker_open);
    assert!(row.breaker_reason.unwrap().contains("consecutive failures"));
    let calls = livemall::entities::install_calls::Entity::find()
        .all(&*txn)
        .await
        .unwrap();
    assert_eq!(calls.len() as u32, app.state.settings.plugins.breaker_threshold);
    assert!(
        calls.iter().all(|c| c.outcome == "trap"),
        "{:?}",
        calls.iter().map(|c| &c.outcome).collect::<Vec<_>>()
    );
}
