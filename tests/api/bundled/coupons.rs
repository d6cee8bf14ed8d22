//! Coupons over HTTP: the README's SPRING code, limits held exactly under
//! concurrent checkouts, a cancelled order giving its use back, and the
//! message for a code that does not apply.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{applied_by, count, install, mall, statuses, RACES};

fn spring(extra: Value) -> Value {
    let mut campaign = json!({"id": "spring", "codes": ["SPRING"], "discount": "percentage", "percent": 10});
    for (k, v) in extra.as_object().unwrap() {
        campaign[k] = v.clone();
    }
    json!({"campaigns": [campaign]})
}

fn lamp_with(code: &str, email: &str) -> Value {
    json!({"email": email, "codes": [code], "lines": [{"sku": "LAMP", "quantity": 1}]})
}

#[tokio::test]
async fn the_readme_spring_code_takes_ten_percent_off_the_line() {
    let mall = mall(10, 10).await;
    let shop = &mall.shop;
    shop.product(crate::catalog::product("Linen shirt", &[("SHIRT-S", 3900, 12)]))
        .await;
    install(&mall, "coupons", spring(json!({})), 100).await;
    let quote = mall
        .price(json!({"lines": [{"sku": "SHIRT-S", "quantity": 2}], "codes": ["spring"], "email": "sam@example.com"}))
        .await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    let adjustment = &quote.body["lines"][0]["adjustments"][0];
    assert_eq!(adjustment["label"], "SPRING: 10% off");
    assert_eq!(
        (
            adjustment["amount"].clone(),
            adjustment["code"].clone(),
            adjustment["class"].clone()
        ),
        (json!(-780), json!("SPRING"), json!("coupon"))
    );
    assert_eq!(adjustment["source"]["plugin_slug"], "coupons");
    assert_eq!(
        (quote.body["subtotal"].clone(), quote.body["total"].clone()),
        (json!(7800), json!(7020))
    );
}

#[tokio::test]
async fn a_code_limited_to_ten_uses_is_used_exactly_ten_times_by_fifty_concurrent_checkouts() {
    let _one_race_at_a_time = RACES.lock().await;
    let mall = mall(1000, 10).await;
    let id: Uuid = install(&mall, "coupons", spring(json!({"usage_limit": 10})), 100)
        .await
        .parse()
        .unwrap();
    let bodies: Vec<Value> = (0..50)
        .map(|i| lamp_with("SPRING", &format!("s{i}@example.com")))
        .collect();
    let mall = &mall;
    let replies = join_all(
        bodies
            .into_iter()
            .map(|b| async move { mall.checkout(&Uuid::new_v4().to_string(), b).await }),
    )
    .await;
    let with_code = replies
        .iter()
        .filter(|r| applied_by(&r.body, "coupons") == vec![(Some(0), -490)])
        .count();
    let answered = mall.calls("ok").await;
    // Fail open: an unanswered call lets its order through without the code.
    assert_eq!(with_code, answered.min(10), "{:?}", statuses(&replies));
    let refused = count(&replies, StatusCode::CONFLICT, "claim_refused")
        + count(&replies, StatusCode::UNPROCESSABLE_ENTITY, "order_rejected");
    assert_eq!(refused, answered - with_code, "{:?}", statuses(&replies));
    assert_eq!(mall.counter(id, "use:spring", "").await, with_code as i64);
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.body["detail"], "SPRING has been used up.", "{}", r.body);
    }
}

#[tokio::test]
async fn one_customer_sending_ten_checkouts_at_once_uses_a_once_per_customer_code_once() {
    let mall = mall(1000, 10).await;
    install(&mall, "coupons", spring(json!({"per_customer_limit": 1})), 100).await;
    let replies = join_all((0..10).map(|_| async {
        mall.checkout(&Uuid::new_v4().to_string(), lamp_with("spring", "Sam@Example.com"))
            .await
    }))
    .await;
    let with_code = replies
        .iter()
        .filter(|r| !applied_by(&r.body, "coupons").is_empty())
        .count();
    let answered = mall.calls("ok").await;
    assert_eq!(with_code, answered.min(1), "{:?}", statuses(&replies));
    for r in replies.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.body["detail"], "You have already used SPRING.", "{}", r.body);
    }
    // Another customer still can.
    let other = mall.checkout("other", lamp_with("SPRING", "kim@example.com")).await;
    assert_eq!(
        applied_by(&other.body, "coupons"),
        vec![(Some(0), -490)],
        "{}",
        other.body
    );
}

#[tokio::test]
async fn a_cancelled_order_gives_its_code_use_back() {
    let mall = mall(100, 10).await;
    let id: Uuid = install(&mall, "coupons", spring(json!({"usage_limit": 1})), 100)
        .await
        .parse()
        .unwrap();
    let first = mall.checkout("first", lamp_with("SPRING", "a@example.com")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let second = mall.checkout("second", lamp_with("SPRING", "b@example.com")).await;
    assert_eq!(
        (second.status, second.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "order_rejected"),
        "{}",
        second.body
    );
    assert_eq!(second.body["detail"], "SPRING has been used up.");
    assert!(
        second.body["errors"]["coupon_limit_reached"].is_array(),
        "{}",
        second.body
    );
    let cancel = mall.act(first.body["id"].as_str().unwrap(), "cancel").await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
    assert_eq!(mall.counter(id, "use:spring", "").await, 0);
    let third = mall.checkout("third", lamp_with("SPRING", "b@example.com")).await;
    assert_eq!(
        applied_by(&third.body, "coupons"),
        vec![(Some(0), -490)],
        "{}",
        third.body
    );
    assert_eq!(mall.counter(id, "use:spring", "").await, 1);
}

#[tokio::test]
async fn a_code_that_does_not_apply_refuses_the_order_and_says_why() {
    let mall = mall(100, 10).await;
    let config = json!({"campaigns": [
        {"id": "big", "codes": ["BIG"], "discount": "fixed_amount", "amount": 1000, "min_subtotal": 10000},
        {"id": "old", "codes": ["OLD"], "discount": "percentage", "percent": 5, "ends_at": "2021-01-01T00:00:00Z"},
        {"id": "bulbs", "codes": ["BULBS"], "discount": "percentage", "percent": 5, "applies_to": {"variants": ["BULB"]}}]});
    install(&mall, "coupons", config, 100).await;
    let cases = [
        (
            "BIG",
            "coupon_minimum_not_met",
            "BIG needs 100.00 EUR of an order; add 51.00 EUR more.",
        ),
        ("old", "coupon_expired", "OLD expired at 2021-01-01T00:00:00Z."),
        (
            "BULBS",
            "coupon_not_applicable",
            "BULBS does not apply to the products in your cart.",
        ),
        ("NOPE", "coupon_unknown", "NOPE is not a valid code."),
    ];
    for (code, reason, message) in cases {
        let quote = mall.price(lamp_with(code, "a@example.com")).await;
        assert_eq!(quote.body["rejections"][0]["code"], reason, "{}", quote.body);
        assert_eq!(quote.body["rejections"][0]["message"], message);
        let r = mall
            .checkout(&Uuid::new_v4().to_string(), lamp_with(code, "a@example.com"))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "order_rejected")
        );
        assert_eq!(r.body["detail"], message);
    }
    assert_eq!(mall.snapshot().await.orders, 0);
}

#[tokio::test]
async fn generated_codes_are_accepted_once_each_and_the_script_makes_the_same_codes() {
    let mall = mall(100, 10).await;
    let config = json!({"campaigns": [{"id": "bulk", "generated": {"prefix": "SPR", "secret": "a long campaign secret", "count": 3},
        "discount": "percentage", "percent": 10, "per_code_limit": 1}]});
    install(&mall, "coupons", config, 100).await;
    // Made by plugins/coupons/generate-codes.py --prefix SPR --secret 'a long campaign secret' --count 3
    let first = mall
        .checkout("one", lamp_with("spr-00009ee1sng4", "a@example.com"))
        .await;
    assert_eq!(
        applied_by(&first.body, "coupons"),
        vec![(Some(0), -490)],
        "{}",
        first.body
    );
    let reused = mall
        .checkout("two", lamp_with("SPR-00009EE1SNG4", "b@example.com"))
        .await;
    assert_eq!((reused.status, reused.code()), (StatusCode::CONFLICT, "claim_refused"));
    assert_eq!(
        reused.body["detail"], "The code SPR-00009EE1SNG4 has already been used.",
        "{}",
        reused.body
    );
    let next = mall
        .checkout("three", lamp_with("SPR-0001521AEWCN", "b@example.com"))
        .await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.body);
    let forged = mall
        .checkout("four", lamp_with("SPR-0003AAAAAAAA", "c@example.com"))
        .await;
    assert_eq!(forged.body["detail"], "SPR-0003AAAAAAAA is not a valid code.");
}

#[tokio::test]
async fn five_thousand_spent_single_use_codes_stay_out_of_the_input_and_a_spent_one_is_told_in_the_quote() {
    use livemall::entities::plugin_counters;
    use sea_orm::{EntityTrait, Set};

    let mall = mall(100, 10).await;
    let config = json!({"campaigns": [{"id": "bulk", "generated": {"prefix": "SPR", "secret": "a long campaign secret", "count": 20000},
        "discount": "percentage", "percent": 10, "per_code_limit": 1}]});
    let install_id: Uuid = install(&mall, "coupons", config, 100).await.parse().unwrap();
    // 5,000 redeemed codes: listed, they would be ~300 KB of input, past the 256 KiB limit.
    let txn = mall
        .shop
        .app
        .db
        .tenant(mall.shop.t.tenant_id, livemall::db::Access::Write)
        .await
        .unwrap();
    for chunk in (0..5000).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().map(|i| plugin_counters::ActiveModel {
            tenant_id: Set(mall.shop.t.tenant_id),
            install_id: Set(install_id),
            key: Set(format!("#code:bulk:SPR-SPENT{i:08}")),
            scope_key: Set(String::new()),
            used: Set(1),
            updated_at: Set(chrono::Utc::now()),
        });
        plugin_counters::Entity::insert_many(rows)
            .exec_without_returning(&*txn)
            .await
            .unwrap();
    }
    txn.commit().await.unwrap();

    let quote = mall.price(lamp_with("SPR-00009EE1SNG4", "a@example.com")).await;
    assert_eq!(quote.body["plugins"][0]["outcome"], "ok", "{}", quote.body);
    assert_eq!(quote.body["total"], 4410, "{}", quote.body);
    assert_eq!(quote.body["rejections"], json!([]));
    let placed = mall
        .checkout("first", lamp_with("SPR-00009EE1SNG4", "a@example.com"))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    let quote = mall.price(lamp_with("spr-00009ee1sng4", "b@example.com")).await;
    assert_eq!(quote.body["rejections"][0]["code"], "claim_refused", "{}", quote.body);
    assert_eq!(
        quote.body["rejections"][0]["message"],
        "The code SPR-00009EE1SNG4 has already been used."
    );
    assert_eq!(quote.body["rejections"][0]["source"]["plugin_slug"], "coupons");
    let again = mall
        .checkout("second", lamp_with("spr-00009ee1sng4", "b@example.com"))
        .await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "claim_refused"),
        "{}",
        again.body
    );
}
