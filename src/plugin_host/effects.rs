//! Which effects a hook may return, and the checks that need the call's
//! context (cart line count). Failures name the offending field.

use livemall_abi::{Effects, Hook};

/// Checks `effects` returned by `hook`. `cart_lines` is the number of lines
/// of the cart the hook priced (`None` skips the line-index check).
pub fn check_effects(effects: &Effects, hook: Hook, cart_lines: Option<u32>) -> Result<(), String> {
    let sync_kinds = [
        ("adjustments", !effects.adjustments.is_empty()),
        ("reject", effects.reject.is_some()),
        ("claims", !effects.claims.is_empty()),
    ];
    let async_kinds = [
        ("releases", !effects.releases.is_empty()),
        ("broadcasts", !effects.broadcasts.is_empty()),
        ("timers", !effects.timers.is_empty()),
        ("cancel_timers", !effects.cancel_timers.is_empty()),
    ];
    let forbidden = if hook.is_sync() {
        &async_kinds[..]
    } else {
        &sync_kinds[..]
    };
    if let Some((field, _)) = forbidden.iter().find(|(_, present)| *present) {
        return Err(format!("effect `{field}` is not allowed for hook {hook}"));
    }
    for (i, adjustment) in effects.adjustments.iter().enumerate() {
        if let (Some(line), Some(lines)) = (adjustment.line, cart_lines) {
            if line >= lines {
                return Err(format!(
                    "adjustments[{i}].line is {line} but the cart has {lines} line(s)"
                ));
            }
        }
    }
    for (i, claim) in effects.claims.iter().enumerate() {
        if claim.amount == 0 {
            return Err(format!("claims[{i}].amount must be at least 1"));
        }
        if claim.key.is_empty() {
            return Err(format!("claims[{i}].key is empty"));
        }
    }
    for (i, release) in effects.releases.iter().enumerate() {
        if release.key.is_empty() {
            return Err(format!("releases[{i}].key is empty"));
        }
    }
    for (i, timer) in effects.timers.iter().enumerate() {
        if timer.key.is_empty() {
            return Err(format!("timers[{i}].key is empty"));
        }
    }
    Ok(())
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
