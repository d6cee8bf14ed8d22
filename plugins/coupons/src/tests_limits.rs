//! Limits, unknown and generated codes, once per order, combinations and
//! automatic promotions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::tests::{rejection, shirts, spring};
use livemall_sdk::testing;
use serde_json::{json, Value};

#[test]
fn limits_become_claims_and_a_spent_limit_refuses_the_code() {
    let limited = spring(json!({"usage_limit": 10, "per_customer_limit": 1, "per_code_limit": 3}));
    let effects = shirts()
        .code("Spring")
        .customer("c-1")
        .checkout()
        .config(limited.clone())
        .run(price)
        .unwrap();
    let claims: Vec<_> = effects
        .claims
        .iter()
        .map(|c| (c.key.as_str(), c.scope, c.amount, c.limit))
        .collect();
    assert_eq!(
        claims,
        vec![
            ("use:spring", CounterScope::Install, 1, 10),
            ("use:spring", CounterScope::Customer, 1, 1),
            ("#code:spring:SPRING", CounterScope::Install, 1, 3),
        ]
    );
    assert_eq!(effects.claims[0].message, "SPRING has been used up.");
    assert_eq!(effects.claims[1].message, "You have already used SPRING.");
    let spent = |key: &str, scope, used| {
        shirts()
            .code("SPRING")
            .customer("c-1")
            .config(limited.clone())
            .counter(key, scope, used)
            .run(price)
            .unwrap()
    };
    assert_eq!(
        rejection(&spent("use:spring", CounterScope::Install, 10)).0,
        "coupon_limit_reached"
    );
    assert_eq!(
        rejection(&spent("use:spring", CounterScope::Customer, 1)),
        (
            "coupon_customer_limit".into(),
            "You have already used SPRING.".into()
        )
    );
    // Per-code counters are unlisted: the claim refuses a spent code at checkout.
    assert_eq!(effects.claims[2].message, "The code SPRING has already been used.");
    assert!(spent("use:spring", CounterScope::Install, 9)
        .reject
        .is_none());
}

#[test]
fn unknown_codes_are_refused_unless_the_store_shares_codes_with_other_plugins() {
    let effects = shirts()
        .code("SPRNG")
        .config(spring(json!({})))
        .run(price)
        .unwrap();
    assert_eq!(
        rejection(&effects),
        ("coupon_unknown".into(), "SPRNG is not a valid code.".into())
    );
    let mut shared = spring(json!({}));
    shared["reject_unknown_codes"] = json!(false);
    assert!(shirts()
        .code("WAT10")
        .config(shared)
        .run(price)
        .unwrap()
        .is_empty());
}

#[test]
fn a_campaign_applies_once_per_order_even_with_two_of_its_codes() {
    let two = spring(json!({"codes": ["SPRING", "SPRING2"]}));
    let effects = shirts()
        .code("spring")
        .code("SPRING ")
        .config(two.clone())
        .run(price)
        .unwrap();
    assert!(effects.reject.is_none(), "the same code twice counts once");
    assert_eq!(effects.adjustments.len(), 2);
    let effects = shirts()
        .code("SPRING")
        .code("spring2")
        .config(two)
        .run(price)
        .unwrap();
    assert_eq!(rejection(&effects).0, "coupon_once_per_order");
    assert_eq!(
        rejection(&effects).1,
        "SPRING2 and SPRING belong to the same offer; only one can be used per order."
    );
}

fn two_campaigns(first: Value, second: Value) -> Value {
    let mut a =
        json!({"id": "spring", "codes": ["SPRING"], "discount": "percentage", "percent": 10});
    let mut b =
        json!({"id": "welcome", "codes": ["WELCOME"], "discount": "fixed_amount", "amount": 500});
    for (target, extra) in [(&mut a, first), (&mut b, second)] {
        for (k, v) in extra.as_object().unwrap() {
            target[k] = v.clone();
        }
    }
    json!({"campaigns": [a, b]})
}

#[test]
fn codes_combine_unless_one_is_exclusive_or_refuses_the_others_class() {
    let both = two_campaigns(json!({}), json!({}));
    let effects = shirts()
        .code("SPRING")
        .code("WELCOME")
        .config(both)
        .run(price)
        .unwrap();
    assert_eq!(effects.adjustments.len(), 3);
    let exclusive = two_campaigns(json!({"exclusive": true}), json!({}));
    let effects = shirts()
        .code("SPRING")
        .code("WELCOME")
        .config(exclusive)
        .run(price)
        .unwrap();
    assert_eq!(
        rejection(&effects),
        (
            "coupon_does_not_combine".into(),
            "WELCOME cannot be combined with SPRING.".into()
        )
    );
    let picky = two_campaigns(
        json!({}),
        json!({"combines_with": ["promotion", "flash_deal"]}),
    );
    let effects = shirts()
        .code("SPRING")
        .code("WELCOME")
        .config(picky.clone())
        .run(price)
        .unwrap();
    assert_eq!(rejection(&effects).0, "coupon_does_not_combine");
    let effects = shirts().code("WELCOME").config(picky).run(price).unwrap();
    assert_eq!(
        effects.adjustments[0].combines_with,
        vec!["promotion", "flash_deal"]
    );
}

#[test]
fn an_automatic_promotion_applies_without_a_code_when_its_conditions_hold() {
    let auto = json!({"campaigns": [{"id": "big-basket", "title": "Big basket", "automatic": true,
        "discount": "fixed_amount", "amount": 700, "min_subtotal": 8000, "usage_limit": 100}]});
    let effects = shirts().config(auto.clone()).run(price).unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (
            a.amount,
            a.label.as_str(),
            a.class.as_str(),
            a.code.as_deref()
        ),
        (-700, "Big basket: 7.00 EUR off", "promotion", None)
    );
    assert_eq!(effects.claims[0].key, "use:big-basket");
    // Not met, used up, or not combinable with a code: silently left out.
    assert!(testing::cart()
        .line("MUG", 1, 1200)
        .config(auto.clone())
        .run(price)
        .unwrap()
        .is_empty());
    let spent = shirts()
        .config(auto)
        .counter("use:big-basket", CounterScope::Install, 100)
        .run(price)
        .unwrap();
    assert!(spent.is_empty());
    let config = two_campaigns(
        json!({"exclusive": true}),
        json!({"automatic": true, "codes": []}),
    );
    let effects = shirts().code("SPRING").config(config).run(price).unwrap();
    assert!(effects.adjustments.iter().all(|a| a.class == "coupon"));
}

#[test]
fn generated_codes_work_as_codes_and_count_per_code_under_one_spelling() {
    let g = codes::Generator::new("SPR", "a long campaign secret");
    let config = json!({"campaigns": [{"id": "bulk", "generated": {"prefix": "spr", "secret": "a long campaign secret", "count": 5000},
        "discount": "percentage", "percent": 15, "per_code_limit": 1}]});
    let code = g.code(4999);
    let sloppy = code.to_lowercase().replace('0', "o");
    let effects = shirts()
        .code(&sloppy)
        .checkout()
        .config(config.clone())
        .run(price)
        .unwrap();
    assert_eq!(effects.adjustments[0].code.as_deref(), Some(code.as_str()));
    assert_eq!(effects.claims[0].key, format!("#code:bulk:{code}"));
    let beyond = shirts()
        .code(&g.code(5000))
        .config(config)
        .run(price)
        .unwrap();
    assert_eq!(rejection(&beyond).0, "coupon_unknown");
}
