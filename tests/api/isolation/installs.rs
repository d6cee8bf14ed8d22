//! Plug-in installs: tenant B reaches none of A's, through A's store or
//! through its own store with A's install id.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::marketplace::Market;

#[tokio::test]
async fn another_tenants_installs_are_not_found_and_unchanged() {
    let m = Market::open().await;
    let a_install = m.install("hello", json!({"percent": 15})).await;
    let iid = a_install["id"].as_str().unwrap().to_string();
    let active = m.active().await.remove(0);
    m.record(&active, &std::fs::read("examples/wat-plugin/discount.wasm").unwrap())
        .await;
    let a_calls = m.app.get(&m.path(&format!("/{iid}/calls")), &m.t.token).await.items();
    assert_eq!(a_calls.len(), 1);

    let b = m.app.signup("bob@example.com", "Bob").await;
    let b_store = m.app.create_store(&b.token, "B store", "b-store").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_key = m
        .app
        .post(
            "/api/v1/api-keys",
            &b.token,
            json!({"name": "bk", "scopes": ["plugins"]}),
        )
        .await;
    let b_secret = b_key.body["secret"].as_str().unwrap().to_string();

    let mut attempts: Vec<(Method, String, Option<Value>)> = Vec::new();
    for store in [&m.store_id, &b_store] {
        let i = format!("/api/v1/stores/{store}/plugins/{iid}");
        attempts.extend([
            (Method::GET, i.clone(), None),
            (
                Method::PATCH,
                i.clone(),
                Some(json!({"config": {"percent": 99}, "priority": 1, "enabled": false})),
            ),
            (Method::POST, format!("{i}/enable"), None),
            (Method::POST, format!("{i}/upgrade"), Some(json!({"config": {}}))),
            (Method::GET, format!("{i}/calls"), None),
            (Method::GET, format!("{i}/calls?outcome=failed"), None),
            (Method::DELETE, i.clone(), None),
        ]);
    }
    let a_store = format!("/api/v1/stores/{}/plugins", m.store_id);
    attempts.extend([
        (Method::GET, a_store.clone(), None),
        (Method::GET, format!("{a_store}?include_uninstalled=true"), None),
        (Method::POST, a_store.clone(), Some(json!({"plugin": "discount"}))),
    ]);
    for token in [&b.token, &b_secret] {
        for (method, path, body) in &attempts {
            let r = m.app.request(method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
        }
        let own = m
            .app
            .get(
                &format!("/api/v1/stores/{b_store}/plugins?include_uninstalled=true"),
                token,
            )
            .await;
        assert_eq!(own.status, StatusCode::OK);
        assert!(own.items().is_empty(), "{}", own.body);
    }

    // A's install, its calls and its pipeline are as they were.
    let still = m.app.get(&m.path(&format!("/{iid}")), &m.t.token).await.body;
    assert_eq!(still, a_install);
    assert_eq!(
        m.app.get(&m.path(&format!("/{iid}/calls")), &m.t.token).await.items(),
        a_calls
    );
    assert_eq!(m.app.get(&m.path(""), &m.t.token).await.items().len(), 1);
    assert_eq!(m.active().await.len(), 1);
}
