use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{admin_token, after_period, choose, invoice, invoices, plan};
use crate::marketplace::Market;

#[tokio::test]
async fn a_usage_record_sent_twice_is_counted_once() {
    let market = Market::open().await;
    let app = &market.app;
    let admin = admin_token(app).await;
    let p = plan(app, &admin, "basic", 1000, 0, json!({})).await;
    choose(app, &market.t, &p).await;
    let record =
        json!({"tenant_id": market.t.tenant_id, "id": Uuid::now_v7(), "metric": "plugin_calls", "quantity": 1500});
    let first = app.post("/api/v1/admin/billing/usage", &admin, record.clone()).await;
    assert_eq!(
        (first.status, first.body["counted"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{}",
        first.body
    );
    let again = app.post("/api/v1/admin/billing/usage", &admin, record).await;
    assert_eq!(again.body["counted"], false);
    let usage = app.get("/api/v1/billing/usage", &market.t.token).await;
    assert_eq!(usage.body["plugin_calls"], 1500);
    let other = app.signup("bob@example.com", "Bob").await;
    let r = app
        .post(
            "/api/v1/admin/billing/usage",
            &admin,
            json!({"tenant_id": other.tenant_id, "id": Uuid::now_v7(), "metric": "orders", "quantity": 1}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "no subscription, nothing to meter");
    assert_eq!(
        app.get("/api/v1/billing/usage", &other.token).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn rentals_and_calls_are_invoiced_and_the_author_gets_the_share() {
    let market = Market::open().await;
    let app = &market.app;
    let admin = admin_token(app).await;
    let r = app
        .put(
            "/api/v1/admin/plugins/discount/price",
            &admin,
            json!({"monthly_price": 1000, "per_thousand_calls": 200, "currency": "EUR"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let p = plan(app, &admin, "basic", 2000, 0, json!({})).await;
    let sub = choose(app, &market.t, &p).await;
    let install = market.install("discount", json!({})).await;
    let install_id = install["id"].as_str().unwrap().to_string();
    let wasm = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    for _ in 0..3 {
        let active = market.active().await;
        market.record(&active[0], &wasm).await;
    }
    app.post(
        "/api/v1/admin/billing/usage",
        &admin,
        json!({"tenant_id": market.t.tenant_id, "id": Uuid::now_v7(), "metric": "plugin_calls",
               "install_id": install_id, "quantity": 2497}),
    )
    .await;

    super::run_at(app, &admin, after_period(&sub)).await;
    let inv = invoice(app, &market.t, &invoices(app, &market.t).await[0]).await;
    let lines = inv["lines"].as_array().unwrap();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["plan", "rental", "usage"], "{inv}");
    let rental = lines[1]["amount"]["amount"].as_i64().unwrap();
    assert!(
        (995..=1000).contains(&rental),
        "installed seconds after the period began: {rental}"
    );
    assert_eq!(lines[2]["quantity"], 2500);
    assert_eq!(lines[2]["amount"]["amount"], 500, "2,500 calls at 2.00 per 1,000");
    assert_eq!(inv["total"]["amount"], 2000 + rental + 500);

    let ledger = app.get("/api/v1/admin/billing/ledger?author=livemall", &admin).await;
    let entries = ledger.items();
    assert_eq!(entries.len(), 1, "{}", ledger.body);
    assert_eq!(entries[0]["gross"]["amount"], rental + 500);
    assert_eq!(entries[0]["share"]["amount"], (rental + 500) * 80 / 100);
}
