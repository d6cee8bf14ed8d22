//! The host's checks on a plug-in's effects that do not need a database,
//! with the host's wording.

use crate::abi::{Effects, Hook};
use serde_json::Value;

/// Checks `effects` against the call's input (the JSON envelope) as the host
/// does: each effect must be allowed for the hook, and line adjustments must
/// name an existing cart line. The error names the offending field.
pub fn check_effects(input: &Value, effects: &Effects) -> Result<(), String> {
    let hook = input
        .get("hook")
        .and_then(Value::as_str)
        .and_then(Hook::parse)
        .ok_or_else(|| "input has no known hook".to_string())?;
    let lines = input
        .pointer("/event/lines")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    // The same rules the host applies, from the shared contract crate.
    effects.check(hook, Some(u32::try_from(lines).unwrap_or(u32::MAX)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn async_effects_are_refused_for_cart_price() {
        let input = json!({"hook": "cart.price", "event": {"lines": []}});
        let effects = Effects::new().cancel_timer("t");
        let err = check_effects(&input, &effects).unwrap_err();
        assert_eq!(
            err,
            "effect `cancel_timers` is not allowed for hook cart.price"
        );
    }

    #[test]
    fn adjustments_are_refused_for_async_hooks() {
        let input = json!({"hook": "order.paid", "event": {}});
        let effects = Effects::new().adjust_order(-1, "x");
        assert!(check_effects(&input, &effects)
            .unwrap_err()
            .contains("adjustments"));
    }

    #[test]
    fn line_index_must_exist() {
        let input = json!({"hook": "cart.price", "event": {"lines": [{}]}});
        assert!(check_effects(&input, &Effects::new().adjust_line(0, -1, "ok")).is_ok());
        let err = check_effects(&input, &Effects::new().adjust_line(1, -1, "x")).unwrap_err();
        assert_eq!(err, "adjustments[0].line is 1 but the cart has 1 line(s)");
    }
}
