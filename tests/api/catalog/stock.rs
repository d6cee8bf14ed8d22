//! Stock never goes below zero: not by a large delta, not under concurrency,
//! and not even by a write that bypasses the application.

use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use super::{product, Shop};
use crate::helpers::Engine;

/// A shop with one product whose only variant has `stock` units; returns the stock path.
async fn shop_with_stock(stock: i64) -> (Shop, String, String) {
    let shop = Shop::open().await;
    let p = shop.product(product("Lamp", &[("LAMP", 4900, stock)])).await;
    let vid = p["variants"][0]["id"].as_str().unwrap().to_string();
    let path = shop.path(&format!("/variants/{vid}/stock"));
    (shop, path, vid)
}

#[tokio::test]
async fn a_delta_below_zero_is_refused_and_changes_nothing() {
    let (shop, path, _) = shop_with_stock(2).await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let refused = app.post(&path, token, json!({"delta": -3})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.code(), "insufficient_stock");
    assert!(refused.body["detail"].as_str().unwrap().contains("only 2"));
    let down = app.post(&path, token, json!({"delta": -2})).await;
    assert_eq!(down.body["stock"], 0);
    assert_eq!(
        app.post(&path, token, json!({"delta": -1})).await.code(),
        "insufficient_stock"
    );
    let set = app.post(&path, token, json!({"set": 10})).await;
    assert_eq!(set.body["stock"], 10);
    let up = app.post(&path, token, json!({"delta": 5})).await;
    assert_eq!(up.body["stock"], 15);

    for (body, field) in [
        (json!({"delta": -1, "set": 3}), "delta"),
        (json!({}), "delta"),
        (json!({"set": -1}), "set"),
        (json!({"delta": 1_000_000_001}), "delta"),
    ] {
        let r = app.post(&path, token, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
        assert!(r.body["errors"][field].is_array(), "{}", r.body);
    }
    let limit = app.post(&path, token, json!({"delta": 1_000_000_000})).await;
    assert_eq!(limit.code(), "stock_limit");
    assert_eq!(app.post(&path, token, json!({"delta": 0})).await.body["stock"], 15);
}

#[tokio::test]
async fn twenty_concurrent_decrements_on_ten_units_sell_exactly_ten() {
    let (shop, path, _) = shop_with_stock(10).await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let tasks: Vec<_> = (0..20).map(|_| app.post(&path, token, json!({"delta": -1}))).collect();
    let replies = futures_util::future::join_all(tasks).await;
    let ok = replies.iter().filter(|r| r.status == StatusCode::OK).count();
    let refused = replies.iter().filter(|r| r.code() == "insufficient_stock").count();
    assert_eq!(
        (ok, refused),
        (10, 10),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    let after = app.post(&path, token, json!({"delta": 0})).await;
    assert_eq!(after.body["stock"], 0);
}

#[tokio::test]
async fn an_idempotency_key_applies_a_delta_once() {
    let (shop, path, _) = shop_with_stock(10).await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let first = app.post_keyed(&path, token, "restock-1", json!({"delta": -4})).await;
    let again = app.post_keyed(&path, token, "restock-1", json!({"delta": -4})).await;
    assert_eq!(first.body["stock"], 6);
    assert_eq!(again.body["stock"], 6);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.post(&path, token, json!({"delta": 0})).await.body["stock"], 6);
}

#[tokio::test]
async fn the_database_itself_refuses_negative_stock() {
    let (shop, path, vid) = shop_with_stock(1).await;
    let app = &shop.app;
    let backend = app.db.backend();
    let sql = match app.engine {
        Engine::Postgres => "UPDATE variants SET stock = -1 WHERE id = $1",
        Engine::Sqlite => "UPDATE variants SET stock = -1 WHERE id = ?",
    };
    let id: uuid::Uuid = vid.parse().unwrap();
    let result = app
        .db
        .connection()
        .execute_raw(Statement::from_sql_and_values(backend, sql, [id.into()]))
        .await;
    assert!(result.is_err(), "the CHECK constraint refuses stock < 0");
    let token = shop.t.token.as_str();
    assert_eq!(app.post(&path, token, json!({"delta": 0})).await.body["stock"], 1);
}
