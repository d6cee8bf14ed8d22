//! A coupon and a flash deal on the same line, by the documented rules: the
//! deal (priority 10) is exclusive on its line unless `stack_with` lists
//! `coupon`; an exclusive coupon with a lower priority beats it; discounts
//! are capped so no line or total goes below zero; a plug-in whose
//! adjustments were all skipped does not use up its claims.

use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{applied_by, install, mall};

fn deal(stack_with: Value) -> Value {
    json!({"deals": [{"id": "lamp", "variant": "LAMP", "price": 2900, "quantity": 10}], "stack_with": stack_with})
}

fn cart(codes: &[&str], lines: Value) -> Value {
    json!({"email": "sam@example.com", "codes": codes, "lines": lines})
}

#[tokio::test]
async fn by_default_the_deal_is_the_only_discount_on_its_line_and_the_coupon_takes_the_others() {
    let mall = mall(10, 10).await;
    install(&mall, "flash-deals", deal(json!([])), 10).await;
    let coupon = json!({"campaigns": [{"id": "spring", "codes": ["SPRING"], "discount": "percentage", "percent": 10, "usage_limit": 5}]});
    let coupons: Uuid = install(&mall, "coupons", coupon, 100).await.parse().unwrap();
    let body = cart(
        &["SPRING"],
        json!([{"sku": "LAMP", "quantity": 1}, {"sku": "BULB", "quantity": 1}]),
    );
    let quote = mall.price(body.clone()).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(quote.body["lines"][0]["adjustments"].as_array().unwrap().len(), 1);
    assert_eq!(quote.body["lines"][0]["adjustments"][0]["class"], "flash_deal");
    assert_eq!(quote.body["lines"][1]["adjustments"][0]["amount"], -50);
    let skipped = &quote.body["skipped"][0];
    assert_eq!(
        (skipped["line"].clone(), skipped["code"].clone()),
        (json!(0), json!("SPRING"))
    );
    assert_eq!(
        skipped["reason"],
        "\"Flash deal: 29.00 EUR\" is exclusive on this target"
    );
    assert_eq!(quote.body["total"], 2900 + 450);
    let order = mall.checkout(&Uuid::new_v4().to_string(), body).await;
    assert_eq!(order.body["total"], 2900 + 450, "{}", order.body);
    assert_eq!(mall.counter(coupons, "use:spring", "").await, 1);
}

#[tokio::test]
async fn a_deal_that_stacks_with_coupons_takes_both_and_no_total_goes_below_zero() {
    let mall = mall(10, 10).await;
    install(&mall, "flash-deals", deal(json!(["coupon"])), 10).await;
    let coupons = json!({"campaigns": [
        {"id": "all", "codes": ["ALL"], "discount": "percentage", "percent": 100},
        {"id": "fix", "codes": ["FIX"], "discount": "fixed_amount", "amount": 10000}]});
    install(&mall, "coupons", coupons, 100).await;
    let body = cart(&["ALL", "FIX"], json!([{"sku": "LAMP", "quantity": 1}]));
    let order = mall.checkout("both", body).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert_eq!(applied_by(&order.body, "flash-deals"), vec![(Some(0), -2000)]);
    // The 100% coupon is capped at what the line still costs; the order discount finds nothing left.
    assert_eq!(applied_by(&order.body, "coupons"), vec![(Some(0), -2900)]);
    assert_eq!(
        (
            order.body["total"].clone(),
            order.body["lines"][0]["adjusted_total"].clone()
        ),
        (json!(0), json!(0))
    );
    assert_eq!(order.body["subtotal"], 4900);
    assert_eq!(order.body["adjustments_total"], -4900);
}

#[tokio::test]
async fn an_exclusive_coupon_ahead_of_the_deal_wins_the_line_and_the_deal_unit_stays_unsold() {
    let mall = mall(10, 10).await;
    let deals: Uuid = install(&mall, "flash-deals", deal(json!([])), 10)
        .await
        .parse()
        .unwrap();
    let vip = json!({"campaigns": [{"id": "vip", "codes": ["VIP"], "discount": "percentage", "percent": 50, "exclusive": true, "priority": 5}]});
    install(&mall, "coupons", vip, 100).await;
    let order = mall
        .checkout("vip", cart(&["VIP"], json!([{"sku": "LAMP", "quantity": 1}])))
        .await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert_eq!(applied_by(&order.body, "coupons"), vec![(Some(0), -2450)]);
    assert!(applied_by(&order.body, "flash-deals").is_empty());
    assert_eq!(mall.counter(deals, "deal:lamp", "").await, 0);
    let plain = mall
        .checkout("plain", cart(&[], json!([{"sku": "LAMP", "quantity": 1}])))
        .await;
    assert_eq!(applied_by(&plain.body, "flash-deals"), vec![(Some(0), -2000)]);
    assert_eq!(mall.counter(deals, "deal:lamp", "").await, 1);
}
