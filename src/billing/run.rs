//! The billing run for an instant: every subscription whose period ended
//! by then gets its invoice, then open invoices are collected and overdue
//! accounts suspended. Each tenant's invoice, its number, ledger entries
//! and the move to the next period commit together, so a run that stops
//! half-way loses nothing and the next run (or the same instant again)
//! picks up exactly what is left; the unique period index guards the rest.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::billing::account::Status;
use crate::billing::calc::{self, Inputs, LineKind, Pending};
use crate::billing::gateway::Gateway;
use crate::billing::lifecycle::{charge, period_of};
use crate::billing::period::{add_month, Period};
use crate::billing::{dunning, ledger, plans, rentals, BillingSettings};
use crate::db::placeholders;
use crate::db::{Access, Db, TenantTxn};
use crate::entities::{billing_items, invoice_lines, invoices, subscriptions};
use crate::error::ApiResult;

#[derive(Debug, Default, Clone, Serialize, ToSchema)]
pub struct RunReport {
    pub at: Option<DateTime<Utc>>,
    /// Invoices this run made.
    pub invoiced: u32,
    pub collected: u32,
    pub failed: u32,
    pub suspended: u32,
    /// Tenants whose invoice could not be made (logged; the next run retries).
    pub errors: u32,
}

/// Tenants read per page while looking for due subscriptions.
const PAGE: u64 = 500;

pub async fn run(
    db: &Db,
    settings: &BillingSettings,
    gateway: &dyn Gateway,
    at: DateTime<Utc>,
) -> anyhow::Result<RunReport> {
    let mut report = RunReport {
        at: Some(at),
        ..RunReport::default()
    };
    let mut after = Uuid::nil();
    loop {
        let txn = db.platform(Access::Read).await?;
        let due: Vec<Uuid> = subscriptions::Entity::find()
            .select_only()
            .column(subscriptions::Column::TenantId)
            .filter(subscriptions::Column::PeriodEnd.lte(at))
            .filter(Expr::col(subscriptions::Column::PeriodStart).lt(Expr::col(subscriptions::Column::PeriodEnd)))
            .filter(subscriptions::Column::TenantId.gt(after))
            .order_by_asc(subscriptions::Column::TenantId)
            .limit(PAGE)
            .into_tuple()
            .all(&txn)
            .await?;
        drop(txn);
        let Some(last) = due.last() else { break };
        after = *last;
        for tenant_id in due {
            // A run far behind owes several periods: one invoice each.
            loop {
                match invoice_next(db, settings, tenant_id, at).await {
                    Ok(true) => report.invoiced += 1,
                    Ok(false) => break,
                    Err(e) => {
                        tracing::error!(tenant = %tenant_id, error = ?e, "invoicing failed");
                        report.errors += 1;
                        break;
                    }
                }
            }
        }
    }
    dunning::collect_due(db, settings, gateway, at, &mut report).await?;
    dunning::suspend_overdue(db, settings, at, &mut report).await?;
    tracing::info!(?report, "billing run done");
    Ok(report)
}

/// Invoices the tenant's period that ended by `at`, if there is one.
pub async fn invoice_next(db: &Db, settings: &BillingSettings, tenant_id: Uuid, at: DateTime<Utc>) -> ApiResult<bool> {
    let txn = db.tenant(tenant_id, Access::Write).await?;
    let Some(sub) = subscriptions::Entity::find()
        .filter(subscriptions::Column::TenantId.eq(tenant_id))
        .one(&*txn)
        .await?
    else {
        return Ok(false);
    };
    if sub.period_end > at || sub.period_start >= sub.period_end {
        return Ok(false);
    }
    let period = period_of(&sub);
    let base = plans::find(&*txn, sub.period_plan_id).await?;
    let status = Status::parse(&sub.status);
    let pending_rows = billing_items::Entity::find()
        .filter(billing_items::Column::TenantId.eq(tenant_id))
        .filter(billing_items::Column::InvoiceId.is_null())
        .order_by_asc(billing_items::Column::Id)
        .all(&*txn)
        .await?;
    let pending = pending_rows
        .iter()
        .map(|i| Pending {
            kind: LineKind::parse(&i.kind),
            description: i.description.clone(),
            amount: i.amount,
            plan_id: i.plan_id,
            period: Period::new(i.period_start, i.period_end),
        })
        .collect();
    let (rentals, metered) = rentals::inputs(&txn, period, &base.currency).await?;
    let input = Inputs {
        period,
        plan: (status != Status::Trialing).then(|| charge(&base)),
        pending,
        rentals,
        metered,
    };
    let mut lines = calc::lines(&input);
    let mut total = calc::total(&lines);
    let invoice_id = Uuid::now_v7();
    // More credit than charges: the rest goes to the next invoice.
    let carried = (total < 0).then(|| {
        let carry = -total;
        lines.push(calc::Line {
            kind: LineKind::Credit,
            description: "Credit carried to the next invoice".into(),
            quantity: 1,
            amount: carry,
            plan_id: None,
            plugin_id: None,
            install_id: None,
            period,
        });
        total = 0;
        Pending {
            kind: LineKind::Credit,
            description: "Credit carried from the previous invoice".into(),
            amount: -carry,
            plan_id: None,
            period,
        }
    });
    let inserted = invoices::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(invoice_id),
        number: Set(None),
        status: Set("draft".into()),
        currency: Set(base.currency.clone()),
        total: Set(total),
        period_start: Set(period.start),
        period_end: Set(period.end),
        created_at: Set(at),
        finalized_at: Set(None),
        paid_at: Set(None),
        voided_at: Set(None),
        attempts: Set(0),
        next_attempt_at: Set(None),
        gateway_ref: Set(None),
    }
    .insert(&*txn)
    .await;
    if let Err(e) = inserted {
        if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) {
            // Another run invoiced this period first.
            return Ok(false);
        }
        return Err(e.into());
    }
    let rows: Vec<invoice_lines::ActiveModel> = lines
        .iter()
        .map(|l| invoice_lines::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(Uuid::now_v7()),
            invoice_id: Set(invoice_id),
            kind: Set(l.kind.as_str().into()),
            description: Set(l.description.clone()),
            quantity: Set(l.quantity),
            amount: Set(l.amount),
            plan_id: Set(l.plan_id),
            plugin_id: Set(l.plugin_id),
            install_id: Set(l.install_id),
            period_start: Set(l.period.start),
            period_end: Set(l.period.end),
        })
        .collect();
    if !rows.is_empty() {
        invoice_lines::Entity::insert_many(rows)
            .exec_without_returning(&*txn)
            .await?;
    }
    if !pending_rows.is_empty() {
        billing_items::Entity::update_many()
            .col_expr(billing_items::Column::InvoiceId, Expr::value(invoice_id))
            .filter(billing_items::Column::TenantId.eq(tenant_id))
            .filter(billing_items::Column::Id.is_in(pending_rows.iter().map(|i| i.id)))
            .exec(&*txn)
            .await?;
    }
    if let Some(credit) = carried {
        crate::billing::lifecycle::add_items(&*txn, tenant_id, &base.currency, &[credit], at).await?;
    }
    finalize(&txn, invoice_id, total, at).await?;
    ledger::record(
        &txn,
        invoice_id,
        &lines,
        period,
        &base.currency,
        settings.author_share_percent,
        at,
    )
    .await?;
    roll_over(&txn, sub, status).await?;
    txn.commit().await?;
    Ok(true)
}

/// Draft -> open (or paid when nothing is owed), with the next number of
/// the one platform-wide sequence, taken in this transaction so numbers
/// have no gaps.
async fn finalize(txn: &TenantTxn, invoice_id: Uuid, total: i64, at: DateTime<Utc>) -> ApiResult<()> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "UPDATE invoice_counters SET next = next + 1 WHERE name = ? RETURNING next",
            ),
            ["invoice".into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the invoice counter is missing"))?;
    let next: i64 = row.try_get("", "next")?;
    let mut invoice: invoices::ActiveModel = invoices::Entity::find_by_id((txn.tenant_id(), invoice_id))
        .one(&**txn)
        .await?
        .ok_or_else(|| anyhow::anyhow!("invoice vanished"))?
        .into();
    invoice.number = Set(Some(format!("LM-{:06}", next - 1)));
    invoice.finalized_at = Set(Some(at));
    if total == 0 {
        invoice.status = Set("paid".into());
        invoice.paid_at = Set(Some(at));
    } else {
        invoice.status = Set("open".into());
        invoice.next_attempt_at = Set(Some(at));
    }
    invoice.update(&**txn).await?;
    Ok(())
}

/// The next period, or the end: a canceled subscription keeps its row with
/// nothing left to invoice (start = end).
async fn roll_over(txn: &TenantTxn, sub: subscriptions::Model, status: Status) -> ApiResult<()> {
    let end = sub.period_end;
    let ending = status == Status::Canceled || sub.cancel_at_period_end;
    let mut row: subscriptions::ActiveModel = sub.clone().into();
    row.period_start = Set(end);
    if ending {
        row.status = Set(Status::Canceled.as_str().into());
        row.canceled_at = Set(Some(sub.canceled_at.unwrap_or(end)));
        row.cancel_at_period_end = Set(false);
    } else {
        row.period_end = Set(add_month(end));
        row.period_plan_id = Set(sub.plan_id);
        if status == Status::Trialing {
            row.status = Set(Status::Active.as_str().into());
        }
    }
    row.updated_at = Set(end);
    row.update(&**txn).await?;
    Ok(())
}
