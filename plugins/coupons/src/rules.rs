//! What a campaign takes off a cart: line and order amounts, before the
//! host's stacking rules combine them with other plug-ins' adjustments.

use livemall_sdk::prelude::*;
use plugin_kit::Scope;

use crate::config::{Buy, Campaign, Get, Kind, Per};

/// A proposed amount (negative) on a line, or on the order when `None`.
pub type Amounts = Vec<(Option<usize>, i64)>;

/// Lines of `cart` in `scope`, with their units and subtotal.
pub fn in_scope<'a>(cart: &'a Cart, scope: &Scope) -> (Vec<(usize, &'a CartLine)>, u64, i64) {
    let lines: Vec<_> = cart
        .lines
        .iter()
        .enumerate()
        .filter(|(_, l)| scope.matches(l))
        .collect();
    let units = lines.iter().map(|(_, l)| u64::from(l.quantity)).sum();
    let subtotal = lines
        .iter()
        .fold(0i64, |s, (_, l)| s.saturating_add(l.total()));
    (lines, units, subtotal)
}

/// The campaign's amounts on `cart`; empty when it takes nothing off.
pub fn amounts(campaign: &Campaign, cart: &Cart) -> Amounts {
    let (lines, _, subtotal) = in_scope(cart, &campaign.applies_to);
    match campaign.discount {
        Kind::Percentage => {
            let percent = campaign.percent.unwrap_or(0);
            lines
                .iter()
                .map(|(i, l)| (Some(*i), money::discount_percent(l.total(), percent)))
                .filter(|(_, a)| *a != 0)
                .collect()
        }
        Kind::FixedAmount => {
            let amount = campaign.amount.unwrap_or(0);
            match campaign.per.unwrap_or(Per::Order) {
                Per::Item => lines
                    .iter()
                    .map(|(i, l)| {
                        let off = amount.saturating_mul(i64::from(l.quantity));
                        (Some(*i), money::cap_discount(-off, l.total()))
                    })
                    .filter(|(_, a)| *a != 0)
                    .collect(),
                Per::Order if campaign.applies_to.is_everything() => {
                    vec![(None, money::cap_discount(-amount, subtotal))]
                }
                Per::Order => spread(amount.min(subtotal), &lines, subtotal),
            }
        }
        Kind::BuyXGetY => match (&campaign.buy, &campaign.get) {
            (Some(buy), Some(get)) => buy_x_get_y(cart, buy, get, campaign.max_applications),
            _ => Vec::new(),
        },
    }
}

/// Splits `amount` over `lines` in proportion to their totals (largest
/// remainders get the leftover minor units), so no line gets more than it costs.
fn spread(amount: i64, lines: &[(usize, &CartLine)], subtotal: i64) -> Amounts {
    if amount <= 0 || subtotal <= 0 {
        return Vec::new();
    }
    let (amount, subtotal) = (i128::from(amount), i128::from(subtotal));
    let mut shares: Vec<(usize, i128, i128)> = lines
        .iter()
        .map(|(i, l)| {
            let exact = amount * i128::from(l.total());
            (*i, exact / subtotal, exact % subtotal)
        })
        .collect();
    let mut left = amount - shares.iter().map(|s| s.1).sum::<i128>();
    // Largest remainder first, ties in line order.
    let order = sorted(
        shares
            .iter()
            .enumerate()
            .map(|(k, s)| (-(i64::try_from(s.2).unwrap_or(i64::MAX)), k)),
    );
    for k in order {
        if left == 0 {
            break;
        }
        shares[k].1 += 1;
        left -= 1;
    }
    shares
        .into_iter()
        .filter(|s| s.1 > 0)
        .map(|(i, share, _)| (Some(i), -(i64::try_from(share).unwrap_or(0))))
        .collect()
}

/// The indices of `keyed`, by key then index. (One sort instantiation for
/// every ordering here keeps the module small.)
fn sorted(keyed: impl Iterator<Item = (i64, usize)>) -> Vec<usize> {
    let mut keyed: Vec<(i64, usize)> = keyed.collect();
    keyed.sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// Buy-X-get-Y: each reward takes `buy.quantity` units (the dearest first)
/// and gives `get.quantity` units (the cheapest first) at `get.percent`% off;
/// no unit counts twice. Units are handled by line, not one by one.
fn buy_x_get_y(cart: &Cart, buy: &Buy, get: &Get, max: Option<u32>) -> Amounts {
    let mut left: Vec<u64> = cart.lines.iter().map(|l| u64::from(l.quantity)).collect();
    let mut rewarded = vec![0u64; cart.lines.len()];
    let lines = cart.lines.iter().enumerate();
    let buyers = sorted(
        lines
            .clone()
            .filter(|(_, l)| buy.scope.matches(l))
            .map(|(i, l)| (-l.unit_price, i)),
    );
    let getters = sorted(
        lines
            .filter(|(_, l)| get.scope.matches(l))
            .map(|(i, l)| (l.unit_price, i)),
    );
    let take =
        |order: &[usize], left: &mut [u64], mut need: u64, taken: &mut Vec<(usize, u64)>| -> bool {
            for &i in order {
                if need == 0 {
                    break;
                }
                let k = left[i].min(need);
                left[i] -= k;
                need -= k;
                if k > 0 {
                    taken.push((i, k));
                }
            }
            need == 0
        };
    let mut applications = 0u32;
    while max.map_or(true, |m| applications < m) {
        let mut bought = Vec::new();
        let mut got = Vec::new();
        if !take(&buyers, &mut left, u64::from(buy.quantity), &mut bought)
            || !take(&getters, &mut left, u64::from(get.quantity), &mut got)
        {
            break;
        }
        for (i, k) in got {
            rewarded[i] += k;
        }
        applications += 1;
    }
    rewarded
        .iter()
        .enumerate()
        .filter(|(_, k)| **k > 0)
        .map(|(i, k)| {
            let units_total = cart.lines[i].unit_price.saturating_mul(*k as i64);
            (Some(i), money::discount_percent(units_total, get.percent))
        })
        .filter(|(_, a)| *a != 0)
        .collect()
}

/// A short description of the discount for labels, e.g. `10% off`.
pub fn describe(campaign: &Campaign, currency: &str) -> String {
    match campaign.discount {
        Kind::Percentage => format!("{}% off", campaign.percent.unwrap_or(0)),
        Kind::FixedAmount => {
            let amount = plugin_kit::format_money(campaign.amount.unwrap_or(0), currency);
            match campaign.per.unwrap_or(Per::Order) {
                Per::Order => format!("{amount} off"),
                Per::Item => format!("{amount} off each"),
            }
        }
        Kind::BuyXGetY => {
            let (buy, get) = match (&campaign.buy, &campaign.get) {
                (Some(b), Some(g)) => (b.quantity, g),
                _ => return "buy X get Y".into(),
            };
            if get.percent == 100 {
                format!("buy {buy} get {} free", get.quantity)
            } else {
                format!("buy {buy} get {} at {}% off", get.quantity, get.percent)
            }
        }
    }
}
