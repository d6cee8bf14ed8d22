//! Which effects a hook may return, checked with the call's context (cart
//! line count). Failures name the offending field.

use livemall_abi::{Effects, Hook};

/// Checks `effects` returned by `hook`. `cart_lines` is the number of lines
/// of the cart the hook priced (`None` skips the line-index check). The rules
/// live with the contract (`Effects::check`), so the SDK's test helpers apply
/// exactly the same ones.
pub fn check_effects(effects: &Effects, hook: Hook, cart_lines: Option<u32>) -> Result<(), String> {
    effects.check(hook, cart_lines)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn effects(json: &str) -> Effects {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn cart_price_may_adjust_reject_and_claim() {
        let e = effects(
            r#"{"adjustments":[{"line":1,"amount":-5,"label":"x"}],
                "reject":{"code":"c","message":"m"},
                "claims":[{"key":"k","amount":1,"limit":3,"message":"m"}]}"#,
        );
        assert_eq!(check_effects(&e, Hook::CartPrice, Some(2)), Ok(()));
    }

    #[test]
    fn async_effects_are_refused_for_cart_price_by_name() {
        let e = effects(r#"{"timers":[{"key":"t","at_ms":1}]}"#);
        let err = check_effects(&e, Hook::CartPrice, None).unwrap_err();
        assert!(err.contains("`timers`"), "{err}");
    }

    #[test]
    fn pricing_effects_are_refused_for_async_hooks() {
        let e = effects(r#"{"adjustments":[{"amount":-5,"label":"x"}]}"#);
        let err = check_effects(&e, Hook::OrderPaid, None).unwrap_err();
        assert!(err.contains("`adjustments`") && err.contains("order.paid"), "{err}");
    }

    #[test]
    fn an_adjustment_past_the_last_line_is_refused() {
        let e = effects(r#"{"adjustments":[{"line":2,"amount":-5,"label":"x"}]}"#);
        let err = check_effects(&e, Hook::CartPrice, Some(2)).unwrap_err();
        assert!(err.contains("adjustments[0].line is 2"), "{err}");
        assert_eq!(check_effects(&e, Hook::CartPrice, None), Ok(()));
    }

    #[test]
    fn a_zero_claim_is_refused() {
        let e = effects(r#"{"claims":[{"key":"k","amount":0,"limit":3,"message":"m"}]}"#);
        assert!(check_effects(&e, Hook::CartPrice, None).is_err());
    }
}
