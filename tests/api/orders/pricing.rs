//! Pricing through real plug-ins: stacking, rejections, and plug-ins that fail.

use livemall::db::Access;
use livemall::entities::{install_calls, orders, plugin_counters};
use livemall::orders::stacking::stack;
use livemall::plugin_host::{CallRequest, Limits};
use livemall_abi::{Cart, CartLine, Counter, CounterScope, Hook, Input, InstallInfo, ABI_VERSION};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, Set};
use serde_json::{json, Value};

use super::Mall;
use crate::catalog::product;

fn labels(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect()
}

/// 2 lamps (98.00) and 3 bulbs (15.00).
fn basket(mall: &Mall) -> Value {
    json!({
        "email": "guest@example.com",
        "lines": [{"variant_id": mall.lamp, "quantity": 2}, {"variant_id": mall.bulb, "quantity": 3}]
    })
}

#[tokio::test]
async fn adjustments_of_several_plug_ins_stack_by_the_documented_rules() {
    let mall = Mall::open(10, 10).await;
    let coupons = json!({"adjustments": [
        {"line": 0, "amount": -1000, "label": "SPRING", "code": "SPRING", "class": "coupon"},
        {"amount": -500, "label": "Order coupon", "class": "coupon", "combines_with": ["coupon"]}
    ]});
    let deals = json!({"adjustments": [
        {"line": 1, "amount": -200, "label": "Bulb coupon", "class": "coupon"},
        {"line": 1, "amount": -1500, "label": "Bulbs free", "class": "flash_deal", "exclusive": true},
        {"line": 0, "amount": 250, "label": "Gift wrap", "class": "fee"},
        {"amount": -300, "label": "Loyalty", "class": "loyalty"}
    ]});
    let coupons_install = mall.install("config_effects", "coupons", coupons, 10).await;
    mall.install("config_effects", "deals", deals, 20).await;

    let quote = mall.price(basket(&mall)).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    let q = &quote.body;
    assert_eq!(labels(&q["lines"][0]["adjustments"]), ["SPRING", "Gift wrap"]);
    assert_eq!(q["lines"][0]["adjusted_total"], 9800 - 1000 + 250);
    assert_eq!(labels(&q["lines"][1]["adjustments"]), ["Bulbs free"]);
    assert_eq!(q["lines"][1]["adjusted_total"], 0);
    assert_eq!(labels(&q["adjustments"]), ["Order coupon"]);
    assert_eq!(labels(&q["skipped"]), ["Bulb coupon", "Loyalty"]);
    assert!(q["skipped"][0]["reason"].as_str().unwrap().contains("exclusive"), "{q}");
    assert!(
        q["skipped"][1]["reason"].as_str().unwrap().contains("does not combine"),
        "{q}"
    );
    assert_eq!(
        (q["subtotal"].as_i64(), q["adjustments_total"].as_i64()),
        (Some(11_300), Some(-2750))
    );
    assert_eq!(q["total"], 8550);
    let spring = &q["lines"][0]["adjustments"][0];
    assert_eq!(spring["code"], "SPRING");
    assert_eq!(spring["source"]["plugin_slug"], "coupons");
    assert_eq!(spring["source"]["version"], "1.0.0");
    assert_eq!(spring["source"]["install_id"], coupons_install.to_string());
    let outcomes: Vec<&Value> = q["plugins"].as_array().unwrap().iter().map(|p| &p["outcome"]).collect();
    assert_eq!(outcomes, [&json!("ok"), &json!("ok")]);

    let placed = mall.checkout("k1", basket(&mall)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["total"], 8550);
    let kept = &placed.body["adjustments"];
    assert_eq!(labels(kept), ["SPRING", "Order coupon", "Bulbs free", "Gift wrap"]);
    assert_eq!(kept[0]["plugin_slug"], "coupons");
    assert_eq!(kept[0]["version"], "1.0.0");
    assert_eq!(kept[0]["line"], 0);
    assert!(kept[1]["line"].is_null());
    assert_eq!(placed.body["lines"][1]["adjusted_total"], 0);
}

#[tokio::test]
async fn a_discount_larger_than_the_cart_takes_the_total_to_zero_not_below() {
    let mall = Mall::open(10, 10).await;
    let config = json!({"adjustments": [
        {"line": 1, "amount": -99_999, "label": "Free bulbs"},
        {"amount": -1_000_000, "label": "Everything free"},
        {"amount": -1, "label": "One more cent"}
    ]});
    mall.install("config_effects", "generous", config, 10).await;
    let q = mall.price(basket(&mall)).await.body;
    assert_eq!(q["lines"][1]["adjustments"][0]["amount"], -1500);
    assert_eq!(q["adjustments"][0]["amount"], -9800);
    assert_eq!(q["skipped"][0]["reason"], "nothing left to discount");
    assert_eq!(
        (q["total"].as_i64(), q["adjustments_total"].as_i64()),
        (Some(0), Some(-11_300))
    );
    let placed = mall.checkout("free", basket(&mall)).await;
    assert_eq!(placed.body["total"], 0, "{}", placed.body);
}

#[tokio::test]
async fn a_rejection_shows_in_the_quote_and_refuses_the_order() {
    let mall = Mall::open(10, 10).await;
    let config = json!({"reject": {"code": "too_early", "message": "Sales open at noon."}});
    mall.install("config_effects", "gate", config, 10).await;
    let q = mall.price(basket(&mall)).await.body;
    assert_eq!(q["rejections"][0]["code"], "too_early");
    assert_eq!(q["rejections"][0]["source"]["plugin_slug"], "gate");
    let before = mall.snapshot().await;
    let refused = mall.checkout("k1", basket(&mall)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.code(), "order_rejected");
    assert_eq!(refused.body["detail"], "Sales open at noon.");
    assert_eq!(refused.body["errors"]["too_early"][0], "Sales open at noon.");
    assert_eq!(mall.snapshot().await, before);
}

#[tokio::test]
async fn failing_plug_ins_are_skipped_recorded_and_checkout_goes_on() {
    let mall = Mall::open(10, 10).await;
    let trap = mall.install("trap_midway", "trap", json!({}), 10).await;
    let looping = mall.install("loop", "loop", json!({}), 20).await;
    let discount = json!({"adjustments": [{"amount": -300, "label": "Still here"}]});
    mall.install("config_effects", "discount", discount, 30).await;

    let q = mall.price(basket(&mall)).await.body;
    let outcomes: Vec<&str> = q["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["outcome"].as_str().unwrap())
        .collect();
    // The loop ends on fuel, or on the deadline when the machine is busy.
    assert_eq!((outcomes[0], outcomes[2]), ("trap", "ok"));
    assert!(["out_of_fuel", "deadline"].contains(&outcomes[1]), "{outcomes:?}");
    assert_eq!(q["total"], 11_000);
    let placed = mall.checkout("k1", basket(&mall)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["total"], 11_000);

    let txn = mall.read().await;
    let calls = install_calls::Entity::find().all(&*txn).await.unwrap();
    let outcome_of = |install| {
        let mut seen: Vec<&str> = calls
            .iter()
            .filter(|c| c.install_id == install)
            .map(|c| c.outcome.as_str())
            .collect();
        seen.dedup();
        seen
    };
    assert_eq!(outcome_of(trap), ["trap"]);
    assert!(outcome_of(looping)
        .iter()
        .all(|o| ["out_of_fuel", "deadline"].contains(o)));
    assert_eq!(
        calls.iter().filter(|c| c.outcome == "ok").count(),
        2,
        "successes are recorded too"
    );
}

#[tokio::test]
async fn an_orders_price_replays_from_the_input_kept_with_it() {
    let mall = Mall::open(10, 10).await;
    let config = json!({"adjustments": [
        {"line": 0, "amount": -700, "label": "Lamp deal", "class": "flash_deal"},
        {"amount": -100, "label": "Welcome"}
    ]});
    mall.install("config_effects", "deals", config, 10).await;
    let placed = mall.checkout("r1", basket(&mall)).await;
    assert_eq!(placed.body["total"], 11_300 - 800, "{}", placed.body);

    let txn = mall.read().await;
    let record = orders::Entity::find().one(&*txn).await.unwrap().unwrap().pricing;
    let cart: Cart = serde_json::from_value(record["cart"].clone()).unwrap();
    assert!(cart.checkout);
    assert_eq!(cart.customer.as_ref().unwrap().key, "guest@example.com");
    let host = &mall.shop.app.state.host;
    let wasm = wat::parse_file(crate::plugin_host::guest_path("config_effects")).unwrap();
    let plugin = host.load(&wasm, &Limits::default()).unwrap();
    let mut proposals = vec![];
    for install in record["installs"].as_array().unwrap() {
        assert_eq!(install["version"], "1.0.0");
        let input = Input {
            abi: ABI_VERSION,
            hook: Hook::CartPrice,
            event_id: None,
            now_ms: record["now_ms"].as_i64().unwrap(),
            store: serde_json::from_value(record["store"].clone()).unwrap(),
            install: InstallInfo {
                id: install["install_id"].as_str().unwrap().into(),
                config: install["config"].clone(),
            },
            counters: serde_json::from_value(install["counters"].clone()).unwrap(),
            event: &cart,
        };
        let request = CallRequest::new(Hook::CartPrice, serde_json::to_vec(&input).unwrap());
        let outcome = host.call(&plugin, &request, &Limits::default()).unwrap();
        proposals.extend(outcome.effects.adjustments);
    }
    let totals: Vec<i64> = cart.lines.iter().map(CartLine::total).collect();
    let replayed = stack(&totals, &proposals);
    assert_eq!(Some(replayed.total), placed.body["total"].as_i64());
    assert_eq!(
        Some(replayed.adjustments_total),
        placed.body["adjustments_total"].as_i64()
    );
}

#[tokio::test]
async fn a_price_past_its_valid_until_is_never_committed_and_the_cart_is_priced_again_once() {
    let mall = Mall::open(10, 10).await;
    // Ended long ago: every pricing proposes it, no order may commit it.
    let ended =
        json!({"adjustments": [{"amount": -700, "label": "Countdown", "class": "live_price", "valid_until_ms": 1}]});
    mall.install("config_effects", "countdown", ended, 10).await;
    let quote = mall.price(basket(&mall)).await;
    assert_eq!(quote.body["total"], 10_600, "{}", quote.body);
    let calls = mall.calls("ok").await;
    let before = mall.snapshot().await;
    let refused = mall.checkout("late", basket(&mall)).await;
    assert_eq!(
        (refused.status, refused.code()),
        (StatusCode::CONFLICT, "price_changed"),
        "{}",
        refused.body
    );
    assert_eq!(mall.snapshot().await, before);
    // Priced at checkout, found expired, priced again, expired again.
    assert_eq!(mall.calls("ok").await, calls + 2);
}

#[tokio::test]
async fn a_price_valid_until_a_later_instant_is_committed_and_the_order_is_placed_before_it() {
    let mall = Mall::open(10, 10).await;
    let until = chrono::Utc::now().timestamp_millis() + 3_600_000;
    let live = json!({"adjustments": [{"amount": -700, "label": "Countdown", "class": "live_price", "valid_until_ms": until}]});
    mall.install("config_effects", "countdown", live, 10).await;
    let placed = mall.checkout("in-time", basket(&mall)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["total"], 10_600);
    let at: chrono::DateTime<chrono::Utc> = placed.body["created_at"].as_str().unwrap().parse().unwrap();
    assert!(at.timestamp_millis() < until);
}

#[tokio::test]
async fn plug_ins_see_each_lines_tags_and_only_their_own_and_this_customers_counters() {
    let mall = Mall::open(10, 10).await;
    let mut shirt = product("Shirt", &[("SHIRT", 2500, 5)]);
    shirt["tags"] = json!(["summer", "linen", "sale"]);
    let shirt = mall.shop.product(shirt).await;
    let none = json!({"adjustments": []});
    let counted = mall.install("config_effects", "counted", none.clone(), 10).await;
    let plain = mall.install("config_effects", "plain", none, 20).await;
    let tenant_id = mall.shop.t.tenant_id;
    let txn = mall.shop.app.db.tenant(tenant_id, Access::Write).await.unwrap();
    let rows = [
        ("uses", "", 3),
        ("per_customer", "guest@example.com", 1),
        ("per_customer", "someone@example.com", 2),
        ("#code:ONE", "", 1),
    ]
    .map(|(key, scope_key, used)| plugin_counters::ActiveModel {
        tenant_id: Set(tenant_id),
        install_id: Set(counted),
        key: Set(key.into()),
        scope_key: Set(scope_key.into()),
        used: Set(used),
        updated_at: Set(chrono::Utc::now()),
    });
    plugin_counters::Entity::insert_many(rows).exec(&*txn).await.unwrap();
    txn.commit().await.unwrap();

    let body = json!({
        "email": "Guest@Example.com",
        "lines": [{"variant_id": shirt["variants"][0]["id"], "quantity": 1}, {"variant_id": mall.lamp, "quantity": 1}]
    });
    let placed = mall.checkout("seen", body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    let txn = mall.read().await;
    let record = orders::Entity::find().one(&*txn).await.unwrap().unwrap().pricing;
    let cart: Cart = serde_json::from_value(record["cart"].clone()).unwrap();
    assert_eq!(cart.lines[0].tags, ["linen", "sale", "summer"], "sorted");
    assert!(cart.lines[1].tags.is_empty());
    let installs = record["installs"].as_array().unwrap();
    let ids: Vec<&str> = installs.iter().map(|i| i["install_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [counted.to_string(), plain.to_string()], "pipeline order");
    let mut seen: Vec<Counter> = serde_json::from_value(installs[0]["counters"].clone()).unwrap();
    seen.sort_by(|a, b| a.key.cmp(&b.key));
    let counter = |key: &str, scope, used| Counter {
        key: key.into(),
        scope,
        used,
    };
    assert_eq!(
        seen,
        [
            counter("per_customer", CounterScope::Customer, 1),
            counter("uses", CounterScope::Install, 3)
        ],
        "not another customer's, not an unlisted key"
    );
    assert_eq!(installs[1]["counters"], json!([]));
}
