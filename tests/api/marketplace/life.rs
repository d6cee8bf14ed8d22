//! An install's life through the API: install, configure, disable,
//! uninstall, install again.

use reqwest::StatusCode;
use serde_json::json;

use super::Market;

#[tokio::test]
async fn an_install_is_configured_disabled_and_uninstalled_over_its_life() {
    let m = Market::open().await;
    let created = m
        .app
        .post(
            &m.path(""),
            &m.t.token,
            json!({"plugin": "hello", "config": {"percent": 20}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let install = created.body;
    let id = install["id"].as_str().unwrap().to_string();
    assert_eq!(install["plugin"]["slug"], "hello");
    assert_eq!(install["plugin"]["name"], "Hello");
    assert_eq!(install["version"], "1.0.0");
    assert_eq!(install["latest_version"], "1.0.0");
    assert_eq!(install["enabled"], true);
    assert_eq!(install["running"], true);
    assert_eq!(install["priority"], 100);
    assert_eq!(install["hooks"], json!(["cart.price"]));
    assert_eq!(install["breaker"], json!({"open": false, "reason": null}));
    assert_eq!(
        install["config"],
        json!({"percent": 20, "min_quantity": 3, "order_threshold": 10000, "order_discount": 500}),
        "defaults are filled in"
    );

    let again = m.app.post(&m.path(""), &m.t.token, json!({"plugin": "hello"})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "already_installed");
    let unknown = m.app.post(&m.path(""), &m.t.token, json!({"plugin": "nope"})).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let no_store = m
        .app
        .post(
            &format!("/api/v1/stores/{}/plugins", uuid::Uuid::now_v7()),
            &m.t.token,
            json!({"plugin": "hello"}),
        )
        .await;
    assert_eq!(no_store.status, StatusCode::NOT_FOUND);

    let one = m.app.get(&m.path(&format!("/{id}")), &m.t.token).await;
    assert_eq!(one.body, install);
    assert_eq!(m.app.get(&m.path(""), &m.t.token).await.items(), vec![install.clone()]);

    let changed = m
        .app
        .patch(
            &m.path(&format!("/{id}")),
            &m.t.token,
            json!({"priority": 5, "config": {"percent": 30, "min_quantity": 2}}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["priority"], 5);
    assert_eq!(
        changed.body["config"],
        json!({"percent": 30, "min_quantity": 2, "order_threshold": 10000, "order_discount": 500}),
        "a new configuration replaces the old one whole"
    );
    let active = m.active().await;
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].config["percent"], 30);
    assert_eq!(active[0].priority, 5);

    let off = m
        .app
        .patch(&m.path(&format!("/{id}")), &m.t.token, json!({"enabled": false}))
        .await;
    assert_eq!(off.body["enabled"], false);
    assert_eq!(off.body["running"], false);
    assert!(m.active().await.is_empty(), "a disabled install is not called");
    let on = m
        .app
        .patch(&m.path(&format!("/{id}")), &m.t.token, json!({"enabled": true}))
        .await;
    assert_eq!(on.body["running"], true);

    let removed = m.app.delete(&m.path(&format!("/{id}")), &m.t.token).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(m.app.get(&m.path(""), &m.t.token).await.items().is_empty());
    assert!(m.active().await.is_empty());
    let history = m
        .app
        .get(&m.path("?include_uninstalled=true"), &m.t.token)
        .await
        .items();
    assert_eq!(history.len(), 1);
    assert!(history[0]["uninstalled_at"].is_string());
    assert_eq!(history[0]["running"], false);
    let gone = m.app.get(&m.path(&format!("/{id}")), &m.t.token).await;
    assert_eq!(gone.status, StatusCode::OK, "history stays readable");
    for (method, rest, body) in [
        (reqwest::Method::PATCH, format!("/{id}"), Some(json!({"priority": 1}))),
        (reqwest::Method::POST, format!("/{id}/enable"), None),
        (reqwest::Method::POST, format!("/{id}/upgrade"), None),
    ] {
        let r = m.app.request(method, &m.path(&rest), Some(&m.t.token), body).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{rest}: {}", r.body);
        assert_eq!(r.code(), "uninstalled");
    }
    assert_eq!(
        m.app.delete(&m.path(&format!("/{id}")), &m.t.token).await.status,
        StatusCode::NO_CONTENT,
        "uninstalling twice is harmless"
    );

    let reinstalled = m.install("hello", json!({})).await;
    assert_ne!(reinstalled["id"], install["id"]);
    assert_eq!(reinstalled["config"]["percent"], 10);
    assert_eq!(m.app.get(&m.path(""), &m.t.token).await.items().len(), 1);
    assert_eq!(
        m.app
            .get(&m.path("?include_uninstalled=true"), &m.t.token)
            .await
            .items()
            .len(),
        2
    );
}

#[tokio::test]
async fn an_install_with_an_idempotency_key_is_made_once() {
    let m = Market::open().await;
    let body = json!({"plugin": "discount", "config": {"code": "SPRING"}, "priority": 7});
    let first = m
        .app
        .post_keyed(&m.path(""), &m.t.token, "install-1", body.clone())
        .await;
    let second = m.app.post_keyed(&m.path(""), &m.t.token, "install-1", body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(first.body, second.body);
    assert_eq!(first.body["priority"], 7);
}

#[tokio::test]
async fn an_archived_store_takes_no_new_installs() {
    let m = Market::open().await;
    m.app
        .delete(&format!("/api/v1/stores/{}", m.store_id), &m.t.token)
        .await;
    let r = m.app.post(&m.path(""), &m.t.token, json!({"plugin": "hello"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "store_archived");
}

#[tokio::test]
async fn concurrent_installs_of_one_plugin_make_one_install() {
    let m = Market::open().await;
    let path = m.path("");
    let attempts = (0..8).map(|_| m.app.post(&path, &m.t.token, json!({"plugin": "hello"})));
    let replies = futures_util::future::join_all(attempts).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1);
    assert!(
        replies
            .iter()
            .all(|r| r.status == StatusCode::CREATED || r.code() == "already_installed"),
        "{:?}",
        replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    assert_eq!(m.app.get(&m.path(""), &m.t.token).await.items().len(), 1);
}
