//! Bad input: clear problems with codes and field names, and nothing written.

use reqwest::StatusCode;
use serde_json::json;

use super::{id, product, Shop};

#[tokio::test]
async fn a_sku_repeated_in_one_request_is_named_and_nothing_is_created() {
    let shop = Shop::open().await;
    let r = shop
        .app
        .post(
            &shop.path("/products"),
            &shop.t.token,
            product("Cap", &[("CAP-1", 500, 1), ("CAP-2", 500, 1), ("CAP-1", 600, 1)]),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.code(), "duplicate_sku");
    assert!(r.body["errors"]["variants[2].sku"].is_array(), "{}", r.body);
    assert!(shop
        .app
        .get(&shop.path("/products"), &shop.t.token)
        .await
        .items()
        .is_empty());
}

#[tokio::test]
async fn a_sku_held_by_another_product_is_a_conflict() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let first = shop
        .product(product("Cap", &[("CAP-1", 500, 1), ("CAP-2", 500, 1)]))
        .await;
    let dup = app
        .post(
            &shop.path("/products"),
            token,
            product("Hat", &[("HAT-1", 700, 1), ("CAP-2", 700, 1)]),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT, "{}", dup.body);
    assert_eq!(dup.code(), "duplicate_sku");
    assert!(dup.body["detail"].as_str().unwrap().contains("CAP-2"));
    let listed = app.get(&shop.path("/products"), token).await.items();
    assert_eq!(listed.len(), 1, "the hat and its first variant were not kept");

    // SKUs compare case-sensitively.
    shop.product(product("Hat", &[("cap-2", 700, 1)])).await;
    let pid = id(&first);
    let add = app
        .post(
            &shop.path(&format!("/products/{pid}/variants")),
            token,
            json!({"sku": "CAP-1", "price": 1}),
        )
        .await;
    assert_eq!(add.code(), "duplicate_sku");
    let second = first["variants"][1]["id"].as_str().unwrap();
    let rename = app
        .patch(
            &shop.path(&format!("/products/{pid}/variants/{second}")),
            token,
            json!({"sku": "CAP-1"}),
        )
        .await;
    assert_eq!(rename.code(), "duplicate_sku");
    // An archived variant keeps its SKU.
    app.delete(&shop.path(&format!("/products/{pid}/variants/{second}")), token)
        .await;
    let reuse = app
        .post(&shop.path("/products"), token, product("Visor", &[("CAP-2", 1, 1)]))
        .await;
    assert_eq!(reuse.status, StatusCode::CONFLICT);
    assert!(reuse.body["detail"].as_str().unwrap().contains("archived"));
}

#[tokio::test]
async fn bad_fields_are_named_and_nothing_is_written() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let bad = app
        .post(
            &shop.path("/products"),
            token,
            json!({
                "title": "",
                "tags": ["ok", "x".repeat(41)],
                "images": ["ftp://example.com/a.png"],
                "variants": [
                    {"sku": "GOOD-1", "price": 100},
                    {"sku": "bad sku", "price": -1, "stock": -5}
                ]
            }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.code(), "validation_failed");
    for field in [
        "title",
        "tags",
        "images",
        "variants[1].sku",
        "variants[1].price",
        "variants[1].stock",
    ] {
        assert!(bad.body["errors"][field].is_array(), "{field}: {}", bad.body);
    }
    assert!(bad.body["errors"]["variants[0].sku"].is_null());

    let cases = [
        (json!({"title": "No variants", "variants": []}), "variants"),
        (product("Too dear", &[("X", 1_000_000_000_001, 0)]), "variants[0].price"),
        (product("Long sku", &[(&"S".repeat(65), 1, 0)]), "variants[0].sku"),
        (
            json!({"title": "Many tags", "tags": (0..33).map(|i| format!("t{i}")).collect::<Vec<_>>(), "variants": [{"sku": "T", "price": 1}]}),
            "tags",
        ),
        (
            json!({"title": "Many images", "images": vec!["https://e.com/a.png"; 21], "variants": [{"sku": "I", "price": 1}]}),
            "images",
        ),
        (
            json!({"title": "Archived", "status": "archived", "variants": [{"sku": "A", "price": 1}]}),
            "status",
        ),
    ];
    for (body, field) in cases {
        let r = app.post(&shop.path("/products"), token, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {}", r.body);
        assert!(r.body["errors"][field].is_array(), "{field}: {}", r.body);
    }
    // Money is never a float; unknown fields are refused rather than ignored.
    for body in [
        json!({"title": "Float", "variants": [{"sku": "F", "price": 19.99}]}),
        json!({"title": "Extra", "colour": "red", "variants": [{"sku": "E", "price": 1}]}),
    ] {
        let r = app.post(&shop.path("/products"), token, body).await;
        assert_eq!(r.code(), "invalid_body", "{}", r.body);
    }
    assert!(app
        .get(&shop.path("/products?status=draft"), token)
        .await
        .items()
        .is_empty());
    assert!(app.get(&shop.path("/products"), token).await.items().is_empty());
}

#[tokio::test]
async fn other_stores_products_and_unknown_variants_are_not_found() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let p = shop.product(product("Cap", &[("CAP", 500, 1)])).await;
    let pid = id(&p);
    let vid = p["variants"][0]["id"].as_str().unwrap().to_string();
    let other = app.create_store(token, "Second", "second").await;
    let other_path = format!("/api/v1/stores/{}", other["id"].as_str().unwrap());
    let random = uuid::Uuid::now_v7();
    let misses = [
        app.get(&format!("{other_path}/products/{pid}"), token).await,
        app.patch(&format!("{other_path}/products/{pid}"), token, json!({"title": "x"}))
            .await,
        app.post(&format!("{other_path}/variants/{vid}/stock"), token, json!({"set": 9}))
            .await,
        app.get(&shop.path(&format!("/products/{random}")), token).await,
        app.post(
            &shop.path(&format!("/variants/{random}/stock")),
            token,
            json!({"delta": 1}),
        )
        .await,
        app.patch(
            &shop.path(&format!("/products/{pid}/variants/{random}")),
            token,
            json!({"price": 1}),
        )
        .await,
        app.get(&format!("/api/v1/stores/{random}/products"), token).await,
        app.get(&shop.path("/products/not-a-uuid"), token).await,
    ];
    for r in misses {
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
    }
    let still = app.get(&shop.path(&format!("/products/{pid}")), token).await;
    assert_eq!(still.body["title"], "Cap");
    assert_eq!(still.body["variants"][0]["stock"], 1);
}

#[tokio::test]
async fn an_archived_store_refuses_catalog_writes_but_can_be_read() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let p = shop.product(product("Cap", &[("CAP", 500, 1)])).await;
    let pid = id(&p);
    let vid = p["variants"][0]["id"].as_str().unwrap().to_string();
    app.delete(&format!("/api/v1/stores/{}", shop.store_id), token).await;
    let writes = [
        app.post(&shop.path("/products"), token, product("Hat", &[("HAT", 1, 1)]))
            .await,
        app.patch(&shop.path(&format!("/products/{pid}")), token, json!({"title": "x"}))
            .await,
        app.delete(&shop.path(&format!("/products/{pid}")), token).await,
        app.post(
            &shop.path(&format!("/variants/{vid}/stock")),
            token,
            json!({"delta": -1}),
        )
        .await,
        app.post(&shop.path("/collections"), token, json!({"title": "C"})).await,
    ];
    for r in writes {
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert_eq!(r.code(), "store_archived");
    }
    let read = app.get(&shop.path(&format!("/products/{pid}")), token).await;
    assert_eq!(read.body["title"], "Cap");
    assert_eq!(read.body["variants"][0]["stock"], 1);
}

#[tokio::test]
async fn a_product_keeps_its_last_variant_and_a_priced_store_its_currency() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let p = shop.product(product("Cap", &[("CAP", 500, 1)])).await;
    let pid = id(&p);
    let vid = p["variants"][0]["id"].as_str().unwrap().to_string();
    let variant = shop.path(&format!("/products/{pid}/variants/{vid}"));
    assert_eq!(app.delete(&variant, token).await.code(), "last_variant");
    assert_eq!(
        app.patch(&variant, token, json!({"archived": true})).await.code(),
        "last_variant"
    );
    let store = format!("/api/v1/stores/{}", shop.store_id);
    let change = app.patch(&store, token, json!({"currency": "USD"})).await;
    assert_eq!(change.status, StatusCode::CONFLICT);
    assert_eq!(change.code(), "currency_in_use");
    let same = app
        .patch(&store, token, json!({"currency": "eur", "name": "Main 2"}))
        .await;
    assert_eq!(same.status, StatusCode::OK, "naming the same currency is fine");
}
