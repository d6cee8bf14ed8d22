//! The platform catalogue: listing, one plug-in with its versions, and the
//! administrator's list/unlist switch.

use livemall::marketplace::registry;
use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token, discount_plugin, hello_plugin, hello_schema, Market};

#[tokio::test]
async fn the_catalogue_shows_each_plugin_with_its_newest_version_hooks_and_schema() {
    let m = Market::open().await;
    registry::register(&m.app.state, hello_plugin("1.1.0")).await.unwrap();
    let all = m.app.get("/api/v1/plugins", &m.t.token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let items = all.items();
    assert_eq!(items.len(), 2);
    let hello = items.iter().find(|p| p["slug"] == "hello").unwrap();
    assert_eq!(hello["name"], "Hello");
    assert_eq!(hello["listed"], true);
    assert_eq!(hello["latest_version"]["version"], "1.1.0");
    assert_eq!(hello["latest_version"]["hooks"], json!(["cart.price"]));
    assert_eq!(hello["latest_version"]["config_schema"], hello_schema());
    assert_eq!(hello["latest_version"]["sha256"].as_str().unwrap().len(), 64);
    assert!(hello.get("versions").is_none(), "lists stay small");

    let first = m.app.get("/api/v1/plugins?limit=1", &m.t.token).await;
    assert_eq!(first.items().len(), 1);
    let cursor = first.body["next_cursor"].as_str().unwrap();
    let second = m
        .app
        .get(&format!("/api/v1/plugins?limit=1&cursor={cursor}"), &m.t.token)
        .await;
    assert_eq!(second.items().len(), 1);
    assert_ne!(first.items()[0]["id"], second.items()[0]["id"]);
    assert!(second.body["next_cursor"].is_null());

    let one = m.app.get("/api/v1/plugins/hello", &m.t.token).await;
    let versions: Vec<&str> = one.body["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["1.1.0", "1.0.0"]);
    assert_eq!(
        m.app.get("/api/v1/plugins/nope", &m.t.token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        m.app
            .request(reqwest::Method::GET, "/api/v1/plugins", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // Any signed-in principal reads the catalogue, whatever its scopes.
    let key = m
        .app
        .post(
            "/api/v1/api-keys",
            &m.t.token,
            json!({"name": "k", "scopes": ["stores:read"]}),
        )
        .await;
    let secret = key.body["secret"].as_str().unwrap();
    assert_eq!(m.app.get("/api/v1/plugins", secret).await.items().len(), 2);
}

#[tokio::test]
async fn an_unlisted_plugin_is_hidden_from_merchants_and_cannot_be_newly_installed() {
    let m = Market::open().await;
    let installed = m.install("discount", json!({})).await;
    let admin = admin_token(&m.app).await;

    let refused = m
        .app
        .patch("/api/v1/admin/plugins/hello", &m.t.token, json!({"listed": false}))
        .await;
    assert_eq!(refused.code(), "admin_only");
    for slug in ["hello", "discount"] {
        let r = m
            .app
            .patch(
                &format!("/api/v1/admin/plugins/{slug}"),
                &admin,
                json!({"listed": false}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["listed"], false);
    }
    assert_eq!(
        m.app
            .patch("/api/v1/admin/plugins/nope", &admin, json!({"listed": true}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    assert!(m.app.get("/api/v1/plugins", &m.t.token).await.items().is_empty());
    assert_eq!(
        m.app.get("/api/v1/plugins/hello", &m.t.token).await.status,
        StatusCode::NOT_FOUND
    );
    let admin_view = m.app.get("/api/v1/plugins", &admin).await.items();
    assert_eq!(admin_view.len(), 2);
    assert!(admin_view.iter().all(|p| p["listed"] == false));
    assert_eq!(m.app.get("/api/v1/plugins/hello", &admin).await.status, StatusCode::OK);
    let install = m.app.post(&m.path(""), &m.t.token, json!({"plugin": "hello"})).await;
    assert_eq!(install.status, StatusCode::NOT_FOUND);

    // What is installed keeps running.
    let still = m
        .app
        .get(&m.path(&format!("/{}", installed["id"].as_str().unwrap())), &m.t.token)
        .await;
    assert_eq!(still.body["running"], true);
    assert_eq!(m.active().await.len(), 1);

    m.app
        .patch("/api/v1/admin/plugins/hello", &admin, json!({"listed": true}))
        .await;
    m.install("hello", json!({})).await;
}

#[tokio::test]
async fn a_schema_outside_the_supported_subset_is_refused_at_registration() {
    let app = crate::helpers::spawn_app().await;
    let mut plugin = discount_plugin("1.0.0");
    plugin.config_schema = json!({"type": "object", "properties": {"code": {"oneOf": []}}});
    let err = registry::register(&app.state, plugin).await.unwrap_err().to_string();
    assert!(err.contains("`properties.code.oneOf`"), "{err}");
    assert!(err.contains("not supported"), "{err}");
    let mut plugin = discount_plugin("1.0.0");
    plugin.config_schema = json!({"type": "object", "properties": {"n": {"type": "integer", "default": "x"}}});
    let err = registry::register(&app.state, plugin).await.unwrap_err().to_string();
    assert!(err.contains("does not match its own schema"), "{err}");
    let txn = app.db.platform(livemall::db::Access::Read).await.unwrap();
    use sea_orm::EntityTrait;
    assert!(livemall::entities::plugins::Entity::find()
        .all(&txn)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn every_marketplace_endpoint_is_in_the_openapi_document() {
    let app = crate::helpers::spawn_app().await;
    let doc = app.public_get("/api/openapi.json").await.body;
    let i = "/api/v1/stores/{store_id}/plugins";
    let expected = [
        ("/api/v1/plugins".to_string(), vec!["get"]),
        ("/api/v1/plugins/{slug}".to_string(), vec!["get"]),
        ("/api/v1/admin/plugins/{slug}".to_string(), vec!["patch"]),
        (i.to_string(), vec!["post", "get"]),
        (format!("{i}/{{install_id}}"), vec!["get", "patch", "delete"]),
        (format!("{i}/{{install_id}}/enable"), vec!["post"]),
        (format!("{i}/{{install_id}}/upgrade"), vec!["post"]),
        (format!("{i}/{{install_id}}/calls"), vec!["get"]),
    ];
    for (path, methods) in expected {
        for method in methods {
            assert!(doc["paths"][&path][method].is_object(), "{method} {path}");
        }
    }
}
