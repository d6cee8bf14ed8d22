#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use livemall_sdk::testing::{self, CartBuilder, TEST_NOW_MS};
use serde_json::{json, Value};

pub(crate) fn spring(extra: Value) -> Value {
    let mut campaign =
        json!({"id": "spring", "codes": ["SPRING"], "discount": "percentage", "percent": 10});
    for (k, v) in extra.as_object().unwrap() {
        campaign[k] = v.clone();
    }
    json!({"campaigns": [campaign]})
}

pub(crate) fn shirts() -> CartBuilder {
    testing::cart()
        .tagged_line("SHIRT-S", 2, 3900, &["summer", "shirts"])
        .tagged_line("MUG", 1, 1200, &[])
}

pub(crate) fn rejection(effects: &Effects) -> (String, String) {
    let r = effects.reject.as_ref().expect("a rejection");
    (r.code.clone(), r.message.clone())
}

#[test]
fn a_percentage_code_takes_its_share_off_every_line_case_insensitively() {
    let effects = shirts()
        .code("spring")
        .config(spring(json!({})))
        .run(price)
        .unwrap();
    let got: Vec<_> = effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect();
    assert_eq!(got, vec![(Some(0), -780), (Some(1), -120)]);
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.label.as_str(), a.code.as_deref(), a.class.as_str()),
        ("SPRING: 10% off", Some("SPRING"), "coupon")
    );
    assert!(effects.reject.is_none() && effects.claims.is_empty());
}

#[test]
fn a_scoped_code_only_touches_matching_products_variants_or_tags() {
    let by_tag = spring(json!({"applies_to": {"tags": ["Summer"]}}));
    let effects = shirts().code("SPRING").config(by_tag).run(price).unwrap();
    assert_eq!(effects.adjustments.len(), 1);
    assert_eq!(effects.adjustments[0].line, Some(0));
    let by_sku = spring(json!({"applies_to": {"variants": ["MUG"]}}));
    let effects = shirts().code("SPRING").config(by_sku).run(price).unwrap();
    assert_eq!(effects.adjustments[0].line, Some(1));
    let elsewhere = spring(json!({"applies_to": {"products": ["no-such-product"]}}));
    let effects = shirts()
        .code("SPRING")
        .config(elsewhere)
        .run(price)
        .unwrap();
    assert_eq!(rejection(&effects).0, "coupon_not_applicable");
    assert_eq!(
        rejection(&effects).1,
        "SPRING does not apply to the products in your cart."
    );
}

#[test]
fn a_fixed_amount_is_taken_from_the_order_or_spread_over_the_lines_in_scope() {
    let order = spring(json!({"discount": "fixed_amount", "amount": 500}));
    let effects = shirts().code("SPRING").config(order).run(price).unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.line, a.amount, a.label.as_str()),
        (None, -500, "SPRING: 5.00 EUR off")
    );
    // 10.00 over lines of 78.00 and 12.00: 8.67 and 1.33.
    let scoped = spring(
        json!({"discount": "fixed_amount", "amount": 1000, "applies_to": {"variants": ["SHIRT-S", "MUG"]}}),
    );
    let effects = shirts().code("SPRING").config(scoped).run(price).unwrap();
    let got: Vec<_> = effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect();
    assert_eq!(got, vec![(Some(0), -867), (Some(1), -133)]);
    let each = spring(json!({"discount": "fixed_amount", "amount": 2000, "per": "item"}));
    let effects = shirts().code("SPRING").config(each).run(price).unwrap();
    let got: Vec<_> = effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect();
    assert_eq!(
        got,
        vec![(Some(0), -4000), (Some(1), -1200)],
        "capped at the line's total"
    );
    // An order discount larger than the cart takes the cart, no more.
    let huge = spring(json!({"discount": "fixed_amount", "amount": 1_000_000}));
    let effects = shirts().code("SPRING").config(huge).run(price).unwrap();
    assert_eq!(effects.adjustments[0].amount, -9000);
}

#[test]
fn minimum_spend_and_quantity_say_what_is_missing() {
    let min = spring(json!({"min_subtotal": 10000}));
    let effects = shirts().code("SPRING").config(min).run(price).unwrap();
    assert_eq!(
        rejection(&effects),
        (
            "coupon_minimum_not_met".into(),
            "SPRING needs 100.00 EUR of an order; add 10.00 EUR more.".into()
        )
    );
    let min = spring(json!({"min_quantity": 5, "applies_to": {"tags": ["shirts"]}}));
    let effects = shirts().code("SPRING").config(min).run(price).unwrap();
    assert_eq!(
        rejection(&effects).1,
        "SPRING needs at least 5 eligible items; add 3 more."
    );
    let met = spring(json!({"min_quantity": 3, "min_subtotal": 9000}));
    assert!(shirts()
        .code("SPRING")
        .config(met)
        .run(price)
        .unwrap()
        .reject
        .is_none());
}

#[test]
fn a_code_outside_its_window_is_refused_as_not_started_or_expired() {
    let window =
        spring(json!({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2026-01-02T00:00:00Z"}));
    let at = |now: i64| {
        shirts()
            .code("SPRING")
            .config(window.clone())
            .now_ms(now)
            .run(price)
            .unwrap()
    };
    assert_eq!(rejection(&at(TEST_NOW_MS - 1)).0, "coupon_not_started");
    assert_eq!(
        rejection(&at(TEST_NOW_MS - 1)).1,
        "SPRING is not valid yet: it starts at 2026-01-01T00:00:00Z."
    );
    let open = at(TEST_NOW_MS);
    assert!(open.reject.is_none());
    // Not committed in an order placed after the end.
    assert_eq!(
        open.adjustments[0].valid_until_ms,
        Some(TEST_NOW_MS + 86_400_000)
    );
    assert_eq!(rejection(&at(TEST_NOW_MS + 86_400_000)).0, "coupon_expired");
}

#[test]
fn buy_two_get_one_free_rewards_the_cheapest_units() {
    let bxgy = json!({"campaigns": [{"id": "b2g1", "codes": ["TRIO"], "discount": "buy_x_get_y",
        "buy": {"quantity": 2, "scope": {"tags": ["shirts"]}}, "get": {"quantity": 1, "scope": {"tags": ["shirts"]}}}]});
    let cart = testing::cart()
        .tagged_line("TEE-A", 2, 3000, &["shirts"])
        .tagged_line("TEE-B", 4, 1000, &["shirts"])
        .line("MUG", 1, 500);
    // 6 shirts: two rewards; dearest bought first, cheapest given.
    let effects = cart.code("trio").config(bxgy.clone()).run(price).unwrap();
    let got: Vec<_> = effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect();
    assert_eq!(got, vec![(Some(1), -2000)]);
    assert_eq!(effects.adjustments[0].label, "TRIO: buy 2 get 1 free");
    let short = testing::cart()
        .tagged_line("TEE-A", 2, 3000, &["shirts"])
        .code("TRIO")
        .config(bxgy)
        .run(price)
        .unwrap();
    assert_eq!(
        rejection(&short),
        (
            "coupon_minimum_not_met".into(),
            "TRIO needs 3 eligible items in your cart.".into()
        )
    );
}

#[test]
fn buy_x_get_y_respects_a_cap_and_a_partial_percentage() {
    let bxgy = json!({"campaigns": [{"id": "mug", "automatic": true, "title": "Mug deal", "discount": "buy_x_get_y",
        "buy": {"quantity": 1, "scope": {"variants": ["TEE"]}}, "get": {"quantity": 1, "percent": 50, "scope": {"variants": ["MUG"]}},
        "max_applications": 2}]});
    let effects = testing::cart()
        .line("TEE", 5, 2000)
        .line("MUG", 5, 1001)
        .config(bxgy)
        .run(price)
        .unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.line, a.amount, a.label.as_str()),
        (Some(1), -1001, "Mug deal: buy 1 get 1 at 50% off")
    );
}

#[test]
fn a_configuration_the_schema_cannot_fully_check_fails_the_call_with_a_reason() {
    let cases = [
        (
            json!({"campaigns": [{"id": "x", "codes": ["X"], "discount": "percentage"}]}),
            "`percentage` needs `percent`",
        ),
        (
            json!({"campaigns": [{"id": "x", "discount": "percentage", "percent": 5}]}),
            "give `codes`",
        ),
        (
            json!({"campaigns": [{"id": "x", "codes": ["X"], "discount": "percentage", "percent": 5, "ends_at": "tomorrow"}]}),
            "ends_at",
        ),
        (
            json!({"campaigns": [{"id": "x", "generated": {"prefix": "X", "secret": "short", "count": 5}, "discount": "percentage", "percent": 5}]}),
            "secret",
        ),
        (
            json!({"campaigns": [{"id": "x", "codes": ["X"], "discount": "fixed_amount", "amount": 5}, {"id": "x", "codes": ["Y"], "discount": "fixed_amount", "amount": 5}]}),
            "unique",
        ),
    ];
    for (config, reason) in cases {
        let failure = shirts().code("X").config(config).run(price).unwrap_err();
        assert_eq!(failure.code, "guest_error");
        assert!(failure.message.contains(reason), "{}", failure.message);
    }
}

#[test]
fn no_codes_and_no_campaigns_mean_no_effects() {
    assert!(shirts().run(price).unwrap().is_empty());
    assert!(shirts()
        .config(spring(json!({})))
        .run(price)
        .unwrap()
        .is_empty());
}
