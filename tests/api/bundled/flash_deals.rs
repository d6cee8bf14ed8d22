//! Flash deals: exactly the stated quantity at the deal price, under a race
//! of hundreds of shoppers, and units given back by a cancel.

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{applied_by, count, install, mall, statuses, IN_FLIGHT, RACES};
use crate::orders::Mall;

/// A deal of `quantity` lamps at 29.00 in a window around now.
fn lamp_deal(quantity: u64, extra: Value) -> Value {
    let mut deal = json!({"id": "lamp-drop", "variant": "LAMP", "price": 2900, "quantity": quantity,
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"});
    for (k, v) in extra.as_object().unwrap() {
        deal[k] = v.clone();
    }
    json!({"deals": [deal]})
}

/// `n` different shoppers order one lamp each, [`IN_FLIGHT`] at a time.
async fn race(mall: &Mall, n: usize) -> Vec<crate::helpers::Reply> {
    let bodies: Vec<(String, Value)> = (0..n)
        .map(|i| {
            let body = json!({"email": format!("shopper{i}@example.com"), "lines": [{"sku": "LAMP", "quantity": 1}]});
            (Uuid::new_v4().to_string(), body)
        })
        .collect();
    futures_util::stream::iter(bodies)
        .map(|(key, body)| async move { mall.checkout(&key, body).await })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await
}

fn at_deal_price(replies: &[crate::helpers::Reply]) -> usize {
    replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED && applied_by(&r.body, "flash-deals") == vec![(Some(0), -2000)])
        .count()
}

#[tokio::test]
async fn five_hundred_shoppers_race_for_a_hundred_deal_units_and_exactly_a_hundred_are_sold_at_the_deal_price() {
    let _one_race_at_a_time = RACES.lock().await;
    let mall = mall(1000, 10).await;
    let id = install(
        &mall,
        "flash-deals",
        lamp_deal(100, json!({"when_unavailable": "refuse"})),
        10,
    )
    .await;
    let replies = race(&mall, 500).await;
    let deal = at_deal_price(&replies);
    let created = count(&replies, StatusCode::CREATED, "");
    let sold_out = count(&replies, StatusCode::UNPROCESSABLE_ENTITY, "order_rejected");
    let raced = count(&replies, StatusCode::CONFLICT, "claim_refused");
    assert_eq!(created + sold_out + raced, 500, "{:?}", statuses(&replies));
    // A call that fails (a starved machine can pass the 50 ms deadline) lets
    // its order through at the regular price: fail open. The deal price goes
    // to min(100, answered calls) orders, never more.
    let answered = mall.calls("ok").await;
    assert_eq!(deal, answered.min(100), "{:?}", statuses(&replies));
    assert_eq!(
        created - deal,
        500 - answered,
        "only unanswered calls pass at the regular price"
    );
    let install_id: Uuid = id.parse().unwrap();
    assert_eq!(mall.counter(install_id, "deal:lamp-drop", "").await, deal as i64);
    if let Some(r) = replies.iter().find(|r| r.code() == "claim_refused") {
        assert_eq!(r.body["detail"], "The flash deal on Lamp has just sold out.");
    }
    assert_eq!(mall.stock(&mall.lamp).await, 1000 - created as i64);
    // Once sold out, pricing already says so.
    let late = race(&mall, 1).await.remove(0);
    if deal == 100 {
        assert_eq!(
            (late.status, late.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "order_rejected")
        );
        assert_eq!(late.body["detail"], "The flash deal on Lamp is sold out.");
        assert!(late.body["errors"]["flash_deal_sold_out"].is_array(), "{}", late.body);
    }
}

#[tokio::test]
async fn after_the_deal_sells_out_shoppers_pay_the_regular_price_when_so_configured() {
    let _one_race_at_a_time = RACES.lock().await;
    let mall = mall(1000, 10).await;
    install(&mall, "flash-deals", lamp_deal(100, json!({})), 10).await;
    let replies = race(&mall, 500).await;
    let deal = at_deal_price(&replies);
    let created = count(&replies, StatusCode::CREATED, "");
    let raced = count(&replies, StatusCode::CONFLICT, "claim_refused");
    assert_eq!(created + raced, 500, "{:?}", statuses(&replies));
    assert_eq!(deal, mall.calls("ok").await.min(100));
    let regular = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED && r.body["total"] == 4900)
        .count();
    assert_eq!(regular + deal, created);
    // Those who lost the race at the last unit are told to order again, and then pay the regular price.
    if let Some(r) = replies.iter().find(|r| r.code() == "claim_refused") {
        assert_eq!(
            r.body["detail"],
            "The flash deal on Lamp has just sold out; order again to buy at the regular price."
        );
    }
    let again = mall
        .checkout(
            "again",
            json!({"email": "late@example.com", "lines": [{"sku": "LAMP", "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (again.status, again.body["total"].clone()),
        (StatusCode::CREATED, json!(4900)),
        "{}",
        again.body
    );
}

#[tokio::test]
async fn a_cancelled_order_gives_its_deal_units_back_and_the_per_customer_limit_holds() {
    let shop = mall(100, 10).await;
    let mall = &shop;
    let config = lamp_deal(3, json!({"per_customer_limit": 2}));
    let id: Uuid = install(mall, "flash-deals", config, 10).await.parse().unwrap();
    let order = |email: &str, quantity: i64| {
        let body = json!({"email": email, "lines": [{"sku": "LAMP", "quantity": quantity}]});
        let key = Uuid::new_v4().to_string();
        async move { mall.checkout(&key, body).await }
    };
    // Three wanted, two allowed per customer: two at the deal price, one at the regular price.
    let first = order("ann@example.com", 3).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(applied_by(&first.body, "flash-deals"), vec![(Some(0), -4000)]);
    assert_eq!(first.body["total"], 2 * 2900 + 4900);
    let again = order("ann@example.com", 1).await;
    assert!(applied_by(&again.body, "flash-deals").is_empty(), "{}", again.body);
    let other = order("bob@example.com", 2).await;
    assert_eq!(
        applied_by(&other.body, "flash-deals"),
        vec![(Some(0), -2000)],
        "only one unit was left"
    );
    assert_eq!(mall.counter(id, "deal:lamp-drop", "").await, 3);
    let cancelled = mall.act(first.body["id"].as_str().unwrap(), "cancel").await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.body);
    assert_eq!(mall.counter(id, "deal:lamp-drop", "").await, 1);
    assert_eq!(mall.counter(id, "deal:lamp-drop", "ann@example.com").await, 0);
    let back = order("ann@example.com", 2).await;
    assert_eq!(
        applied_by(&back.body, "flash-deals"),
        vec![(Some(0), -4000)],
        "{}",
        back.body
    );
}

#[tokio::test]
async fn outside_its_window_the_deal_does_not_price_anything() {
    let mall = mall(10, 10).await;
    let ended = lamp_deal(5, json!({"ends_at": "2021-01-01T00:00:00Z"}));
    install(&mall, "flash-deals", ended, 10).await;
    let quote = mall.price(json!({"lines": [{"sku": "LAMP", "quantity": 1}]})).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(
        (quote.body["total"].clone(), quote.body["plugins"][0]["outcome"].clone()),
        (json!(4900), json!("ok"))
    );
}
