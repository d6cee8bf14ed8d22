//! The plug-in catalogue and installs as the request paths use them.

use livemall::db::Access;
use livemall::marketplace::{installs, pipeline, registry};
use livemall_abi::Hook;

use crate::helpers::spawn_app;

pub fn hello_plugin(version: &str) -> registry::NewPlugin {
    registry::NewPlugin {
        slug: "hello".into(),
        name: "Hello".into(),
        description: "quantity and order discounts".into(),
        author: "livemall".into(),
        version: version.into(),
        config_schema: serde_json::json!({"type": "object"}),
        wasm: std::fs::read("examples/hello-plugin/hello_plugin.wasm").unwrap(),
    }
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
