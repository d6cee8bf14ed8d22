#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use livemall_sdk::testing::{self, CartBuilder, TEST_NOW_MS};
use serde_json::{json, Value};

fn deal(extra: Value) -> Value {
    let mut deal = json!({"id": "lamp", "variant": "LAMP", "price": 2900, "quantity": 100});
    for (k, v) in extra.as_object().unwrap() {
        deal[k] = v.clone();
    }
    json!({"deals": [deal]})
}

fn lamps(quantity: u32) -> CartBuilder {
    testing::cart()
        .line("LAMP", quantity, 4900)
        .line("BULB", 1, 500)
}

#[test]
fn the_deal_price_replaces_the_price_on_its_variant_with_a_claim_per_unit() {
    let effects = lamps(2)
        .customer("c-1")
        .checkout()
        .config(deal(json!({"per_customer_limit": 2})))
        .run(price)
        .unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.line, a.amount, a.label.as_str()),
        (Some(0), -4000, "Flash deal: 29.00 EUR")
    );
    assert_eq!(
        (a.class.as_str(), a.priority, a.exclusive),
        ("flash_deal", 10, true)
    );
    let claims: Vec<_> = effects
        .claims
        .iter()
        .map(|c| (c.key.as_str(), c.scope, c.amount, c.limit))
        .collect();
    assert_eq!(
        claims,
        vec![
            ("deal:lamp", CounterScope::Install, 2, 100),
            ("deal:lamp", CounterScope::Customer, 2, 2)
        ]
    );
    assert_eq!(
        effects.claims[0].message,
        "The flash deal on LAMP has just sold out; order again to buy at the regular price."
    );
}

#[test]
fn when_units_run_short_the_rest_are_priced_normally_by_default() {
    let effects = lamps(3)
        .config(deal(json!({})))
        .counter("deal:lamp", CounterScope::Install, 98)
        .run(price)
        .unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.amount, a.label.as_str()),
        (-4000, "Flash deal: 2 at 29.00 EUR")
    );
    assert_eq!(effects.claims[0].amount, 2);
    let sold_out = lamps(1)
        .config(deal(json!({})))
        .counter("deal:lamp", CounterScope::Install, 100)
        .run(price)
        .unwrap();
    assert!(sold_out.is_empty());
}

#[test]
fn in_refuse_mode_a_sold_out_or_short_deal_refuses_the_cart_with_the_reason() {
    let refuse = deal(json!({"when_unavailable": "refuse", "per_customer_limit": 2}));
    let run = |qty: u32, used: u64, mine: u64| {
        lamps(qty)
            .customer("c-1")
            .config(refuse.clone())
            .counter("deal:lamp", CounterScope::Install, used)
            .counter("deal:lamp", CounterScope::Customer, mine)
            .run(price)
            .unwrap()
            .reject
            .map(|r| (r.code, r.message))
    };
    assert_eq!(
        run(1, 100, 0),
        Some((
            "flash_deal_sold_out".into(),
            "The flash deal on LAMP is sold out.".into()
        ))
    );
    assert_eq!(
        run(2, 99, 0),
        Some((
            "flash_deal_short".into(),
            "Only 1 of LAMP are left at the flash deal price.".into()
        ))
    );
    let limited = "The flash deal on LAMP is limited to 2 per customer; you can add 1 more.";
    assert_eq!(
        run(2, 0, 1),
        Some(("flash_deal_customer_limit".into(), limited.into()))
    );
    assert_eq!(run(2, 98, 0), None);
}

#[test]
fn the_deal_is_on_only_in_its_window() {
    let window =
        deal(json!({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-01T00:15:00Z"}));
    let at = |now: i64| {
        lamps(1)
            .config(window.clone())
            .now_ms(now)
            .run(price)
            .unwrap()
            .adjustments
            .len()
    };
    assert_eq!(
        (
            at(TEST_NOW_MS - 1),
            at(TEST_NOW_MS),
            at(TEST_NOW_MS + 900_000)
        ),
        (0, 1, 0)
    );
    // The deal price is not committed in an order placed after the window.
    let effects = lamps(1).config(window).run(price).unwrap();
    assert_eq!(
        effects.adjustments[0].valid_until_ms,
        Some(TEST_NOW_MS + 900_000)
    );
}

#[test]
fn a_live_only_deal_needs_an_order_from_a_live_stream_and_the_right_one() {
    let live = deal(json!({"live_only": true}));
    assert!(lamps(1).config(live.clone()).run(price).unwrap().is_empty());
    assert_eq!(
        lamps(1)
            .stream("s-1", &[])
            .config(live)
            .run(price)
            .unwrap()
            .adjustments
            .len(),
        1
    );
    let one = deal(json!({"live_only": true, "stream_id": "s-2"}));
    assert!(lamps(1)
        .stream("s-1", &[])
        .config(one.clone())
        .run(price)
        .unwrap()
        .is_empty());
    assert_eq!(
        lamps(1)
            .stream("S-2", &[])
            .config(one)
            .run(price)
            .unwrap()
            .adjustments
            .len(),
        1
    );
    let mut ended = lamps(1)
        .stream("s-1", &[])
        .config(deal(json!({"live_only": true})))
        .build();
    ended.event.stream.as_mut().unwrap().status = "ended".into();
    assert!(testing::run_hook(price, &ended).unwrap().is_empty());
}

#[test]
fn stack_with_lets_other_classes_discount_the_deal_line() {
    let mut config = deal(json!({}));
    config["stack_with"] = json!(["coupon"]);
    let effects = lamps(1).config(config).run(price).unwrap();
    let a = &effects.adjustments[0];
    assert!(!a.exclusive);
    assert_eq!(a.combines_with, vec!["coupon"]);
}

#[test]
fn a_deal_price_not_below_the_catalogue_price_or_another_variant_does_nothing() {
    assert!(lamps(1)
        .config(deal(json!({"price": 4900})))
        .run(price)
        .unwrap()
        .is_empty());
    assert!(lamps(1)
        .config(deal(json!({"variant": "SHADE"})))
        .run(price)
        .unwrap()
        .is_empty());
}

#[test]
fn a_bad_configuration_fails_the_call() {
    let twice = json!({"deals": [{"id": "a", "variant": "X", "price": 1, "quantity": 1}, {"id": "a", "variant": "Y", "price": 1, "quantity": 1}]});
    let failure = lamps(1).config(twice).run(price).unwrap_err();
    assert!(failure.message.contains("unique"), "{}", failure.message);
    let zero = lamps(1)
        .config(deal(json!({"quantity": 0})))
        .run(price)
        .unwrap_err();
    assert!(zero.message.contains("quantity"), "{}", zero.message);
}

fn order_with_deal(hook: Hook, used: u64, stream: Option<&str>) -> Input<OrderEvent> {
    let mut cart = lamps(2)
        .config(deal(json!({"stream_id": "s-deal"})))
        .counter("deal:lamp", CounterScope::Install, used);
    if let Some(stream) = stream {
        cart = cart.stream(stream, &[]);
    }
    let mut input = cart.order_event(hook, "o-1");
    input
        .event
        .order
        .adjustments
        .push(livemall_sdk::abi::AppliedAdjustment {
            install_id: input.install.id.clone(),
            line: Some(0),
            amount: -4000,
            label: "Flash deal: 29.00 EUR".into(),
            code: None,
        });
    input
}

#[test]
fn after_an_order_the_feed_of_its_stream_hears_how_many_are_left() {
    let effects = testing::run_hook(
        on_order,
        &order_with_deal(Hook::OrderCreated, 42, Some("s-1")),
    )
    .unwrap();
    let b = &effects.broadcasts[0];
    assert_eq!(
        (b.stream_id.as_deref(), b.kind.as_str()),
        (Some("s-1"), "flash_deal.left")
    );
    assert_eq!(
        (b.data["left"].clone(), b.data["text"].clone()),
        (json!(58), json!("Flash deal: 58 left"))
    );
    // No stream on the order: the deal's own stream hears it; sold out says so.
    let effects =
        testing::run_hook(on_order, &order_with_deal(Hook::OrderCancelled, 100, None)).unwrap();
    assert_eq!(effects.broadcasts[0].stream_id.as_deref(), Some("s-deal"));
    assert_eq!(effects.broadcasts[0].data["sold_out"], json!(true));
}

#[test]
fn an_order_without_this_installs_deal_broadcasts_nothing() {
    let mut input = order_with_deal(Hook::OrderCreated, 1, Some("s-1"));
    input.event.order.adjustments.clear();
    assert!(testing::run_hook(on_order, &input).unwrap().is_empty());
}
