//! hello-plugin: a `cart.price` plug-in with two rules.
//!
//! 1. Volume discount: every line whose quantity is at least `min_quantity`
//!    gets `percent`% off its total (`unit_price * quantity`), rounded to the
//!    nearest minor unit with halves away from zero, labelled
//!    `"{percent}% off {min_quantity}+"`. A rounded discount of 0 is left out.
//! 2. Order discount: when the cart's subtotal (before any adjustment) is at
//!    least `order_threshold`, one order-level adjustment of `-order_discount`
//!    labelled `"Order discount"` (left out when `order_discount` is 0).
//!
//! Line adjustments come first, in line order, then the order adjustment. All
//! adjustments use the default class, priority and stacking rules. A
//! configuration that does not parse, a `percent` above 100, a `min_quantity`
//! of 0 or an `order_discount` outside `0..=order_threshold` fails the call
//! with `invalid configuration: ...`.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::prelude::*;
use serde::Deserialize;

/// The install's configuration; every field may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Percent off a qualifying line, 0 to 100 (default 10).
    pub percent: u32,
    /// Units a line needs to qualify, at least 1 (default 3).
    pub min_quantity: u32,
    /// Subtotal, in minor units, from which the order discount applies (default 10000).
    pub order_threshold: i64,
    /// Order discount in minor units, 0 to `order_threshold` (default 500).
    pub order_discount: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            percent: 10,
            min_quantity: 3,
            order_threshold: 10_000,
            order_discount: 500,
        }
    }
}

impl Config {
    fn check(self) -> Result<Config, Error> {
        if self.percent > 100 {
            return Err(invalid("percent must be at most 100"));
        }
        if self.min_quantity == 0 {
            return Err(invalid("min_quantity must be at least 1"));
        }
        if self.order_discount < 0 || self.order_discount > self.order_threshold {
            return Err(invalid(
                "order_discount must be between 0 and order_threshold",
            ));
        }
        Ok(self)
    }
}

fn invalid(reason: &str) -> Error {
    Error::new(format!("invalid configuration: {reason}"))
}

/// The `cart.price` handler.
pub fn price(input: &Input<Cart>) -> Result<Effects, Error> {
    let config = input.config::<Config>()?.check()?;
    let cart = &input.event;
    let mut effects = Effects::new();
    let label = format!("{}% off {}+", config.percent, config.min_quantity);
    for (i, line) in cart.lines.iter().enumerate() {
        if line.quantity < config.min_quantity {
            continue;
        }
        let amount = money::discount_percent(line.total(), config.percent);
        if amount != 0 {
            effects = effects.adjust_line(i, amount, label.as_str());
        }
    }
    if cart.subtotal >= config.order_threshold && config.order_discount > 0 {
        effects = effects.adjust_order(-config.order_discount, "Order discount");
    }
    Ok(effects)
}

livemall_sdk::hooks! {
    cart_price => price,
}

#[cfg(test)]
mod tests;
