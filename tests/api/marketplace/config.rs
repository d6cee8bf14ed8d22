//! Configurations are checked against the plug-in version's schema: each
//! bad field gets its own message, and a refused change changes nothing.

use reqwest::StatusCode;
use serde_json::json;

use super::Market;

#[tokio::test]
async fn a_bad_config_gets_a_message_per_field_and_installs_nothing() {
    let m = Market::open().await;
    let r = m
        .app
        .post(
            &m.path(""),
            &m.t.token,
            json!({"plugin": "hello", "config": {"percent": 150, "min_quantity": 0, "order_discount": "5", "colour": "red"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "invalid_config");
    assert_eq!(
        r.body["errors"],
        json!({
            "config.colour": ["is not a known field"],
            "config.min_quantity": ["must be at least 1"],
            "config.order_discount": ["must be an integer"],
            "config.percent": ["must be at most 100"]
        })
    );
    let not_object = m
        .app
        .post(&m.path(""), &m.t.token, json!({"plugin": "hello", "config": [1]}))
        .await;
    assert_eq!(not_object.body["errors"], json!({"config": ["must be an object"]}));
    let pattern = m
        .app
        .post(
            &m.path(""),
            &m.t.token,
            json!({"plugin": "discount", "config": {"code": "spring"}}),
        )
        .await;
    assert_eq!(
        pattern.body["errors"],
        json!({"config.code": ["must match the pattern `^[A-Z0-9]{3,12}$`"]})
    );
    let priority = m
        .app
        .post(&m.path(""), &m.t.token, json!({"plugin": "hello", "priority": -1}))
        .await;
    assert_eq!(priority.code(), "validation_failed");
    assert!(priority.body["errors"]["priority"].is_array());
    assert!(m
        .app
        .get(&m.path("?include_uninstalled=true"), &m.t.token)
        .await
        .items()
        .is_empty());
}

#[tokio::test]
async fn a_refused_change_leaves_the_install_as_it_was() {
    let m = Market::open().await;
    let install = m.install("hello", json!({"percent": 15})).await;
    let path = m.path(&format!("/{}", install["id"].as_str().unwrap()));
    for body in [
        json!({"config": {"percent": -1}, "priority": 1, "enabled": false}),
        json!({"config": {"percent": 20, "surprise": true}}),
        json!({"priority": 10001}),
        json!({"enabled": "yes"}),
        json!({"colour": "red"}),
    ] {
        let r = m.app.patch(&path, &m.t.token, body.clone()).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {}", r.body);
    }
    let bad = m.app.patch(&path, &m.t.token, json!({"config": {"percent": -1}})).await;
    assert_eq!(bad.body["errors"], json!({"config.percent": ["must be at least 0"]}));
    assert_eq!(m.app.get(&path, &m.t.token).await.body, install, "nothing changed");
}
