//! Builder methods for [`Effects`], so a handler reads as a list of decisions.
//! They only fill in fields; the host still validates everything a plug-in returns.

use crate::{Adjustment, Broadcast, Claim, CounterScope, Effects, Input, Rejection, Release, Timer};
use serde::de::DeserializeOwned;
use serde_json::Value;

impl<E> Input<E> {
    /// The install's configuration as `T`. A missing configuration reads as `{}`,
    /// so a `T` whose fields all have defaults needs none.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        let result = match &self.install.config {
            Value::Null => serde_json::from_value(Value::Object(serde_json::Map::new())),
            config => T::deserialize(config),
        };
        result.map_err(|e| ConfigError(format!("invalid configuration: {e}")))
    }

    /// Units used of counter `key` in `scope`, as the host reported them (0 when absent).
    pub fn counter(&self, key: &str, scope: CounterScope) -> u64 {
        self.counters
            .iter()
            .find(|c| c.key == key && c.scope == scope)
            .map_or(0, |c| c.used)
    }
}

/// The install's configuration does not have the shape the plug-in expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Effects {
    /// No effects; the same as `Effects::default()`.
    pub fn new() -> Effects {
        Effects::default()
    }

    /// Adds an adjustment of `amount` minor units (negative is a discount) to cart line `line`.
    /// (An index past `u32::MAX` is kept as `u32::MAX`, which the host refuses.)
    pub fn adjust_line(mut self, line: usize, amount: i64, label: impl Into<String>) -> Effects {
        let line = u32::try_from(line).unwrap_or(u32::MAX);
        self.adjustments.push(Adjustment::new(amount, label).on_line(line));
        self
    }

    /// Adds an order-level adjustment of `amount` minor units (negative is a discount).
    pub fn adjust_order(mut self, amount: i64, label: impl Into<String>) -> Effects {
        self.adjustments.push(Adjustment::new(amount, label));
        self
    }

    /// Adds a fully described adjustment (class, priority, stacking rules).
    pub fn adjustment(mut self, adjustment: Adjustment) -> Effects {
        self.adjustments.push(adjustment);
        self
    }

    /// Refuses the order with a stable `code` and a message for the shopper.
    pub fn reject(mut self, code: impl Into<String>, message: impl Into<String>) -> Effects {
        self.reject = Some(Rejection {
            code: code.into(),
            message: message.into(),
        });
        self
    }

    /// Claims `amount` units of the counter `key`, which may never pass `limit`.
    pub fn claim(mut self, claim: Claim) -> Effects {
        self.claims.push(claim);
        self
    }

    /// Gives back `amount` units of the counter `key`.
    pub fn release(mut self, key: impl Into<String>, scope: CounterScope, amount: u64) -> Effects {
        self.releases.push(Release {
            key: key.into(),
            scope,
            amount,
        });
        self
    }

    /// Sends `data` as a `kind` message to the live feed of the event's stream.
    pub fn broadcast(mut self, kind: impl Into<String>, data: Value) -> Effects {
        self.broadcasts.push(Broadcast {
            stream_id: None,
            kind: kind.into(),
            data,
        });
        self
    }

    /// Sends `data` as a `kind` message to the live feed of stream `stream_id`.
    pub fn broadcast_to(mut self, stream_id: impl Into<String>, kind: impl Into<String>, data: Value) -> Effects {
        self.broadcasts.push(Broadcast {
            stream_id: Some(stream_id.into()),
            kind: kind.into(),
            data,
        });
        self
    }

    /// Sets (or replaces) the timer `key` to fire at `at_ms` with `payload`.
    pub fn set_timer(mut self, key: impl Into<String>, at_ms: i64, payload: Value) -> Effects {
        self.timers.push(Timer {
            key: key.into(),
            at_ms,
            payload,
        });
        self
    }

    /// Cancels the timer `key` (nothing happens if it is not set).
    pub fn cancel_timer(mut self, key: impl Into<String>) -> Effects {
        self.cancel_timers.push(key.into());
        self
    }
}

impl Adjustment {
    /// An order-level adjustment with the default class (`discount`), priority
    /// (100) and stacking rules (not exclusive, combines with any class).
    pub fn new(amount: i64, label: impl Into<String>) -> Adjustment {
        Adjustment {
            line: None,
            amount,
            label: label.into(),
            code: None,
            class: "discount".to_string(),
            priority: 100,
            exclusive: false,
            combines_with: Vec::new(),
            valid_until_ms: None,
        }
    }

    /// Targets cart line `line` instead of the order.
    pub fn on_line(mut self, line: u32) -> Adjustment {
        self.line = Some(line);
        self
    }

    /// Records the code that produced the adjustment.
    pub fn code(mut self, code: impl Into<String>) -> Adjustment {
        self.code = Some(code.into());
        self
    }

    /// Sets the discount class used by the stacking rules.
    pub fn class(mut self, class: impl Into<String>) -> Adjustment {
        self.class = class.into();
        self
    }

    /// Sets the priority (lower runs first).
    pub fn priority(mut self, priority: i32) -> Adjustment {
        self.priority = priority;
        self
    }

    /// Makes the adjustment exclusive on its target.
    pub fn exclusive(mut self) -> Adjustment {
        self.exclusive = true;
        self
    }

    /// Restricts the classes this adjustment stacks with.
    pub fn combines_with(mut self, classes: &[&str]) -> Adjustment {
        self.combines_with = classes.iter().map(|c| (*c).to_string()).collect();
        self
    }

    /// Limits the adjustment to orders placed before `at_ms` (Unix
    /// milliseconds), e.g. the end of a countdown or of a sale window.
    pub fn valid_until(mut self, at_ms: i64) -> Adjustment {
        self.valid_until_ms = Some(at_ms);
        self
    }
}

impl Claim {
    /// Claims `amount` units of install-wide counter `key`, refused with
    /// `message` when the counter would pass `limit`.
    pub fn new(key: impl Into<String>, amount: u64, limit: u64, message: impl Into<String>) -> Claim {
        Claim {
            key: key.into(),
            scope: CounterScope::Install,
            amount,
            limit,
            message: message.into(),
        }
    }

    /// Counts per customer instead of install-wide.
    pub fn per_customer(mut self) -> Claim {
        self.scope = CounterScope::Customer;
        self
    }
}
