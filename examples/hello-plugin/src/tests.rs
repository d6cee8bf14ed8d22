#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use livemall_sdk::testing;
use serde_json::json;

#[test]
fn lines_with_enough_units_get_the_percentage_off() {
    let effects = testing::cart()
        .line("TEE", 3, 1999)
        .line("MUG", 2, 1200)
        .run(price)
        .unwrap();
    assert_eq!(effects.adjustments.len(), 1);
    let adjustment = &effects.adjustments[0];
    assert_eq!(adjustment.line, Some(0));
    // 10% of 59.97 is 5.997, rounded to 6.00.
    assert_eq!(adjustment.amount, -600);
    assert_eq!(adjustment.label, "10% off 3+");
}

#[test]
fn a_subtotal_at_the_threshold_gets_the_order_discount() {
    let effects = testing::cart().line("LAMP", 1, 10_000).run(price).unwrap();
    assert_eq!(effects.adjustments.len(), 1);
    assert_eq!(effects.adjustments[0].line, None);
    assert_eq!(effects.adjustments[0].amount, -500);
    assert_eq!(effects.adjustments[0].label, "Order discount");

    let below = testing::cart().line("LAMP", 1, 9_999).run(price).unwrap();
    assert!(below.is_empty());
}

#[test]
fn configuration_changes_both_rules() {
    let effects = testing::cart()
        .line("SOCKS", 2, 505)
        .line("HAT", 1, 2000)
        .config(json!({"percent": 25, "min_quantity": 2, "order_threshold": 3000, "order_discount": 300}))
        .run(price)
        .unwrap();
    let amounts: Vec<_> = effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect();
    // 25% of 10.10 is 2.525, rounded half away from zero to 2.53.
    assert_eq!(amounts, vec![(Some(0), -253), (None, -300)]);
    assert_eq!(effects.adjustments[0].label, "25% off 2+");
}

#[test]
fn a_discount_that_rounds_to_zero_is_left_out() {
    let effects = testing::cart().line("PIN", 3, 1).run(price).unwrap();
    assert!(effects.is_empty());
}

#[test]
fn bad_configuration_fails_the_call_with_a_message() {
    let failure = testing::cart()
        .line("TEE", 3, 1999)
        .config(json!({"percent": 101}))
        .run(price)
        .unwrap_err();
    assert_eq!(failure.code, "guest_error");
    assert_eq!(
        failure.message,
        "invalid configuration: percent must be at most 100"
    );

    let failure = testing::cart()
        .config(json!({"percnt": 5}))
        .run(price)
        .unwrap_err();
    assert!(failure
        .message
        .starts_with("invalid configuration: unknown field `percnt`"));
}

#[test]
fn the_example_cart_prices_as_documented() {
    let cart: Cart = serde_json::from_str(include_str!("../cart.json")).unwrap();
    let config = serde_json::from_str(include_str!("../config.json")).unwrap();
    let mut input = testing::envelope(Hook::CartPrice, cart);
    input.install.config = config;
    let effects = testing::run_hook(price, &input).unwrap();
    let expected: Effects = serde_json::from_str(include_str!("../expected.json")).unwrap();
    assert_eq!(effects, expected);
}
