//! API keys reach installs only with the `plugins` scope.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::Market;

#[tokio::test]
async fn api_keys_need_the_plugins_scope_for_installs() {
    let m = Market::open().await;
    let installed = m.install("hello", json!({})).await;
    let id = installed["id"].as_str().unwrap();
    let key = |scopes: serde_json::Value| {
        let app = &m.app;
        let token = m.t.token.clone();
        async move {
            let r = app
                .post("/api/v1/api-keys", &token, json!({"name": "k", "scopes": scopes}))
                .await;
            r.body["secret"].as_str().unwrap().to_string()
        }
    };
    let other = key(json!(["stores:read", "stores:write", "catalog:write", "orders:write"])).await;
    let plugins = key(json!(["plugins"])).await;

    let every: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, m.path(""), None),
        (Method::POST, m.path(""), Some(json!({"plugin": "discount"}))),
        (Method::GET, m.path(&format!("/{id}")), None),
        (Method::PATCH, m.path(&format!("/{id}")), Some(json!({"priority": 3}))),
        (Method::POST, m.path(&format!("/{id}/enable")), None),
        (Method::POST, m.path(&format!("/{id}/upgrade")), None),
        (Method::GET, m.path(&format!("/{id}/calls")), None),
        (Method::DELETE, m.path(&format!("/{id}")), None),
    ];
    for (method, path, body) in &every {
        let r = m.app.request(method.clone(), path, Some(&other), body.clone()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(r.code(), "missing_scope");
    }
    let unchanged = m.app.get(&m.path(&format!("/{id}")), &m.t.token).await.body;
    assert_eq!(unchanged, installed);

    for (method, path, body) in &every {
        let r = m.app.request(method.clone(), path, Some(&plugins), body.clone()).await;
        assert!(r.status.is_success(), "{method} {path}: {} {}", r.status, r.body);
    }
    let left = m.app.get(&m.path(""), &plugins).await.items();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["plugin"]["slug"], "discount");
}
