//! The contract's own rules for a plug-in's effects, checked the same way by
//! the host and by the SDK's test helpers. Failures name the offending field.

use crate::{Effects, Hook};

impl Effects {
    /// Checks effects returned by `hook`: each kind must be allowed for the
    /// hook, line adjustments must name one of `cart_lines` lines (`None`
    /// skips that check), and claims, releases and timers need a key (claims
    /// an amount of at least 1).
    pub fn check(&self, hook: Hook, cart_lines: Option<u32>) -> Result<(), String> {
        // (field, present, allowed only for the synchronous hook)
        let kinds = [
            ("adjustments", !self.adjustments.is_empty(), true),
            ("reject", self.reject.is_some(), true),
            ("claims", !self.claims.is_empty(), true),
            ("releases", !self.releases.is_empty(), false),
            ("broadcasts", !self.broadcasts.is_empty(), false),
            ("timers", !self.timers.is_empty(), false),
            ("cancel_timers", !self.cancel_timers.is_empty(), false),
        ];
        for (field, present, sync_only) in kinds {
            if present && sync_only != hook.is_sync() {
                return Err(format!("effect `{field}` is not allowed for hook {hook}"));
            }
        }
        for (i, adjustment) in self.adjustments.iter().enumerate() {
            if let (Some(line), Some(lines)) = (adjustment.line, cart_lines) {
                if line >= lines {
                    return Err(format!(
                        "adjustments[{i}].line is {line} but the cart has {lines} line(s)"
                    ));
                }
            }
        }
        for (i, claim) in self.claims.iter().enumerate() {
            if claim.amount == 0 {
                return Err(format!("claims[{i}].amount must be at least 1"));
            }
            if claim.key.is_empty() {
                return Err(format!("claims[{i}].key is empty"));
            }
        }
        if let Some(i) = self.releases.iter().position(|r| r.key.is_empty()) {
            return Err(format!("releases[{i}].key is empty"));
        }
        if let Some(i) = self.timers.iter().position(|t| t.key.is_empty()) {
            return Err(format!("timers[{i}].key is empty"));
        }
        Ok(())
    }
}
