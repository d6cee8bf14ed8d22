//! Collections: slugs unique per store, products in the merchant's order.

use reqwest::StatusCode;
use serde_json::json;

use super::{id, product, titles, Shop};

#[tokio::test]
async fn collections_keep_the_merchants_order() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let a = id(&shop.product(product("A", &[("A", 1, 1)])).await);
    let b = id(&shop.product(product("B", &[("B", 1, 1)])).await);
    let c = id(&shop.product(product("C", &[("C", 1, 1)])).await);
    let made = app
        .post(&shop.path("/collections"), token, json!({"title": "Summer Picks!"}))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["slug"], "summer-picks");
    assert_eq!(made.body["product_ids"], json!([]));
    let cid = id(&made.body);
    let members = shop.path(&format!("/collections/{cid}/products"));

    let set = app.put(&members, token, json!({"product_ids": [c, a, b]})).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);
    assert_eq!(set.body["product_ids"], json!([c, a, b]));
    let reordered = app.put(&members, token, json!({"product_ids": [b, c]})).await;
    assert_eq!(reordered.body["product_ids"], json!([b, c]));
    let got = app.get(&shop.path(&format!("/collections/{cid}")), token).await;
    assert_eq!(got.body["product_ids"], json!([b, c]));

    let front = app.public_get(&shop.front("/collections/summer-picks")).await;
    assert_eq!(front.status, StatusCode::OK, "{}", front.body);
    assert_eq!(titles(front.body["products"].as_array().unwrap()), vec!["B", "C"]);
    app.patch(&shop.path(&format!("/products/{b}")), token, json!({"status": "draft"}))
        .await;
    let front = app.public_get(&shop.front("/collections/summer-picks")).await;
    assert_eq!(
        titles(front.body["products"].as_array().unwrap()),
        vec!["C"],
        "drafts hidden"
    );

    let renamed = app
        .patch(
            &shop.path(&format!("/collections/{cid}")),
            token,
            json!({"title": "Autumn", "slug": "autumn"}),
        )
        .await;
    assert_eq!(renamed.body["slug"], "autumn");
    let listed = app.get(&shop.path("/collections"), token).await;
    assert_eq!(titles(&listed.items()), vec!["Autumn"]);
    let removed = app.delete(&shop.path(&format!("/collections/{cid}")), token).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert!(app.get(&shop.path("/collections"), token).await.items().is_empty());
    assert_eq!(
        app.get(&shop.path(&format!("/products/{c}")), token).await.body["title"],
        "C",
        "products outlive their collection"
    );
}

#[tokio::test]
async fn foreign_or_repeated_products_are_named_and_nothing_changes() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let mine = id(&shop.product(product("Mine", &[("M", 1, 1)])).await);
    let other_store = app.create_store(token, "Second", "second").await;
    let theirs = app
        .post(
            &format!("/api/v1/stores/{}/products", other_store["id"].as_str().unwrap()),
            token,
            product("Theirs", &[("T", 1, 1)]),
        )
        .await;
    let theirs = id(&theirs.body);
    let random = uuid::Uuid::now_v7().to_string();
    let cid = id(&app
        .post(&shop.path("/collections"), token, json!({"title": "C"}))
        .await
        .body);
    let members = shop.path(&format!("/collections/{cid}/products"));
    app.put(&members, token, json!({"product_ids": [mine]})).await;

    let bad = app
        .put(&members, token, json!({"product_ids": [mine, theirs, random]}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "unknown_products");
    let detail = bad.body["detail"].as_str().unwrap();
    assert!(detail.contains(&theirs) && detail.contains(&random), "{detail}");
    assert!(bad.body["errors"]["product_ids[1]"].is_array());
    assert!(bad.body["errors"]["product_ids[2]"].is_array());
    assert!(bad.body["errors"]["product_ids[0]"].is_null());
    let twice = app.put(&members, token, json!({"product_ids": [mine, mine]})).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(twice.body["errors"]["product_ids[1]"].is_array(), "{}", twice.body);
    let got = app.get(&shop.path(&format!("/collections/{cid}")), token).await;
    assert_eq!(got.body["product_ids"], json!([mine]));

    let dup = app
        .post(
            &shop.path("/collections"),
            token,
            json!({"title": "Other", "slug": "c"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    assert_eq!(dup.code(), "duplicate_slug");
    let bad_slug = app
        .post(
            &shop.path("/collections"),
            token,
            json!({"title": "X", "slug": "Not OK"}),
        )
        .await;
    assert_eq!(bad_slug.code(), "invalid_slug");
}
