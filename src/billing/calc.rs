//! What an invoice says, computed from plain inputs so it can be checked
//! without a database: the plan, pending prorations, rentals and usage.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::billing::period::{per_thousand, prorate, Period};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Plan,
    Proration,
    Rental,
    Usage,
    Credit,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Plan => "plan",
            LineKind::Proration => "proration",
            LineKind::Rental => "rental",
            LineKind::Usage => "usage",
            LineKind::Credit => "credit",
        }
    }
    pub fn parse(s: &str) -> LineKind {
        match s {
            "plan" => LineKind::Plan,
            "proration" => LineKind::Proration,
            "rental" => LineKind::Rental,
            "usage" => LineKind::Usage,
            _ => LineKind::Credit,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub kind: LineKind,
    pub description: String,
    pub quantity: i64,
    pub amount: i64,
    pub plan_id: Option<Uuid>,
    pub plugin_id: Option<Uuid>,
    pub install_id: Option<Uuid>,
    pub period: Period,
}

#[derive(Debug, Clone)]
pub struct PlanCharge {
    pub id: Uuid,
    pub name: String,
    pub price: i64,
}

/// An amount decided earlier in the period (a proration, a carried credit).
#[derive(Debug, Clone)]
pub struct Pending {
    pub kind: LineKind,
    pub description: String,
    pub amount: i64,
    pub plan_id: Option<Uuid>,
    pub period: Period,
}

#[derive(Debug, Clone)]
pub struct Rental {
    pub install_id: Uuid,
    pub plugin_id: Uuid,
    pub plugin_name: String,
    pub monthly_price: i64,
    pub from: DateTime<Utc>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Metered {
    pub install_id: Uuid,
    pub plugin_id: Uuid,
    pub plugin_name: String,
    pub calls: i64,
    pub per_thousand: i64,
}

#[derive(Debug, Clone)]
pub struct Inputs {
    pub period: Period,
    /// The plan at the period's start; none for a trial.
    pub plan: Option<PlanCharge>,
    pub pending: Vec<Pending>,
    pub rentals: Vec<Rental>,
    pub metered: Vec<Metered>,
}

/// The invoice's lines: the plan in full, then what changed, then rentals
/// (prorated to the second against the month that starts with the period)
/// and usage.
pub fn lines(input: &Inputs) -> Vec<Line> {
    let period = input.period;
    let mut out = Vec::new();
    if let Some(plan) = &input.plan {
        out.push(Line {
            kind: LineKind::Plan,
            description: format!("{} plan", plan.name),
            quantity: 1,
            amount: plan.price,
            plan_id: Some(plan.id),
            plugin_id: None,
            install_id: None,
            period,
        });
    }
    for p in &input.pending {
        out.push(Line {
            kind: p.kind,
            description: p.description.clone(),
            quantity: 1,
            amount: p.amount,
            plan_id: p.plan_id,
            plugin_id: None,
            install_id: None,
            period: p.period,
        });
    }
    let month = Period::month_from(period.start);
    for r in &input.rentals {
        let to = r.to.unwrap_or(period.end).min(period.end);
        let from = r.from.max(period.start);
        let seconds = period.overlap(from, to);
        if seconds == 0 || r.monthly_price == 0 {
            continue;
        }
        out.push(Line {
            kind: LineKind::Rental,
            description: format!("{} rental", r.plugin_name),
            quantity: seconds,
            amount: prorate(r.monthly_price, seconds, month.seconds()),
            plan_id: None,
            plugin_id: Some(r.plugin_id),
            install_id: Some(r.install_id),
            period: Period::new(from, to),
        });
    }
    for m in &input.metered {
        if m.calls == 0 || m.per_thousand == 0 {
            continue;
        }
        out.push(Line {
            kind: LineKind::Usage,
            description: format!("{} calls of {}", m.calls, m.plugin_name),
            quantity: m.calls,
            amount: per_thousand(m.calls, m.per_thousand),
            plan_id: None,
            plugin_id: Some(m.plugin_id),
            install_id: Some(m.install_id),
            period,
        });
    }
    out
}

pub fn total(lines: &[Line]) -> i64 {
    lines.iter().map(|l| l.amount).sum()
}

/// A plan change at `at`: credit for the unused part of the old plan, a
/// charge for the rest of the period on the new one, both to the second.
pub fn plan_change(old: &PlanCharge, new: &PlanCharge, period: Period, at: DateTime<Utc>) -> [Pending; 2] {
    let left = Period::new(at.max(period.start), period.end);
    let whole = period.seconds();
    [
        Pending {
            kind: LineKind::Proration,
            description: format!("Unused time on {}", old.name),
            amount: -prorate(old.price, left.seconds(), whole),
            plan_id: Some(old.id),
            period: left,
        },
        Pending {
            kind: LineKind::Proration,
            description: format!("Remaining time on {}", new.name),
            amount: prorate(new.price, left.seconds(), whole),
            plan_id: Some(new.id),
            period: left,
        },
    ]
}

/// Cancelling now: credit for the part of the period that is not used.
pub fn cancel_credit(plan: &PlanCharge, period: Period, at: DateTime<Utc>) -> Pending {
    let left = Period::new(at.max(period.start), period.end);
    Pending {
        kind: LineKind::Proration,
        description: format!("Unused time on {} after cancelling", plan.name),
        amount: -prorate(plan.price, left.seconds(), period.seconds()),
        plan_id: Some(plan.id),
        period: left,
    }
}

#[cfg(test)]
#[path = "calc_props.rs"]
mod props;
