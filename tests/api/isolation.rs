//! Tenant B tries every tenant-owned endpoint on tenant A's resources: each
//! answers 404 (never 403), and A's data is unchanged afterwards.

mod installs;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn another_tenants_resources_are_not_found_and_unchanged() {
    let app = spawn_app().await;
    let a = app.signup("ann@example.com", "Ann").await;
    let b = app.signup("bob@example.com", "Bob").await;
    let store = app.create_store(&a.token, "A store", "a-store").await;
    let store_id = store["id"].as_str().unwrap().to_string();
    let key = app
        .post(
            "/api/v1/api-keys",
            &a.token,
            json!({"name": "k", "scopes": ["stores:read", "stores:write"]}),
        )
        .await;
    let key_id = key.body["id"].as_str().unwrap().to_string();
    let inv = app
        .post("/api/v1/invitations", &a.token, json!({"email": "sam@example.com"}))
        .await;
    let inv_id = inv.body["id"].as_str().unwrap().to_string();
    let b_key = app
        .post(
            "/api/v1/api-keys",
            &b.token,
            json!({"name": "bk", "scopes": ["stores:read", "stores:write"]}),
        )
        .await;
    let b_secret = b_key.body["secret"].as_str().unwrap().to_string();

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/api/v1/stores/{store_id}"), None),
        (
            Method::PATCH,
            format!("/api/v1/stores/{store_id}"),
            Some(json!({"name": "pwned"})),
        ),
        (Method::DELETE, format!("/api/v1/stores/{store_id}"), None),
        (Method::DELETE, format!("/api/v1/api-keys/{key_id}"), None),
        (Method::DELETE, format!("/api/v1/invitations/{inv_id}"), None),
        (Method::DELETE, format!("/api/v1/users/{}", a.user_id), None),
    ];
    for token in [&b.token, &b_secret] {
        for (method, path, body) in &attempts {
            let r = app.request(method.clone(), path, Some(token), body.clone()).await;
            // API keys may not manage keys, invitations or users at all (403 before lookup).
            let expected = if token == &b_secret && !path.contains("/stores/") {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::NOT_FOUND
            };
            assert_eq!(r.status, expected, "{method} {path}: {}", r.body);
        }
    }
    for list in [
        "/api/v1/stores?include_archived=true",
        "/api/v1/api-keys",
        "/api/v1/invitations",
        "/api/v1/users",
    ] {
        let r = app.get(list, &b.token).await;
        let items = r.body["items"].as_array().unwrap();
        assert!(
            items.iter().all(|i| i["id"] != store_id
                && i["id"] != key_id
                && i["id"] != inv_id
                && i["id"] != a.user_id.to_string()),
            "{list}"
        );
    }

    // A's data is as it was.
    let still = app.get(&format!("/api/v1/stores/{store_id}"), &a.token).await;
    assert_eq!(still.body["name"], "A store");
    assert_eq!(still.body["status"], "active");
    let keys = app.get("/api/v1/api-keys", &a.token).await;
    assert!(keys.body["items"][0]["revoked_at"].is_null());
    let invs = app.get("/api/v1/invitations", &a.token).await;
    assert!(invs.body["items"][0]["revoked_at"].is_null());
    assert_eq!(
        app.get("/api/v1/users", &a.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_slug_used_by_another_tenant_is_free_for_this_one() {
    let app = spawn_app().await;
    let a = app.signup("ann@example.com", "Ann").await;
    let b = app.signup("bob@example.com", "Bob").await;
    app.create_store(&a.token, "Main", "main").await;
    app.create_store(&b.token, "Main", "main").await;
    let a_front = app
        .public_get(&format!("/api/v1/storefront/{}/main", a.tenant_slug))
        .await;
    let b_front = app
        .public_get(&format!("/api/v1/storefront/{}/main", b.tenant_slug))
        .await;
    assert_ne!(a_front.body["id"], b_front.body["id"]);
}

#[tokio::test]
async fn another_tenants_catalog_is_not_found_and_unchanged() {
    let app = spawn_app().await;
    let a = app.signup("ann@example.com", "Ann").await;
    let b = app.signup("bob@example.com", "Bob").await;
    let a_store = app.create_store(&a.token, "A store", "a-store").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b_store = app.create_store(&b.token, "B store", "b-store").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let product = app
        .post(
            &format!("/api/v1/stores/{a_store}/products"),
            &a.token,
            json!({"title": "Lamp", "variants": [{"sku": "L-1", "price": 100, "stock": 5}, {"sku": "L-2", "price": 200, "stock": 7}]}),
        )
        .await
        .body;
    let pid = product["id"].as_str().unwrap().to_string();
    let vid = product["variants"][0]["id"].as_str().unwrap().to_string();
    let collection = app
        .post(
            &format!("/api/v1/stores/{a_store}/collections"),
            &a.token,
            json!({"title": "Lights"}),
        )
        .await
        .body;
    let cid = collection["id"].as_str().unwrap().to_string();
    let members = json!({"product_ids": [pid]});
    app.put(
        &format!("/api/v1/stores/{a_store}/collections/{cid}/products"),
        &a.token,
        members.clone(),
    )
    .await;
    let b_key = app
        .post(
            "/api/v1/api-keys",
            &b.token,
            json!({"name": "bk", "scopes": ["catalog:read", "catalog:write"]}),
        )
        .await;
    let b_secret = b_key.body["secret"].as_str().unwrap().to_string();

    let mut attempts: Vec<(Method, String, Option<Value>)> = Vec::new();
    // Through A's store, and through B's own store with A's ids.
    for store in [&a_store, &b_store] {
        let s = format!("/api/v1/stores/{store}");
        let p = format!("{s}/products/{pid}");
        let c = format!("{s}/collections/{cid}");
        attempts.extend([
            (Method::GET, p.clone(), None),
            (Method::PATCH, p.clone(), Some(json!({"title": "pwned"}))),
            (Method::DELETE, p.clone(), None),
            (
                Method::POST,
                format!("{p}/variants"),
                Some(json!({"sku": "X-1", "price": 1})),
            ),
            (Method::PATCH, format!("{p}/variants/{vid}"), Some(json!({"price": 1}))),
            (Method::DELETE, format!("{p}/variants/{vid}"), None),
            (
                Method::POST,
                format!("{s}/variants/{vid}/stock"),
                Some(json!({"delta": -1})),
            ),
            (
                Method::POST,
                format!("{s}/variants/{vid}/stock"),
                Some(json!({"set": 0})),
            ),
            (Method::GET, c.clone(), None),
            (Method::PATCH, c.clone(), Some(json!({"title": "pwned"}))),
            (Method::DELETE, c.clone(), None),
            (Method::PUT, format!("{c}/products"), Some(json!({"product_ids": []}))),
        ]);
    }
    attempts.extend([
        (Method::GET, format!("/api/v1/stores/{a_store}/products"), None),
        (
            Method::POST,
            format!("/api/v1/stores/{a_store}/products"),
            Some(json!({"title": "x", "variants": [{"sku": "X", "price": 1}]})),
        ),
        (Method::GET, format!("/api/v1/stores/{a_store}/collections"), None),
        (
            Method::POST,
            format!("/api/v1/stores/{a_store}/collections"),
            Some(json!({"title": "x"})),
        ),
    ]);
    for token in [&b.token, &b_secret] {
        for (method, path, body) in &attempts {
            let r = app.request(method.clone(), path, Some(token), body.clone()).await;
            assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.body);
        }
        // A's products cannot be put into B's collection, nor found by B's filters.
        let own = app
            .post(
                &format!("/api/v1/stores/{b_store}/collections"),
                token,
                json!({"title": format!("mine {}", token.len())}),
            )
            .await;
        let own_id = own.body["id"].as_str().unwrap();
        let put = app
            .put(
                &format!("/api/v1/stores/{b_store}/collections/{own_id}/products"),
                token,
                members.clone(),
            )
            .await;
        assert_eq!(put.code(), "unknown_products");
        let filtered = app
            .get(
                &format!("/api/v1/stores/{b_store}/products?collection={cid}&status=archived"),
                token,
            )
            .await;
        assert!(filtered.items().is_empty());
    }

    // A's catalog is as it was.
    let still = app
        .get(&format!("/api/v1/stores/{a_store}/products/{pid}"), &a.token)
        .await
        .body;
    assert_eq!(still["title"], "Lamp");
    assert_eq!(still["status"], "active");
    assert_eq!(still["variants"][0]["stock"], 5);
    assert_eq!(still["variants"][0]["price"]["amount"], 100);
    assert_eq!(still["variants"][0]["archived"], false);
    assert_eq!(still["variants"].as_array().unwrap().len(), 2);
    let c = app
        .get(&format!("/api/v1/stores/{a_store}/collections/{cid}"), &a.token)
        .await
        .body;
    assert_eq!(c["title"], "Lights");
    assert_eq!(c["product_ids"], json!([pid]));
    assert_eq!(
        app.get(&format!("/api/v1/stores/{a_store}/collections"), &a.token)
            .await
            .items()
            .len(),
        1
    );
}
