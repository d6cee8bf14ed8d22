//! Upgrading an install to its plug-in's newest version, with the
//! configuration checked against the new version's schema.

use livemall::marketplace::registry;
use reqwest::StatusCode;
use serde_json::json;

use super::{hello_plugin, Market};

/// Version 2 of hello: a smaller maximum and a new field with a default.
fn hello_v2() -> registry::NewPlugin {
    let mut v2 = hello_plugin("2.0.0");
    v2.wasm = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    v2.config_schema = json!({
        "type": "object",
        "properties": {
            "percent": {"type": "integer", "minimum": 0, "maximum": 50, "default": 10},
            "label": {"type": "string", "minLength": 1, "default": "Sale"}
        },
        "additionalProperties": false
    });
    v2
}

#[tokio::test]
async fn an_install_moves_to_the_newest_version_when_its_config_fits() {
    let m = Market::open().await;
    let install = m.install("hello", json!({"percent": 80})).await;
    let path = m.path(&format!("/{}", install["id"].as_str().unwrap()));
    let v2 = registry::register(&m.app.state, hello_v2()).await.unwrap();

    let before = m.app.get(&path, &m.t.token).await.body;
    assert_eq!(before["version"], "1.0.0");
    assert_eq!(before["latest_version"], "2.0.0", "the upgrade is announced");

    let refused = m.app.post(&format!("{path}/upgrade"), &m.t.token, json!({})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert_eq!(refused.code(), "invalid_config");
    assert_eq!(
        refused.body["errors"],
        json!({
            "config.percent": ["must be at most 50"],
            "config.min_quantity": ["is not a known field"],
            "config.order_threshold": ["is not a known field"],
            "config.order_discount": ["is not a known field"]
        })
    );
    assert_eq!(m.app.get(&path, &m.t.token).await.body, before, "nothing changed");

    let upgraded = m
        .app
        .post(
            &format!("{path}/upgrade"),
            &m.t.token,
            json!({"config": {"percent": 40}}),
        )
        .await;
    assert_eq!(upgraded.status, StatusCode::OK, "{}", upgraded.body);
    assert_eq!(upgraded.body["version"], "2.0.0");
    assert_eq!(upgraded.body["version_id"], v2.version_id.to_string());
    assert_eq!(upgraded.body["config"], json!({"percent": 40, "label": "Sale"}));
    let active = m.active().await;
    assert_eq!(active[0].version, "2.0.0");
    assert_eq!(active[0].version_id, v2.version_id);

    // Already on the newest version, without a body: answered as is.
    let again = m
        .app
        .request(
            reqwest::Method::POST,
            &format!("{path}/upgrade"),
            Some(&m.t.token),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["updated_at"], upgraded.body["updated_at"]);
}

#[tokio::test]
async fn an_upgrade_body_that_cannot_be_read_is_refused() {
    let m = Market::open().await;
    let install = m.install("hello", json!({})).await;
    let path = m.path(&format!("/{}/upgrade", install["id"].as_str().unwrap()));
    let req = m
        .app
        .client
        .post(format!("{}{path}", m.app.address))
        .bearer_auth(&m.t.token)
        .header("content-type", "application/json")
        .body("{nope");
    assert_eq!(req.send().await.unwrap().status(), StatusCode::BAD_REQUEST);
    let unknown = m.app.post(&path, &m.t.token, json!({"colour": "red"})).await;
    assert_eq!(unknown.code(), "invalid_body");
}
