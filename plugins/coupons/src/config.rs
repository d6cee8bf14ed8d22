//! The merchant's configuration: a list of campaigns. The JSON schema in
//! `coupons.json` checks shapes and ranges at install; what a schema cannot
//! say (a percentage campaign needs `percent`...) is checked here (`read.rs`
//! reads it).

use livemall_sdk::prelude::*;
use plugin_kit::{Scope, Window};

use crate::codes::{Generator, MAX_SERIALS};

/// The install's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The campaigns, considered in this order for automatic promotions.
    pub campaigns: Vec<Campaign>,
    /// Refuse a cart with a code no campaign knows (off when another
    /// plug-in of the store reads codes too).
    pub reject_unknown_codes: bool,
}

/// What a campaign takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `percent`% off each line in scope.
    Percentage,
    /// `amount` off, once per order or per item in scope (`per`).
    FixedAmount,
    /// Buy `buy.quantity` of `buy`, get `get.quantity` of `get` at `get.percent`% off.
    BuyXGetY,
}

/// Where a fixed amount applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Per {
    /// Once, spread over the lines in scope (or on the order when unscoped).
    Order,
    /// On every unit in scope.
    Item,
}

/// Bulk codes checked by the plug-in (see `codes.rs`).
#[derive(Debug, Clone)]
pub struct Generated {
    /// Codes start with this, e.g. `SPR`.
    pub prefix: String,
    /// The campaign's secret; whoever knows it can make codes.
    pub secret: String,
    /// Serials 0 to `count - 1` are valid.
    pub count: u32,
}

/// The "buy" side of buy-X-get-Y.
#[derive(Debug, Clone)]
pub struct Buy {
    /// Units to buy for each reward.
    pub quantity: u32,
    /// What counts as bought (empty: everything).
    pub scope: Scope,
}

/// The "get" side of buy-X-get-Y.
#[derive(Debug, Clone)]
pub struct Get {
    /// Units rewarded each time.
    pub quantity: u32,
    /// Percent off the rewarded units (100: free).
    pub percent: u32,
    /// What can be rewarded (empty: everything); the cheapest units are.
    pub scope: Scope,
}

/// One campaign: its codes (or none, for an automatic promotion), its
/// discount, conditions, limits and stacking rules.
#[derive(Debug, Clone)]
pub struct Campaign {
    /// Short id, used in counter keys: changing it restarts the counts.
    pub id: String,
    /// Shown in labels of automatic promotions (codes show the code).
    pub title: Option<String>,
    /// Codes, compared case-insensitively.
    pub codes: Vec<String>,
    /// Bulk codes checked from a secret.
    pub generated: Option<Generated>,
    /// Applies without a code when its conditions are met.
    pub automatic: bool,
    /// The discount.
    pub discount: Kind,
    /// For `percentage`.
    pub percent: Option<u32>,
    /// For `fixed_amount`, in minor units.
    pub amount: Option<i64>,
    /// For `fixed_amount`: once per order (default) or per item.
    pub per: Option<Per>,
    /// For `buy_x_get_y`.
    pub buy: Option<Buy>,
    /// For `buy_x_get_y`.
    pub get: Option<Get>,
    /// For `buy_x_get_y`: most rewards per order (default: as many as the cart allows).
    pub max_applications: Option<u32>,
    /// The lines the discount and the minimums are about (empty: all).
    pub applies_to: Scope,
    /// Subtotal of the lines in scope needed, minor units.
    pub min_subtotal: i64,
    /// Units in scope needed.
    pub min_quantity: u32,
    /// RFC 3339 start.
    pub starts_at: Option<String>,
    /// RFC 3339 end.
    pub ends_at: Option<String>,
    /// Orders that may use the campaign, all codes together.
    pub usage_limit: Option<u64>,
    /// Orders each customer may use it in.
    pub per_customer_limit: Option<u64>,
    /// Orders each single code may be used in (1 for single-use codes).
    pub per_code_limit: Option<u64>,
    /// When applied, nothing else applies to the same line or order.
    pub exclusive: bool,
    /// Classes it stacks with (`coupon`, `promotion`, `flash_deal`,
    /// `live_price`...); empty: any.
    pub combines_with: Vec<String>,
    /// Lower runs first in the stacking rules.
    pub priority: i32,
}

fn invalid(campaign: &str, reason: &str) -> Error {
    Error::new(format!(
        "invalid configuration: campaign `{campaign}`: {reason}"
    ))
}

impl Campaign {
    /// `coupon` for a campaign used with a code, `promotion` for an automatic one.
    pub fn class(&self) -> &'static str {
        if self.automatic {
            "promotion"
        } else {
            "coupon"
        }
    }

    /// The time window.
    pub fn window(&self) -> Window {
        Window {
            starts_at: self.starts_at.clone(),
            ends_at: self.ends_at.clone(),
        }
    }

    /// The generator of its bulk codes.
    pub fn generator(&self) -> Option<(Generator, u32)> {
        self.generated
            .as_ref()
            .map(|g| (Generator::new(&g.prefix, &g.secret), g.count))
    }

    fn check(&self) -> Result<(), Error> {
        let id = self.id.as_str();
        let needs = |present: bool, what: &str| {
            if present {
                Ok(())
            } else {
                Err(invalid(id, what))
            }
        };
        match self.discount {
            Kind::Percentage => needs(
                matches!(self.percent, Some(1..=100)),
                "`percentage` needs `percent` from 1 to 100",
            )?,
            Kind::FixedAmount => needs(
                self.amount.map_or(false, |a| a > 0),
                "`fixed_amount` needs a positive `amount`",
            )?,
            Kind::BuyXGetY => {
                let ok = matches!((&self.buy, &self.get), (Some(b), Some(g)) if b.quantity > 0 && g.quantity > 0 && (1..=100).contains(&g.percent));
                needs(
                    ok,
                    "`buy_x_get_y` needs `buy` and `get` with quantities of at least 1",
                )?
            }
        }
        needs(
            self.automatic || !self.codes.is_empty() || self.generated.is_some(),
            "give `codes`, `generated` or `automatic: true`",
        )?;
        needs(
            !(self.automatic && (!self.codes.is_empty() || self.generated.is_some())),
            "an automatic campaign has no codes",
        )?;
        needs(
            self.per_code_limit.is_none() || !self.automatic,
            "`per_code_limit` needs codes",
        )?;
        if let Some(g) = &self.generated {
            needs(
                g.count <= MAX_SERIALS,
                "`generated.count` is at most 1048576",
            )?;
            needs(
                g.secret.chars().count() >= 16,
                "`generated.secret` needs at least 16 characters",
            )?;
        }
        self.window().at(0).map(|_| ())
    }
}

impl Config {
    /// Checks what the schema cannot, including that campaign ids are unique.
    pub fn check(self) -> Result<Config, Error> {
        for (i, campaign) in self.campaigns.iter().enumerate() {
            campaign.check()?;
            if self.campaigns[..i].iter().any(|c| c.id == campaign.id) {
                return Err(invalid(&campaign.id, "campaign ids must be unique"));
            }
        }
        Ok(self)
    }
}
