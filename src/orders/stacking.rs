//! How the adjustments of every install combine into one price. A pure
//! function, so a quote, a checkout and a replay years later agree.
//!
//! The rules, per target (each cart line, then the order as a whole):
//!
//! 1. Adjustments are considered by `priority` (lower first); ties keep
//!    pipeline order (install order, then the order the plug-in returned them).
//! 2. If any adjustment on the target is `exclusive`, the first exclusive one
//!    is the only one applied there; every other one is skipped.
//! 3. Otherwise each is applied in turn unless it and an already-applied
//!    adjustment on the same target do not accept each other's class: an
//!    adjustment accepts a class when its `combines_with` is empty or lists it.
//! 4. Discounts are capped: a line never goes below zero, and an order
//!    discount takes at most what the lines cost after their own adjustments.
//!    A discount with nothing left to take is skipped; a capped one is applied
//!    for the part that fits.
//! 5. A surcharge that would take the order past [`MAX_TOTAL`] is skipped.
//!
//! So the total is never below zero and always equals the subtotal plus the
//! amounts applied.

use livemall_abi::Adjustment;

/// Largest order total: carts are bounded near 10^17 (100 lines of 999 units
/// at the largest price), and 10^18 keeps every sum far from `i64` overflow.
pub const MAX_TOTAL: i64 = 1_000_000_000_000_000_000;

/// What became of one proposed adjustment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Applied with this amount (the proposed one, or less after capping).
    Applied {
        amount: i64,
    },
    Skipped(Skip),
}

/// Why an adjustment was not applied; indices point into the proposals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Another adjustment on the same target is exclusive.
    Excluded { by: usize },
    /// It and an applied adjustment do not accept each other's class.
    Incompatible { with: usize },
    /// A discount on a target that is already at zero.
    NothingLeft,
    /// A surcharge past the largest order total.
    OutOfRange,
    /// Its line is not in the cart.
    UnknownLine,
}

impl Skip {
    /// A sentence for the shopper-facing breakdown.
    pub fn reason(&self, proposals: &[Adjustment]) -> String {
        let label = |i: &usize| proposals.get(*i).map(|a| a.label.as_str()).unwrap_or("?");
        match self {
            Skip::Excluded { by } => format!("\"{}\" is exclusive on this target", label(by)),
            Skip::Incompatible { with } => format!("does not combine with \"{}\"", label(with)),
            Skip::NothingLeft => "nothing left to discount".into(),
            Skip::OutOfRange => format!("would take the total past {MAX_TOTAL}"),
            Skip::UnknownLine => "its line is not in the cart".into(),
        }
    }
}

/// The result of stacking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stacked {
    /// One per proposal, in proposal order.
    pub decisions: Vec<Decision>,
    /// Each line's total after its own adjustments.
    pub lines: Vec<i64>,
    /// Sum of the line totals before adjustments.
    pub subtotal: i64,
    /// Sum of the applied amounts (line and order).
    pub adjustments_total: i64,
    /// `subtotal + adjustments_total`, never below zero.
    pub total: i64,
}

/// Whether `a` accepts stacking with an adjustment of `class`.
fn accepts(a: &Adjustment, class: &str) -> bool {
    a.combines_with.is_empty() || a.combines_with.iter().any(|c| c == class)
}

fn compatible(a: &Adjustment, b: &Adjustment) -> bool {
    accepts(a, &b.class) && accepts(b, &a.class)
}

/// Running amounts while stacking.
struct Running {
    /// The target being adjusted (a line's total, or the order's).
    target: i64,
    /// The whole order.
    total: i64,
}

impl Running {
    fn apply(&mut self, amount: i64) -> Decision {
        let amount = if amount < 0 { amount.max(-self.target) } else { amount };
        if amount == 0 && self.target == 0 {
            return Decision::Skipped(Skip::NothingLeft);
        }
        match self.total.checked_add(amount).filter(|t| *t <= MAX_TOTAL) {
            Some(total) => {
                self.total = total;
                self.target += amount;
                Decision::Applied { amount }
            }
            None => Decision::Skipped(Skip::OutOfRange),
        }
    }
}

/// Applies the rules to one target; `indices` are its proposals in pipeline order.
fn stack_target(proposals: &[Adjustment], mut indices: Vec<usize>, run: &mut Running, out: &mut [Option<Decision>]) {
    indices.sort_by_key(|i| proposals[*i].priority);
    if let Some(&winner) = indices.iter().find(|i| proposals[**i].exclusive) {
        for &i in &indices {
            out[i] = Some(if i == winner {
                run.apply(proposals[i].amount)
            } else {
                Decision::Skipped(Skip::Excluded { by: winner })
            });
        }
        return;
    }
    let mut applied: Vec<usize> = Vec::new();
    for i in indices {
        let clash = applied.iter().find(|j| !compatible(&proposals[i], &proposals[**j]));
        let decision = match clash {
            Some(&with) => Decision::Skipped(Skip::Incompatible { with }),
            None => run.apply(proposals[i].amount),
        };
        if matches!(decision, Decision::Applied { .. }) {
            applied.push(i);
        }
        out[i] = Some(decision);
    }
}

/// Stacks `proposals` (in pipeline order) onto lines costing `line_totals`.
pub fn stack(line_totals: &[i64], proposals: &[Adjustment]) -> Stacked {
    let subtotal = line_totals.iter().fold(0i64, |sum, t| sum.saturating_add(*t));
    let mut out: Vec<Option<Decision>> = vec![None; proposals.len()];
    let mut lines = line_totals.to_vec();
    let mut total = subtotal;
    for (line, line_total) in lines.iter_mut().enumerate() {
        let here = (0..proposals.len())
            .filter(|i| proposals[*i].line.map(|l| l as usize) == Some(line))
            .collect();
        let mut run = Running {
            target: *line_total,
            total,
        };
        stack_target(proposals, here, &mut run, &mut out);
        *line_total = run.target;
        total = run.total;
    }
    let order = (0..proposals.len()).filter(|i| proposals[*i].line.is_none()).collect();
    let mut run = Running { target: total, total };
    stack_target(proposals, order, &mut run, &mut out);
    let decisions: Vec<Decision> = out
        .into_iter()
        .map(|d| d.unwrap_or(Decision::Skipped(Skip::UnknownLine)))
        .collect();
    let adjustments_total = decisions
        .iter()
        .map(|d| match d {
            Decision::Applied { amount } => *amount,
            Decision::Skipped(_) => 0,
        })
        .sum();
    Stacked {
        decisions,
        lines,
        subtotal,
        adjustments_total,
        total: run.total,
    }
}

#[cfg(test)]
mod tests;
