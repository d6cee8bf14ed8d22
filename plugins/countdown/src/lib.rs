//! countdown: when a product is pinned in a live stream, a countdown starts
//! (10 s to 30 min); until it ends the product has a live-only price for
//! orders placed from that stream. The feed hears the start (with the end
//! time) and the end, when the plug-in's timer fires.
//!
//! A plug-in keeps no state between calls, so `cart.price` works the end out
//! from the input: the time the product was pinned (`stream.pins`) plus the
//! configured duration, against the envelope's `now_ms`. The live price
//! carries that end as `valid_until_ms`, so the host does not commit it in
//! an order placed at or after the end, even one priced before it. When the
//! host does not say when the product was pinned, no live price is given.

#![deny(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::abi::StreamInfo;
use livemall_sdk::prelude::*;
use serde::Deserialize;
use serde_json::json;

/// The install's configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Length of a countdown, 10 to 1800 seconds.
    #[serde(default = "five_minutes")]
    pub duration_seconds: i64,
    /// Percent off during the countdown, for products without their own offer.
    #[serde(default = "twenty")]
    pub percent_off: u32,
    /// Products with their own offer; when not empty, only these get a countdown.
    #[serde(default)]
    pub products: Vec<ProductOffer>,
    /// Shown to the shopper.
    #[serde(default = "default_label")]
    pub label: String,
    /// Classes the live price stacks with; empty: any.
    #[serde(default)]
    pub combines_with: Vec<String>,
}

fn five_minutes() -> i64 {
    300
}

fn twenty() -> u32 {
    20
}

fn default_label() -> String {
    "Live price".to_string()
}

/// One product's live offer: a fixed price or a percentage off.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductOffer {
    /// The product id.
    pub product_id: String,
    /// Live price of one unit, minor units.
    #[serde(default)]
    pub price: Option<i64>,
    /// Percent off (when no `price`).
    #[serde(default)]
    pub percent_off: Option<u32>,
}

/// The offer a product gets, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// A unit price.
    Price(i64),
    /// Percent off.
    PercentOff(u32),
}

impl Config {
    fn check(self) -> Result<Config, Error> {
        let invalid = |why: &str| Err(Error::new(format!("invalid configuration: {why}")));
        if !(10..=1800).contains(&self.duration_seconds) {
            return invalid("duration_seconds must be 10 to 1800");
        }
        if self.percent_off > 100
            || self
                .products
                .iter()
                .any(|p| p.percent_off.map_or(false, |o| o > 100))
        {
            return invalid("percent_off must be at most 100");
        }
        if self
            .products
            .iter()
            .any(|p| p.price.map_or(false, |o| o < 0))
        {
            return invalid("price must be at least 0");
        }
        Ok(self)
    }

    /// The offer for `product_id`, or none when the product gets no countdown.
    pub fn offer(&self, product_id: &str) -> Option<Offer> {
        if self.products.is_empty() {
            return Some(Offer::PercentOff(self.percent_off));
        }
        let p = self
            .products
            .iter()
            .find(|p| p.product_id.eq_ignore_ascii_case(product_id))?;
        Some(match (p.price, p.percent_off) {
            (Some(price), _) => Offer::Price(price),
            (None, percent) => Offer::PercentOff(percent.unwrap_or(self.percent_off)),
        })
    }

    fn duration_ms(&self) -> i64 {
        self.duration_seconds * 1000
    }
}

fn offer_json(offer: Offer) -> serde_json::Value {
    match offer {
        Offer::Price(price) => json!({"price": price}),
        Offer::PercentOff(percent) => json!({"percent_off": percent}),
    }
}

/// When the countdown of `product_id` in `stream` ends, if one is running at `now_ms`.
pub fn running_until(
    config: &Config,
    stream: &StreamInfo,
    product_id: &str,
    now_ms: i64,
) -> Option<i64> {
    if stream.status != "live" || !stream.pinned_product_ids.iter().any(|p| p == product_id) {
        return None;
    }
    let pinned_at = stream.pinned_at_ms(product_id)?;
    let ends = pinned_at.saturating_add(config.duration_ms());
    (now_ms >= pinned_at && now_ms < ends).then(|| ends)
}

/// The `cart.price` handler: the live price on lines of products whose
/// countdown runs in the stream the order comes from.
pub fn price(input: &Input<Cart>) -> Result<Effects, Error> {
    let config = input.config::<Config>()?.check()?;
    let cart = &input.event;
    let stream = match &cart.stream {
        Some(stream) => stream,
        None => return Ok(Effects::new()),
    };
    let mut effects = Effects::new();
    for (i, line) in cart.lines.iter().enumerate() {
        let offer = match config.offer(&line.product_id) {
            Some(offer) => offer,
            None => continue,
        };
        let ends = match running_until(&config, stream, &line.product_id, input.now_ms) {
            Some(ends) => ends,
            None => continue,
        };
        let amount = match offer {
            Offer::Price(price) => (price - line.unit_price)
                .saturating_mul(i64::from(line.quantity))
                .min(0),
            Offer::PercentOff(percent) => money::discount_percent(line.total(), percent),
        };
        if amount == 0 {
            continue;
        }
        let mut adjustment = Adjustment::new(amount, config.label.as_str())
            .on_line(i as u32)
            .class("live_price")
            .priority(20)
            .valid_until(ends);
        adjustment.combines_with = config.combines_with.clone();
        effects = effects.adjustment(adjustment);
    }
    Ok(effects)
}

fn timer_key(stream_id: &str, product_id: &str) -> String {
    format!("countdown:{stream_id}:{product_id}")
}

/// `stream.product_pinned`: starts the countdown (a timer for its end) and tells the feed.
pub fn on_pin(input: &Input<PinEvent>) -> Result<Effects, Error> {
    let config = input.config::<Config>()?.check()?;
    let event = &input.event;
    let offer = match config.offer(&event.product_id) {
        Some(offer) if event.stream.status == "live" => offer,
        _ => return Ok(Effects::new()),
    };
    // The countdown runs from the pin's commit, the instant `cart.price`
    // counts from too; the delivery may come a little later.
    let started_at_ms = event
        .stream
        .pinned_at_ms(&event.product_id)
        .unwrap_or(input.now_ms);
    let ends_at_ms = started_at_ms.saturating_add(config.duration_ms());
    let data = json!({
        "product_id": event.product_id, "started_at_ms": started_at_ms, "ends_at_ms": ends_at_ms,
        "duration_seconds": config.duration_seconds, "label": config.label, "offer": offer_json(offer),
    });
    let payload = json!({"stream_id": event.stream.id, "product_id": event.product_id, "ends_at_ms": ends_at_ms});
    Ok(Effects::new()
        .set_timer(
            timer_key(&event.stream.id, &event.product_id),
            ends_at_ms,
            payload,
        )
        .broadcast("countdown.started", data))
}

/// `stream.product_unpinned`: the countdown stops early.
pub fn on_unpin(input: &Input<PinEvent>) -> Result<Effects, Error> {
    let config = input.config::<Config>()?.check()?;
    let event = &input.event;
    if config.offer(&event.product_id).is_none() {
        return Ok(Effects::new());
    }
    let data =
        json!({"product_id": event.product_id, "ended_at_ms": input.now_ms, "reason": "unpinned"});
    Ok(Effects::new()
        .cancel_timer(timer_key(&event.stream.id, &event.product_id))
        .broadcast("countdown.ended", data))
}

#[derive(Deserialize)]
struct TimerPayload {
    stream_id: String,
    product_id: String,
    ends_at_ms: i64,
}

/// `timer.fired`: the countdown is over; the feed hears that the price is back.
pub fn on_timer(input: &Input<TimerEvent>) -> Result<Effects, Error> {
    let payload: TimerPayload = match serde_json::from_value(input.event.payload.clone()) {
        Ok(payload) => payload,
        Err(_) => return Ok(Effects::new()),
    };
    let data = json!({"product_id": payload.product_id, "ended_at_ms": payload.ends_at_ms, "reason": "time_up"});
    Ok(Effects::new().broadcast_to(payload.stream_id, "countdown.ended", data))
}

livemall_sdk::hooks! {
    cart_price => price,
    stream_product_pinned => on_pin,
    stream_product_unpinned => on_unpin,
    timer_fired => on_timer,
}

#[cfg(test)]
mod tests;
