use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_merchant_creates_reads_updates_and_archives_a_store() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let created = app
        .post(
            "/api/v1/stores",
            &t.token,
            json!({"name": "Spring Sale!", "currency": "eur"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["slug"], "spring-sale");
    assert_eq!(created.body["currency"], "EUR");
    assert_eq!(created.body["time_zone"], "UTC");
    let id = created.body["id"].as_str().unwrap();

    let got = app.get(&format!("/api/v1/stores/{id}"), &t.token).await;
    assert_eq!(got.body["name"], "Spring Sale!");
    let patched = app
        .patch(
            &format!("/api/v1/stores/{id}"),
            &t.token,
            json!({"name": "Summer", "slug": "summer", "time_zone": "Asia/Tokyo"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["slug"], "summer");
    assert_eq!(patched.body["time_zone"], "Asia/Tokyo");

    assert_eq!(
        app.delete(&format!("/api/v1/stores/{id}"), &t.token).await.status,
        StatusCode::NO_CONTENT
    );
    let archived = app.get(&format!("/api/v1/stores/{id}"), &t.token).await;
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(
        app.get("/api/v1/stores", &t.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let all = app.get("/api/v1/stores?include_archived=true", &t.token).await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 1);
    let change = app
        .patch(&format!("/api/v1/stores/{id}"), &t.token, json!({"name": "Back"}))
        .await;
    assert_eq!(change.code(), "store_archived");
}

#[tokio::test]
async fn a_duplicate_slug_is_a_conflict_and_bad_fields_are_named() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    app.create_store(&t.token, "Main", "main").await;
    let dup = app
        .post(
            "/api/v1/stores",
            &t.token,
            json!({"name": "Other", "slug": "main", "currency": "EUR"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "duplicate_slug");

    let bad = app
        .post(
            "/api/v1/stores",
            &t.token,
            json!({"name": "", "currency": "EURO", "time_zone": "Mars/Olympus"}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    for field in ["name", "currency", "time_zone"] {
        assert!(bad.body["errors"][field].is_array(), "{field}: {}", bad.body);
    }
    let bad_slug = app
        .post(
            "/api/v1/stores",
            &t.token,
            json!({"name": "X", "slug": "Not A Slug", "currency": "EUR"}),
        )
        .await;
    assert_eq!(bad_slug.code(), "invalid_slug");
    assert_eq!(
        app.get("/api/v1/stores", &t.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing written"
    );
}

#[tokio::test]
async fn lists_page_with_a_cursor() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    for i in 0..5 {
        app.create_store(&t.token, &format!("Store {i}"), &format!("store-{i}"))
            .await;
    }
    let first = app.get("/api/v1/stores?limit=2", &t.token).await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let mut seen: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = first.body["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = app.get(&format!("/api/v1/stores?limit=2&cursor={c}"), &t.token).await;
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["slug"].as_str().unwrap().to_string()),
        );
        cursor = page.body["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, vec!["store-0", "store-1", "store-2", "store-3", "store-4"]);
    assert_eq!(
        app.get("/api/v1/stores?limit=0", &t.token).await.code(),
        "invalid_limit"
    );
    assert_eq!(
        app.get("/api/v1/stores?cursor=garbage!", &t.token).await.code(),
        "invalid_cursor"
    );
}

#[tokio::test]
async fn the_storefront_shows_active_stores_without_auth() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann Shop").await;
    let store = app.create_store(&t.token, "Main", "main").await;
    let path = format!("/api/v1/storefront/{}/main", t.tenant_slug);
    let front = app.public_get(&path).await;
    assert_eq!(front.status, StatusCode::OK);
    assert_eq!(front.body["name"], "Main");
    assert_eq!(front.body["tenant_name"], "Ann Shop");
    let id = store["id"].as_str().unwrap();
    app.patch(&format!("/api/v1/stores/{id}"), &t.token, json!({"status": "disabled"}))
        .await;
    assert_eq!(app.public_get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.public_get("/api/v1/storefront/nobody/main").await.status,
        StatusCode::NOT_FOUND
    );
}

async fn post_with_key(
    app: &crate::helpers::TestApp,
    token: &str,
    key: &str,
    body: serde_json::Value,
) -> crate::helpers::Reply {
    app.post_keyed("/api/v1/stores", token, key, body).await
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let body = json!({"name": "Main", "currency": "EUR"});
    let first = post_with_key(&app, &t.token, "key-1", body.clone()).await;
    let second = post_with_key(&app, &t.token, "key-1", body).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(second.headers["idempotent-replayed"], "true");
    assert_eq!(
        app.get("/api/v1/stores", &t.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    let other = post_with_key(&app, &t.token, "key-1", json!({"name": "Else", "currency": "EUR"})).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.body["code"], "idempotency_key_reused");
}

#[tokio::test]
async fn concurrent_requests_with_one_idempotency_key_create_one_store() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let body = json!({"name": "Main", "currency": "EUR"});
    let tasks: Vec<_> = (0..10)
        .map(|_| post_with_key(&app, &t.token, "same", body.clone()))
        .collect();
    let replies = futures_util::future::join_all(tasks).await;
    let ids: std::collections::HashSet<String> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| r.body["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids.len(),
        1,
        "statuses: {:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(
        app.get("/api/v1/stores", &t.token).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn demo_data_gives_a_fresh_server_a_storefront_once() {
    let app = crate::helpers::spawn_with(|s| s.demo_data = Some(true)).await;
    let front = app.public_get("/api/v1/storefront/demo-mall/main").await;
    assert_eq!(front.status, StatusCode::OK);
    assert_eq!(front.body["tenant_name"], "Demo Mall");
    let products = app.public_get("/api/v1/storefront/demo-mall/main/products").await;
    assert_eq!(products.items().len(), 3, "{}", products.body);
    livemall::demo::seed(&app.db, "http://x").await.unwrap();
    let taken = app
        .public_post(
            "/api/v1/auth/signup",
            json!({"email": livemall::demo::EMAIL, "password": crate::helpers::PASSWORD, "tenant_name": "x"}),
        )
        .await;
    assert_eq!(taken.code(), "email_taken", "seeding twice creates nothing new");
}

#[tokio::test]
async fn the_demo_server_offers_the_example_plug_ins() {
    let app = crate::helpers::spawn_with(|s| s.demo_data = Some(true)).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let catalogue = app.get("/api/v1/plugins", &t.token).await;
    let slugs: Vec<&str> = catalogue.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap())
        .collect();
    assert!(
        slugs.contains(&"hello_plugin") && slugs.contains(&"discount"),
        "{slugs:?}"
    );
    let store = app.create_store(&t.token, "Main", "main").await;
    let path = format!("/api/v1/stores/{}/plugins", store["id"].as_str().unwrap());
    let installed = app
        .post(
            &path,
            &t.token,
            json!({"plugin": "hello_plugin", "config": {"percent": 20}}),
        )
        .await;
    assert_eq!(installed.status, StatusCode::CREATED, "{}", installed.body);
}
