//! Carts that cannot be ordered: each is a clear 4xx from pricing and from
//! checkout, and checkout writes nothing.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Mall;
use crate::catalog::{id, product};

const UNPROCESSABLE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

fn cart(lines: Value) -> Value {
    json!({"email": "a@example.com", "lines": lines})
}

/// Sends each body to pricing and to checkout; both must answer `status`
/// and the code, naming the field when given, and checkout must change nothing.
async fn refused(mall: &Mall, status: StatusCode, cases: Vec<(Value, &str, Option<&str>)>) {
    for (body, code, field) in cases {
        let before = mall.snapshot().await;
        let quote = mall.price(body.clone()).await;
        let placed = mall.checkout(&Uuid::new_v4().to_string(), body.clone()).await;
        for r in [&quote, &placed] {
            assert_eq!((r.status, r.code()), (status, code), "{body}: {}", r.body);
            if let Some(field) = field {
                assert!(
                    r.body["errors"][field].is_array(),
                    "{body}: expected {field} in {}",
                    r.body
                );
            }
        }
        assert_eq!(mall.snapshot().await, before, "{body}");
    }
}

#[tokio::test]
async fn unknown_variants_skus_and_malformed_ids_name_their_line() {
    let mall = Mall::open(10, 10).await;
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let other = app.create_store(token, "Other", "other").await;
    let path = format!("/api/v1/stores/{}/products", other["id"].as_str().unwrap());
    let foreign = app.post(&path, token, product("Vase", &[("VASE", 900, 5)])).await.body;
    let unknown = Uuid::now_v7().to_string();
    let lamp = json!({"variant_id": mall.lamp, "quantity": 1});
    let cases = vec![
        (
            cart(json!([lamp, {"variant_id": unknown, "quantity": 1}])),
            "unknown_variant",
            Some("lines[1].variant_id"),
        ),
        (
            cart(json!([{"sku": "NOPE", "quantity": 1}])),
            "unknown_variant",
            Some("lines[0].sku"),
        ),
        (
            cart(json!([{"variant_id": "not-a-uuid", "quantity": 1}])),
            "unknown_variant",
            Some("lines[0].variant_id"),
        ),
        (
            // Another store's variant is unknown here.
            cart(json!([{"variant_id": foreign["variants"][0]["id"], "quantity": 1}])),
            "unknown_variant",
            Some("lines[0].variant_id"),
        ),
        (
            // And so is its SKU.
            cart(json!([{"sku": "VASE", "quantity": 1}])),
            "unknown_variant",
            Some("lines[0].sku"),
        ),
        (
            cart(json!([{"variant_id": mall.lamp, "sku": "LAMP", "quantity": 1}])),
            "validation_failed",
            Some("lines[0]"),
        ),
        (
            cart(json!([lamp, {"sku": "LAMP", "quantity": 2}])),
            "duplicate_line",
            Some("lines[1]"),
        ),
    ];
    refused(&mall, UNPROCESSABLE, cases).await;
}

#[tokio::test]
async fn quantities_line_counts_codes_and_empty_carts_past_the_stated_limits_are_refused() {
    let mall = Mall::open(10, 10).await;
    let mut cases: Vec<(Value, &str, Option<&str>)> = [0, -1, 1000]
        .into_iter()
        .map(|quantity| {
            let lines = json!([{"variant_id": mall.lamp, "quantity": quantity}]);
            (cart(lines), "validation_failed", Some("lines[0].quantity"))
        })
        .collect();
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"sku": format!("S{i}"), "quantity": 1}))
        .collect();
    let codes = json!({"email": "a@example.com", "codes": vec!["X"; 11], "lines": [{"sku": "LAMP", "quantity": 1}]});
    cases.extend([
        (cart(json!([])), "validation_failed", Some("lines")),
        (cart(json!(many)), "validation_failed", Some("lines")),
        (codes, "validation_failed", Some("codes")),
    ]);
    refused(&mall, UNPROCESSABLE, cases).await;
    let most = mall
        .checkout("most", cart(json!([{"variant_id": mall.bulb, "quantity": 999}])))
        .await;
    assert_eq!(most.code(), "out_of_stock", "999 may be asked for; there are only 10");
}

#[tokio::test]
async fn a_currency_other_than_the_stores_is_refused() {
    let mall = Mall::open(10, 10).await;
    let body = json!({"email": "a@example.com", "currency": "USD", "lines": [{"sku": "LAMP", "quantity": 1}]});
    refused(
        &mall,
        UNPROCESSABLE,
        vec![(body, "currency_mismatch", Some("currency"))],
    )
    .await;
}

#[tokio::test]
async fn archived_and_draft_products_and_archived_variants_are_unavailable() {
    let mall = Mall::open(10, 10).await;
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let sizes = mall
        .shop
        .product(product("Shirt", &[("SHIRT-S", 1000, 5), ("SHIRT-M", 1000, 5)]))
        .await;
    let small = &sizes["variants"][0];
    let path = mall
        .shop
        .path(&format!("/products/{}/variants/{}", id(&sizes), id(small)));
    assert_eq!(app.delete(&path, token).await.status, StatusCode::NO_CONTENT);
    let lamp_id = id(&app.get(&mall.shop.path("/products?limit=1"), token).await.items()[0]);
    let archive = mall.shop.path(&format!("/products/{lamp_id}"));
    assert_eq!(app.delete(&archive, token).await.status, StatusCode::NO_CONTENT);
    let draft = json!({"title": "Soon", "status": "draft", "variants": [{"sku": "SOON", "price": 100, "stock": 5}]});
    mall.shop.product(draft).await;
    let cases = vec![
        (
            cart(json!([{"sku": "BULB", "quantity": 1}, {"sku": "SHIRT-S", "quantity": 1}])),
            "unavailable",
            Some("lines[1].sku"),
        ),
        (
            cart(json!([{"variant_id": mall.lamp, "quantity": 1}])),
            "unavailable",
            Some("lines[0].variant_id"),
        ),
        (
            cart(json!([{"sku": "SOON", "quantity": 1}])),
            "unavailable",
            Some("lines[0].sku"),
        ),
    ];
    refused(&mall, UNPROCESSABLE, cases).await;
}

#[tokio::test]
async fn a_disabled_or_archived_store_sells_nothing() {
    let mall = Mall::open(10, 10).await;
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let store = mall.shop.path("");
    let disabled = app.patch(&store, token, json!({"status": "disabled"})).await;
    assert_eq!(disabled.status, StatusCode::OK, "{}", disabled.body);
    let body = cart(json!([{"sku": "LAMP", "quantity": 1}]));
    refused(&mall, StatusCode::NOT_FOUND, vec![(body.clone(), "not_found", None)]).await;
    assert_eq!(app.delete(&store, token).await.status, StatusCode::NO_CONTENT);
    refused(&mall, StatusCode::NOT_FOUND, vec![(body, "not_found", None)]).await;
}
