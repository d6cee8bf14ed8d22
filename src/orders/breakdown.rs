//! The price breakdown a shopper sees: each line, each adjustment applied with
//! the install and plug-in version that made it, each one skipped with the
//! reason, the totals, and any rejection. Amounts are minor units of `currency`.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::orders::pricing::Priced;
use crate::orders::stacking::Decision;

/// Which install proposed an adjustment or a rejection.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Source {
    pub install_id: Uuid,
    pub plugin_slug: String,
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedView {
    pub label: String,
    /// As applied (a discount may have been capped).
    pub amount: i64,
    pub code: Option<String>,
    pub class: String,
    pub source: Source,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkippedView {
    /// The line it was for; absent for the order.
    pub line: Option<u32>,
    pub label: String,
    /// As proposed.
    pub amount: i64,
    pub code: Option<String>,
    pub class: String,
    pub reason: String,
    pub source: Source,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricedLine {
    pub product_id: String,
    pub variant_id: String,
    pub sku: String,
    pub title: String,
    pub unit_price: i64,
    pub quantity: u32,
    /// `unit_price * quantity`.
    pub total: i64,
    pub adjustments: Vec<AppliedView>,
    /// After this line's adjustments, never below zero.
    pub adjusted_total: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectionView {
    pub code: String,
    pub message: String,
    pub source: Source,
}

/// How each install's `cart.price` call went.
#[derive(Debug, Serialize, ToSchema)]
pub struct PluginRun {
    pub source: Source,
    /// `ok`, or the failure code (the plug-in was skipped).
    pub outcome: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Breakdown {
    pub currency: String,
    pub lines: Vec<PricedLine>,
    /// Adjustments on the whole order.
    pub adjustments: Vec<AppliedView>,
    pub skipped: Vec<SkippedView>,
    pub subtotal: i64,
    pub adjustments_total: i64,
    pub total: i64,
    /// When not empty, checkout refuses the order.
    pub rejections: Vec<RejectionView>,
    pub plugins: Vec<PluginRun>,
}

impl Priced {
    fn source(&self, run: usize) -> Source {
        let r = self.runs.get(run);
        Source {
            install_id: r.map(|r| r.install_id).unwrap_or_default(),
            plugin_slug: r.map(|r| r.plugin_slug.clone()).unwrap_or_default(),
            version: r.map(|r| r.version.clone()).unwrap_or_default(),
        }
    }

    pub fn breakdown(&self) -> Breakdown {
        let mut lines: Vec<PricedLine> = self
            .cart
            .lines
            .iter()
            .zip(&self.stacked.lines)
            .map(|(l, adjusted)| PricedLine {
                product_id: l.product_id.clone(),
                variant_id: l.variant_id.clone(),
                sku: l.sku.clone(),
                title: l.title.clone(),
                unit_price: l.unit_price,
                quantity: l.quantity,
                total: l.total(),
                adjustments: vec![],
                adjusted_total: *adjusted,
            })
            .collect();
        let mut order = vec![];
        let mut skipped = vec![];
        for ((a, decision), run) in self
            .proposals
            .iter()
            .zip(&self.stacked.decisions)
            .zip(&self.proposed_by)
        {
            match decision {
                Decision::Applied { amount } => {
                    let view = AppliedView {
                        label: a.label.clone(),
                        amount: *amount,
                        code: a.code.clone(),
                        class: a.class.clone(),
                        source: self.source(*run),
                    };
                    match a.line.and_then(|l| lines.get_mut(l as usize)) {
                        Some(line) => line.adjustments.push(view),
                        None => order.push(view),
                    }
                }
                Decision::Skipped(skip) => skipped.push(SkippedView {
                    line: a.line,
                    label: a.label.clone(),
                    amount: a.amount,
                    code: a.code.clone(),
                    class: a.class.clone(),
                    reason: skip.reason(&self.proposals),
                    source: self.source(*run),
                }),
            }
        }
        Breakdown {
            currency: self.cart.currency.clone(),
            lines,
            adjustments: order,
            skipped,
            subtotal: self.stacked.subtotal,
            adjustments_total: self.stacked.adjustments_total,
            total: self.stacked.total,
            rejections: self
                .rejections
                .iter()
                .map(|(run, r)| RejectionView {
                    code: r.code.clone(),
                    message: r.message.clone(),
                    source: self.source(*run),
                })
                .collect(),
            plugins: (0..self.runs.len())
                .map(|i| PluginRun {
                    source: self.source(i),
                    outcome: self.runs[i].failure.clone().unwrap_or_else(|| "ok".into()),
                })
                .collect(),
        }
    }
}
