//! flash-deals: a limited quantity of a variant at a deal price, in a time
//! window or only while a stream is live, with a per-customer limit. Every
//! unit sold at the deal price is a claim on the deal's bounded counter, so
//! exactly the stated quantity is ever sold at that price, however many
//! shoppers race for it; a cancelled order gives its units back. After each
//! order (and cancellation) the stream's live feed is told how many are left.
//!
//! See README.md for the configuration and the stacking rules.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::prelude::*;
use plugin_kit::{format_money, WindowState};
use serde::Deserialize;
use serde_json::json;

/// The install's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The deals; one variant may be in at most one live deal at a time.
    #[serde(default)]
    pub deals: Vec<Deal>,
    /// Classes a deal stacks with on its line; empty: the deal is exclusive
    /// there (nothing else discounts a deal unit's line).
    #[serde(default)]
    pub stack_with: Vec<String>,
}

/// What happens when the deal cannot be had (sold out, customer limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenUnavailable {
    /// The line is priced normally.
    FullPrice,
    /// The cart is refused with the reason.
    Refuse,
}

/// One flash deal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deal {
    /// Short id, used in counter keys: changing it restarts the count.
    pub id: String,
    /// The variant, by id or SKU.
    pub variant: String,
    /// Deal price of one unit, minor units.
    pub price: i64,
    /// Units sold at the deal price, in all.
    pub quantity: u64,
    /// Units one customer may buy at the deal price.
    #[serde(default)]
    pub per_customer_limit: Option<u64>,
    /// RFC 3339 start.
    #[serde(default)]
    pub starts_at: Option<String>,
    /// RFC 3339 end.
    #[serde(default)]
    pub ends_at: Option<String>,
    /// Only for orders placed from a live stream.
    #[serde(default)]
    pub live_only: bool,
    /// Only for orders from this stream (and where "N left" is shown when
    /// an order has no stream).
    #[serde(default)]
    pub stream_id: Option<String>,
    /// Shown to the shopper.
    #[serde(default = "default_label")]
    pub label: String,
    /// `full_price` (default) or `refuse`.
    #[serde(default = "full_price")]
    pub when_unavailable: WhenUnavailable,
}

fn default_label() -> String {
    "Flash deal".to_string()
}

fn full_price() -> WhenUnavailable {
    WhenUnavailable::FullPrice
}

impl Deal {
    fn key(&self) -> String {
        format!("deal:{}", self.id)
    }

    fn matches(&self, line: &CartLine) -> bool {
        self.variant == line.sku || self.variant.eq_ignore_ascii_case(&line.variant_id)
    }

    fn window(&self) -> plugin_kit::Window {
        plugin_kit::Window {
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
        }
    }

    /// Whether the deal is on for this cart: in its window, and live if it must be.
    fn is_on(&self, input: &Input<Cart>) -> Result<bool, Error> {
        if self.window().at(input.now_ms)? != WindowState::Open {
            return Ok(false);
        }
        let stream = input.event.stream.as_ref();
        let live = stream.map_or(false, |s| s.status == "live");
        let right_stream = match (&self.stream_id, stream) {
            (None, _) => true,
            (Some(want), Some(s)) => want.eq_ignore_ascii_case(&s.id),
            (Some(_), None) => false,
        };
        Ok(right_stream && (live || !self.live_only))
    }
}

fn check(config: Config) -> Result<Config, Error> {
    for (i, deal) in config.deals.iter().enumerate() {
        let invalid =
            |why: &str| Error::new(format!("invalid configuration: deal `{}`: {why}", deal.id));
        if config.deals[..i].iter().any(|d| d.id == deal.id) {
            return Err(invalid("deal ids must be unique"));
        }
        if deal.price < 0 || deal.quantity == 0 {
            return Err(invalid(
                "`price` must be at least 0 and `quantity` at least 1",
            ));
        }
        deal.window().at(0)?;
    }
    Ok(config)
}

/// The `cart.price` handler: the deal price on as many units of each deal's
/// line as are left (for the deal and for this customer), with claims for them.
pub fn price(input: &Input<Cart>) -> Result<Effects, Error> {
    let config = check(input.config::<Config>()?)?;
    let cart = &input.event;
    let mut effects = Effects::new();
    for deal in &config.deals {
        if !deal.is_on(input)? {
            continue;
        }
        let found = cart.lines.iter().enumerate().find(|(_, l)| deal.matches(l));
        let (index, line) = match found {
            Some(found) => found,
            None => continue,
        };
        if deal.price >= line.unit_price {
            continue;
        }
        let key = deal.key();
        let left = deal
            .quantity
            .saturating_sub(input.counter(&key, CounterScope::Install));
        let mine = match (deal.per_customer_limit, &cart.customer) {
            (Some(limit), Some(_)) => {
                limit.saturating_sub(input.counter(&key, CounterScope::Customer))
            }
            (Some(limit), None) => limit,
            (None, _) => u64::MAX,
        };
        let units = u64::from(line.quantity).min(left).min(mine);
        if units < u64::from(line.quantity) && deal.when_unavailable == WhenUnavailable::Refuse {
            let (code, message) = if left == 0 {
                (
                    "flash_deal_sold_out",
                    format!("The flash deal on {} is sold out.", line.title),
                )
            } else if units == left {
                (
                    "flash_deal_short",
                    format!(
                        "Only {left} of {} are left at the flash deal price.",
                        line.title
                    ),
                )
            } else {
                let limit = deal.per_customer_limit.unwrap_or(0);
                let message = format!("The flash deal on {} is limited to {limit} per customer; you can add {units} more.", line.title);
                ("flash_deal_customer_limit", message)
            };
            return Ok(Effects::new().reject(code, message));
        }
        if units == 0 {
            continue;
        }
        let off = (line.unit_price - deal.price).saturating_mul(units as i64);
        let price = format_money(deal.price, &cart.currency);
        let label = if units == u64::from(line.quantity) {
            format!("{}: {price}", deal.label)
        } else {
            format!("{}: {units} at {price}", deal.label)
        };
        let mut adjustment = Adjustment::new(-off, label)
            .on_line(index as u32)
            .class("flash_deal")
            .priority(10);
        adjustment.exclusive = config.stack_with.is_empty();
        adjustment.combines_with = config.stack_with.clone();
        // Not committed in an order placed after the window closes.
        adjustment.valid_until_ms = deal.window().end_ms();
        let gone = match deal.when_unavailable {
            WhenUnavailable::FullPrice => format!(
                "The flash deal on {} has just sold out; order again to buy at the regular price.",
                line.title
            ),
            WhenUnavailable::Refuse => {
                format!("The flash deal on {} has just sold out.", line.title)
            }
        };
        effects = effects.adjustment(adjustment).claim(Claim::new(
            key.as_str(),
            units,
            deal.quantity,
            gone,
        ));
        if let Some(limit) = deal.per_customer_limit {
            let message = format!(
                "The flash deal on {} is limited to {limit} per customer.",
                line.title
            );
            effects = effects.claim(Claim::new(key.as_str(), units, limit, message).per_customer());
        }
    }
    Ok(effects)
}

/// `order.created` and `order.cancelled`: for each deal the order touched,
/// tells the stream's viewers how many units are left.
pub fn on_order(input: &Input<OrderEvent>) -> Result<Effects, Error> {
    let config = check(input.config::<Config>()?)?;
    let order = &input.event.order;
    let mine = |index: usize| {
        order
            .adjustments
            .iter()
            .any(|a| a.install_id == input.install.id && a.line == Some(index as u32))
    };
    let mut effects = Effects::new();
    for deal in &config.deals {
        let found = order
            .lines
            .iter()
            .enumerate()
            .find(|(i, l)| deal.matches(l) && mine(*i));
        let line = match found {
            Some((_, line)) => line,
            None => continue,
        };
        let stream = match order.stream_id.clone().or_else(|| deal.stream_id.clone()) {
            Some(stream) => stream,
            None => continue,
        };
        let left = deal
            .quantity
            .saturating_sub(input.counter(&deal.key(), CounterScope::Install));
        let data = json!({
            "deal": deal.id, "variant_id": line.variant_id, "sku": line.sku, "title": line.title,
            "price": deal.price, "quantity": deal.quantity, "left": left, "sold_out": left == 0,
            "text": if left == 0 { format!("{}: sold out", deal.label) } else { format!("{}: {left} left", deal.label) },
        });
        effects = effects.broadcast_to(stream, "flash_deal.left", data);
    }
    Ok(effects)
}

livemall_sdk::hooks! {
    cart_price => price,
    order_created => on_order,
    order_cancelled => on_order,
}

#[cfg(test)]
mod tests;
