use livemall::db::Access;
use livemall::marketplace::pipeline;
use livemall_abi::Hook;
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{admin_token, choose, id, plan};
use crate::marketplace::Market;
use crate::orders::Mall;

#[tokio::test]
async fn a_store_past_the_plan_limit_is_refused_naming_the_limit_and_the_plan_that_lifts_it() {
    let market = Market::open().await;
    let app = &market.app;
    let admin = admin_token(app).await;
    let one = plan(
        app,
        &admin,
        "one-store",
        1000,
        0,
        json!({"stores": 1, "plugin_installs": 1}),
    )
    .await;
    plan(app, &admin, "three-stores", 3000, 0, json!({"stores": 3})).await;
    plan(
        app,
        &admin,
        "two-stores",
        2000,
        0,
        json!({"stores": 2, "plugin_installs": 0}),
    )
    .await;
    choose(app, &market.t, &one).await;
    let r = app
        .post(
            "/api/v1/stores",
            &market.t.token,
            json!({"name": "Second", "currency": "EUR"}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "plan_limit_reached"),
        "{}",
        r.body
    );
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("`stores`") && detail.contains("`one-store`"),
        "{detail}"
    );
    assert!(
        detail.contains("`two-stores` plan lifts it"),
        "the cheapest that lifts it: {detail}"
    );

    market.install("hello", json!({})).await;
    let r = app
        .post(
            &market.path(""),
            &market.t.token,
            json!({"plugin": "discount", "config": {}}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "plan_limit_reached"));
    assert!(r.body["detail"].as_str().unwrap().contains("`plugin_installs`"));
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("`three-stores` plan lifts it"),
        "two-stores allows no installs: {}",
        r.body
    );
}

#[tokio::test]
async fn orders_past_the_monthly_limit_are_refused_and_the_refusal_leaves_no_order() {
    orders_past_the_monthly_limit(false).await;
}

/// The same with an install on the store, whose read brings the account
/// the checkout goes by (on SQLite, in place of a statement of its own).
#[tokio::test]
async fn orders_past_the_monthly_limit_are_refused_in_a_store_with_plug_ins() {
    orders_past_the_monthly_limit(true).await;
}

async fn orders_past_the_monthly_limit(with_install: bool) {
    let mall = Mall::open(10, 10).await;
    let app = &mall.shop.app;
    let admin = admin_token(app).await;
    let small = plan(app, &admin, "small", 1000, 0, json!({"orders_per_month": 2})).await;
    plan(app, &admin, "big", 5000, 0, json!({})).await;
    choose(app, &mall.shop.t, &small).await;
    if with_install {
        let config = json!({"adjustments": [{"amount": -100, "label": "One off"}]});
        mall.install("config_effects", "generous", config, 10).await;
    }
    mall.order_lamps(1).await;
    mall.order_lamps(1).await;
    let body = json!({"email": "guest@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 1}]});
    let r = mall.checkout(&Uuid::new_v4().to_string(), body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::FORBIDDEN, "plan_limit_reached"),
        "{}",
        r.body
    );
    assert!(r.body["detail"].as_str().unwrap().contains("`orders_per_month`"));
    assert!(r.body["detail"].as_str().unwrap().contains("`big` plan lifts it"));
    let usage = app.get("/api/v1/billing/usage", &mall.shop.t.token).await;
    assert_eq!(usage.body["orders"], 2);
    let list = app.get(&mall.orders(""), &mall.shop.t.token).await;
    assert_eq!(list.items().len(), 2, "the refused checkout rolled back");
    if with_install {
        let priced = &list.items()[0];
        assert_eq!(
            priced["adjustments_total"], -100,
            "the plug-in priced the orders: {priced}"
        );
    }
}

#[tokio::test]
async fn plug_ins_stop_running_once_the_period_calls_are_used_up() {
    let market = Market::open().await;
    let app = &market.app;
    let admin = admin_token(app).await;
    let p = plan(app, &admin, "calls", 1000, 0, json!({"plugin_calls_per_month": 2})).await;
    choose(app, &market.t, &p).await;
    market.install("discount", json!({})).await;
    let wasm = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    for _ in 0..2 {
        let active = market.active().await;
        assert_eq!(active.len(), 1);
        market.record(&active[0], &wasm).await;
    }
    // Calls are metered as the call journal writes them.
    app.state.calls.flush().await;
    let txn = app.db.tenant(market.t.tenant_id, Access::Read).await.unwrap();
    let left = pipeline::installs_for(&app.state, &txn, market.store_uuid(), Hook::CartPrice)
        .await
        .unwrap();
    assert!(left.is_empty(), "no calls left this period");
    let usage = app.get("/api/v1/billing/usage", &market.t.token).await;
    assert_eq!(usage.body["plugin_calls"], 2);
}

#[tokio::test]
async fn orders_counted_without_a_limit_count_towards_a_limit_set_later() {
    let mall = Mall::open(100, 10).await;
    let app = &mall.shop.app;
    let admin = admin_token(app).await;
    let open = plan(app, &admin, "open", 1000, 0, json!({})).await;
    choose(app, &mall.shop.t, &open).await;
    let replies = mall.rush(12).await;
    assert!(replies.iter().all(|r| r.status == StatusCode::CREATED));
    let usage = app.get("/api/v1/billing/usage", &mall.shop.t.token).await;
    assert_eq!(usage.body["orders"], 12);

    let r = app
        .patch(
            &format!("/api/v1/admin/plans/{}", id(&open)),
            &admin,
            json!({"limits": {"orders_per_month": 14}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let replies = mall.rush(10).await;
    let created = replies.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let refused = replies.iter().filter(|r| r.code() == "plan_limit_reached").count();
    assert_eq!((created, refused), (2, 8), "the limit counts the 12 before it, exactly");
    let usage = app.get("/api/v1/billing/usage", &mall.shop.t.token).await;
    assert_eq!(usage.body["orders"], 14);
}
