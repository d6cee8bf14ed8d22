//! coupons: discount campaigns with codes (typed or generated in bulk) or
//! without (automatic promotions). Percentage, fixed amount or buy-X-get-Y;
//! on the order or on products, variants and tags; minimum spend and
//! quantity; a time window; total, per-customer and per-code limits held by
//! claims on bounded counters (given back when an order is cancelled);
//! each campaign once per order; exclusive or combinable. A code that does
//! not apply refuses the cart with a message that says why.
//!
//! See README.md for the configuration and the stacking rules.

#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod codes;
pub mod config;
mod read;
pub mod rules;

use config::{Campaign, Config};
use livemall_sdk::prelude::*;
use plugin_kit::{format_money, WindowState};

/// A campaign that will apply, and the code it came with.
struct Accepted<'a> {
    campaign: &'a Campaign,
    code: Option<String>,
    amounts: rules::Amounts,
}

impl Accepted<'_> {
    fn name(&self) -> String {
        name(self.campaign, self.code.as_deref())
    }
}

fn name(campaign: &Campaign, code: Option<&str>) -> String {
    match code {
        Some(code) => code.to_string(),
        None => campaign
            .title
            .clone()
            .unwrap_or_else(|| campaign.id.clone()),
    }
}

/// Why a campaign does not apply: a stable code and the shopper's message.
type Refusal = (&'static str, String);

fn used(input: &Input<Cart>, key: &str, scope: CounterScope) -> u64 {
    input.counter(key, scope)
}

/// Counter keys: uses of a campaign (total and per customer), uses of one code.
fn campaign_key(campaign: &Campaign) -> String {
    format!("use:{}", campaign.id)
}

/// Unlisted (`#`): one counter per code, never sent in the input, so a
/// campaign can have any number of used single-use codes. The host says in
/// a quote when one is spent, and refuses the order at checkout.
fn code_key(campaign: &Campaign, code: &str) -> String {
    format!("#code:{}:{code}", campaign.id)
}

fn customer_limit_message(name: &str, limit: u64) -> String {
    if limit == 1 {
        format!("You have already used {name}.")
    } else {
        format!("You have already used {name} {limit} times, the most allowed.")
    }
}

/// Checks one campaign against the cart; the amounts it takes off, or why not.
fn evaluate(
    input: &Input<Cart>,
    campaign: &Campaign,
    code: Option<&str>,
) -> Result<rules::Amounts, Refusal> {
    let cart = &input.event;
    let name = name(campaign, code);
    let window = campaign.window();
    match window
        .at(input.now_ms)
        .map_err(|e| ("coupon_misconfigured", e.message().to_string()))?
    {
        WindowState::NotStarted => {
            let at = window.starts_at.unwrap_or_default();
            return Err((
                "coupon_not_started",
                format!("{name} is not valid yet: it starts at {at}."),
            ));
        }
        WindowState::Ended => {
            let at = window.ends_at.unwrap_or_default();
            return Err(("coupon_expired", format!("{name} expired at {at}.")));
        }
        WindowState::Open => {}
    }
    let key = campaign_key(campaign);
    if let Some(limit) = campaign.usage_limit {
        if used(input, &key, CounterScope::Install) >= limit {
            return Err(("coupon_limit_reached", format!("{name} has been used up.")));
        }
    }
    if let (Some(limit), Some(_)) = (campaign.per_customer_limit, &cart.customer) {
        if used(input, &key, CounterScope::Customer) >= limit {
            return Err((
                "coupon_customer_limit",
                customer_limit_message(&name, limit),
            ));
        }
    }
    let (lines, units, subtotal) = rules::in_scope(cart, &campaign.applies_to);
    if lines.is_empty() {
        return Err((
            "coupon_not_applicable",
            format!("{name} does not apply to the products in your cart."),
        ));
    }
    if subtotal < campaign.min_subtotal {
        let (min, more) = (
            format_money(campaign.min_subtotal, &cart.currency),
            format_money(campaign.min_subtotal - subtotal, &cart.currency),
        );
        let what = if campaign.applies_to.is_everything() {
            "an order"
        } else {
            "eligible products"
        };
        return Err((
            "coupon_minimum_not_met",
            format!("{name} needs {min} of {what}; add {more} more."),
        ));
    }
    if units < u64::from(campaign.min_quantity) {
        let more = u64::from(campaign.min_quantity) - units;
        return Err((
            "coupon_minimum_not_met",
            format!(
                "{name} needs at least {} eligible items; add {more} more.",
                campaign.min_quantity
            ),
        ));
    }
    let amounts = rules::amounts(campaign, cart);
    if amounts.is_empty() {
        let need = match (&campaign.buy, &campaign.get) {
            (Some(b), Some(g)) => format!(
                "{name} needs {} eligible items in your cart.",
                b.quantity + g.quantity
            ),
            _ => format!("{name} takes nothing off this cart."),
        };
        return Err(("coupon_minimum_not_met", need));
    }
    Ok(amounts)
}

fn accepts(a: &Campaign, class: &str) -> bool {
    a.combines_with.is_empty() || a.combines_with.iter().any(|c| c == class)
}

/// Two campaigns stack when neither is exclusive and each accepts the other's class.
fn compatible(a: &Campaign, b: &Campaign) -> bool {
    !a.exclusive && !b.exclusive && accepts(a, b.class()) && accepts(b, a.class())
}

/// The campaign a typed code belongs to, and the code as the plug-in keeps it.
fn find_code<'a>(config: &'a Config, typed: &str) -> Option<(&'a Campaign, String)> {
    let code = typed.trim().to_ascii_uppercase();
    config
        .campaigns
        .iter()
        .filter(|c| !c.automatic)
        .find_map(|c| {
            if c.codes.iter().any(|k| k.trim().eq_ignore_ascii_case(&code)) {
                return Some((c, code.clone()));
            }
            let (generator, count) = c.generator()?;
            generator
                .serial_of(&code, count)
                .map(|serial| (c, generator.code(serial)))
        })
}

fn refuse(code: &str, message: String) -> Result<Effects, Error> {
    Ok(Effects::new().reject(code, message))
}

/// The `cart.price` handler.
pub fn price(input: &Input<Cart>) -> Result<Effects, Error> {
    let config = Config::read(&input.install.config)?;
    let mut accepted: Vec<Accepted> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for typed in &input.event.codes {
        let normal = typed.trim().to_ascii_uppercase();
        if normal.is_empty() || seen.contains(&normal) {
            continue;
        }
        seen.push(normal);
        let (campaign, code) = match find_code(&config, typed) {
            Some(found) => found,
            None if config.reject_unknown_codes => {
                return refuse(
                    "coupon_unknown",
                    format!("{} is not a valid code.", typed.trim()),
                )
            }
            None => continue,
        };
        if let Some(other) = accepted.iter().find(|a| a.campaign.id == campaign.id) {
            let message = format!(
                "{code} and {} belong to the same offer; only one can be used per order.",
                other.name()
            );
            return refuse("coupon_once_per_order", message);
        }
        let amounts = match evaluate(input, campaign, Some(&code)) {
            Ok(amounts) => amounts,
            Err((reason, message)) => return refuse(reason, message),
        };
        if let Some(other) = accepted.iter().find(|a| !compatible(campaign, a.campaign)) {
            return refuse(
                "coupon_does_not_combine",
                format!("{code} cannot be combined with {}.", other.name()),
            );
        }
        accepted.push(Accepted {
            campaign,
            code: Some(code),
            amounts,
        });
    }
    for campaign in config.campaigns.iter().filter(|c| c.automatic) {
        if accepted.iter().any(|a| !compatible(campaign, a.campaign)) {
            continue;
        }
        if let Ok(amounts) = evaluate(input, campaign, None) {
            accepted.push(Accepted {
                campaign,
                code: None,
                amounts,
            });
        }
    }
    Ok(effects(&accepted, &input.event.currency))
}

/// Adjustments and claims of the campaigns that apply.
fn effects(accepted: &[Accepted], currency: &str) -> Effects {
    let mut effects = Effects::new();
    for a in accepted {
        let c = a.campaign;
        let name = a.name();
        let label = format!("{name}: {}", rules::describe(c, currency));
        for (line, amount) in &a.amounts {
            let mut adjustment = Adjustment::new(*amount, label.as_str())
                .class(c.class())
                .priority(c.priority);
            adjustment.line = line.map(|l| l as u32);
            adjustment.code = a.code.clone();
            adjustment.exclusive = c.exclusive;
            adjustment.combines_with = c.combines_with.clone();
            adjustment.valid_until_ms = c.window().end_ms();
            effects = effects.adjustment(adjustment);
        }
        let key = campaign_key(c);
        if let Some(limit) = c.usage_limit {
            effects = effects.claim(Claim::new(
                key.as_str(),
                1,
                limit,
                format!("{name} has been used up."),
            ));
        }
        if let Some(limit) = c.per_customer_limit {
            let message = customer_limit_message(&name, limit);
            effects = effects.claim(Claim::new(key.as_str(), 1, limit, message).per_customer());
        }
        if let (Some(limit), Some(code)) = (c.per_code_limit, &a.code) {
            let message = format!("The code {code} has already been used.");
            effects = effects.claim(Claim::new(code_key(c, code), 1, limit, message));
        }
    }
    effects
}

livemall_sdk::hooks! {
    cart_price => price,
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_limits;
