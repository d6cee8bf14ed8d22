//! The order lifecycle the merchant drives, and what each step gives back.

use livemall::entities::outbox_events;
use reqwest::StatusCode;
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::Mall;

async fn topics(mall: &Mall) -> Vec<String> {
    let txn = mall.read().await;
    let events = outbox_events::Entity::find()
        .order_by_asc(outbox_events::Column::Id)
        .all(&*txn)
        .await
        .unwrap();
    events.into_iter().map(|e| e.topic).collect()
}

#[tokio::test]
async fn an_order_is_paid_fulfilled_and_refunded_and_wrong_steps_are_refused() {
    let mall = Mall::open(10, 10).await;
    let order = mall.order_lamps(2).await;
    let id = order["id"].as_str().unwrap();
    let early = mall.act(id, "fulfill").await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    assert_eq!(early.code(), "invalid_transition");
    assert!(early.body["detail"]
        .as_str()
        .unwrap()
        .contains("`pending_payment` cannot become `fulfilled`"));
    assert_eq!(mall.act(id, "refund").await.code(), "invalid_transition");

    let paid = mall.act(id, "pay").await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);
    assert!(paid.body["paid_at"].is_string());
    assert_eq!(mall.act(id, "pay").await.code(), "invalid_transition");
    let fulfilled = mall.act(id, "fulfill").await;
    assert_eq!(fulfilled.body["status"], "fulfilled");
    assert_eq!(mall.act(id, "cancel").await.code(), "invalid_transition");
    let refunded = mall.act(id, "refund").await;
    assert_eq!(refunded.body["status"], "refunded");
    assert!(refunded.body["refunded_at"].is_string());
    assert_eq!(mall.stock(&mall.lamp).await, 8, "a refund does not restock");
    let after = mall.act(id, "cancel").await;
    assert!(after.body["detail"]
        .as_str()
        .unwrap()
        .contains("`refunded` cannot become `cancelled`"));
    assert_eq!(
        topics(&mall).await,
        ["order.created", "order.paid", "order.fulfilled", "order.refunded"]
    );

    assert_eq!(
        mall.act(&Uuid::now_v7().to_string(), "pay").await.status,
        StatusCode::NOT_FOUND
    );
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let second = app.create_store(token, "Second", "second").await;
    let elsewhere = format!("/api/v1/stores/{}/orders/{id}/cancel", second["id"].as_str().unwrap());
    assert_eq!(
        app.post(&elsewhere, token, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn cancelling_gives_stock_and_claims_back_and_lists_filter_by_status() {
    let mall = Mall::open(10, 10).await;
    let promo = mall.install("claim_promo", "promo", json!({}), 10).await;
    let kept = mall.order_lamps(1).await;
    let order = mall.order_lamps(3).await;
    assert_eq!(order["adjustments"][0]["label"], "Promo");
    assert_eq!(
        (mall.stock(&mall.lamp).await, mall.counter(promo, "promo", "").await),
        (6, 2)
    );
    let id = order["id"].as_str().unwrap();
    let paid = mall.act(id, "pay").await;
    assert_eq!(paid.status, StatusCode::OK);
    let cancelled = mall.act(id, "cancel").await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(
        (mall.stock(&mall.lamp).await, mall.counter(promo, "promo", "").await),
        (9, 1)
    );
    assert_eq!(mall.act(id, "cancel").await.code(), "invalid_transition");
    assert_eq!(mall.stock(&mall.lamp).await, 9);

    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let cancelled_list = app.get(&mall.orders("?status=cancelled"), token).await;
    assert_eq!(cancelled_list.items().len(), 1);
    assert_eq!(cancelled_list.items()[0]["id"], id);
    let pending = app.get(&mall.orders("?status=pending_payment"), token).await;
    assert_eq!(pending.items()[0]["id"], kept["id"]);
    assert_eq!(
        app.get(&mall.orders("?status=lost"), token).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        topics(&mall).await,
        ["order.created", "order.created", "order.paid", "order.cancelled"]
    );
}
