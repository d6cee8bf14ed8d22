//! Collecting open invoices and chasing failed ones. A failed payment makes
//! the subscription past_due; it is tried again `retry_days` after the first
//! failure (1, 3 and 5 days by default); `grace_days` after it (7) the tenant
//! is suspended: its plug-ins stop and money actions are refused, nothing is
//! deleted, storefront reads keep working. A payment restores everything.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use crate::billing::account::Status;
use crate::billing::gateway::{Charge, Collection, Gateway};
use crate::billing::run::RunReport;
use crate::billing::BillingSettings;
use crate::db::{Access, Db, TenantTxn};
use crate::entities::{invoices, subscriptions};
use crate::error::{ApiError, ApiResult};

const PAGE: u64 = 500;

/// Tries every open invoice whose next attempt is due.
pub async fn collect_due(
    db: &Db,
    settings: &BillingSettings,
    gateway: &dyn Gateway,
    at: DateTime<Utc>,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let mut after = Uuid::nil();
    loop {
        let txn = db.platform(Access::Read).await?;
        let due: Vec<invoices::Model> = invoices::Entity::find()
            .filter(invoices::Column::Status.eq("open"))
            .filter(invoices::Column::NextAttemptAt.lte(at))
            .filter(invoices::Column::Id.gt(after))
            .order_by_asc(invoices::Column::Id)
            .limit(PAGE)
            .all(&txn)
            .await?;
        drop(txn);
        let Some(last) = due.last() else { break };
        after = last.id;
        for invoice in due {
            match collect_one(db, settings, gateway, invoice, at).await {
                Ok(Some(true)) => report.collected += 1,
                Ok(Some(false)) => report.failed += 1,
                Ok(None) => {}
                Err(e) => tracing::error!(error = ?e, "collecting an invoice failed; the next run tries again"),
            }
        }
    }
    Ok(())
}

/// Some(true) paid, Some(false) failed, None pending.
async fn collect_one(
    db: &Db,
    settings: &BillingSettings,
    gateway: &dyn Gateway,
    invoice: invoices::Model,
    at: DateTime<Utc>,
) -> ApiResult<Option<bool>> {
    let txn = db.tenant(invoice.tenant_id, Access::Read).await?;
    let sub = subscriptions::Entity::find()
        .filter(subscriptions::Column::TenantId.eq(invoice.tenant_id))
        .one(&*txn)
        .await?;
    drop(txn);
    let charge = Charge {
        tenant_id: invoice.tenant_id,
        invoice_id: invoice.id,
        number: invoice.number.clone().unwrap_or_default(),
        amount: invoice.total,
        currency: invoice.currency.clone(),
        attempt: invoice.attempts + 1,
        customer: sub.as_ref().and_then(|s| s.gateway_customer.clone()),
        payment_method: sub.as_ref().and_then(|s| s.payment_method.clone()),
    };
    let outcome = gateway.collect(&charge).await?;
    let txn = db.tenant(invoice.tenant_id, Access::Write).await?;
    let result = match outcome {
        Collection::Paid { reference } => {
            settle(&txn, invoice.id, Some(reference), at).await?;
            Some(true)
        }
        Collection::Pending => {
            let mut row: invoices::ActiveModel = invoice.into();
            row.next_attempt_at = Set(None);
            row.update(&*txn).await?;
            None
        }
        Collection::Failed { reason } => {
            tracing::info!(invoice = %invoice.id, %reason, "payment failed");
            fail(&txn, settings, invoice.id, at, true).await?;
            Some(false)
        }
    };
    txn.commit().await?;
    Ok(result)
}

/// Marks an open invoice paid (a paid one stays as it is) and, when no
/// other invoice is unpaid after a failure, restores the subscription.
pub async fn settle(
    txn: &TenantTxn,
    invoice_id: Uuid,
    reference: Option<String>,
    at: DateTime<Utc>,
) -> ApiResult<invoices::Model> {
    let invoice = invoices::Entity::find_by_id((txn.tenant_id(), invoice_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    match invoice.status.as_str() {
        "paid" => return Ok(invoice),
        "open" => {}
        other => {
            return Err(ApiError::conflict(
                "invoice_not_open",
                format!("a {other} invoice cannot be paid"),
            ))
        }
    }
    let mut row: invoices::ActiveModel = invoice.into();
    row.status = Set("paid".into());
    row.paid_at = Set(Some(at));
    row.next_attempt_at = Set(None);
    if reference.is_some() {
        row.gateway_ref = Set(reference);
    }
    let invoice = row.update(&**txn).await?;
    restore_if_settled(txn, at).await?;
    Ok(invoice)
}

/// Back to active, plug-ins running, once nothing failed is left unpaid.
pub async fn restore_if_settled(txn: &TenantTxn, at: DateTime<Utc>) -> ApiResult<()> {
    let unpaid = invoices::Entity::find()
        .filter(invoices::Column::TenantId.eq(txn.tenant_id()))
        .filter(invoices::Column::Status.eq("open"))
        .filter(invoices::Column::Attempts.gt(0))
        .count(&**txn)
        .await?;
    if unpaid > 0 {
        return Ok(());
    }
    let Some(sub) = subscriptions::Entity::find()
        .filter(subscriptions::Column::TenantId.eq(txn.tenant_id()))
        .one(&**txn)
        .await?
    else {
        return Ok(());
    };
    if Status::parse(&sub.status) != Status::PastDue && sub.suspended_at.is_none() {
        return Ok(());
    }
    let status = Status::parse(&sub.status);
    let mut row: subscriptions::ActiveModel = sub.into();
    if status == Status::PastDue {
        row.status = Set(Status::Active.as_str().into());
    }
    row.past_due_since = Set(None);
    row.suspended_at = Set(None);
    row.updated_at = Set(at);
    row.update(&**txn).await?;
    Ok(())
}

/// A failed payment: the subscription goes past_due and the invoice gets
/// its next try from the schedule. `counts` is false for a gateway's
/// notice about an attempt already recorded.
pub async fn fail(
    txn: &TenantTxn,
    settings: &BillingSettings,
    invoice_id: Uuid,
    at: DateTime<Utc>,
    counts: bool,
) -> ApiResult<()> {
    let invoice = invoices::Entity::find_by_id((txn.tenant_id(), invoice_id))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if invoice.status != "open" {
        return Ok(());
    }
    let sub = subscriptions::Entity::find()
        .filter(subscriptions::Column::TenantId.eq(txn.tenant_id()))
        .one(&**txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    let since = sub.past_due_since.unwrap_or(at);
    let attempts = if counts {
        invoice.attempts + 1
    } else {
        invoice.attempts.max(1)
    };
    let next = settings
        .retry_days
        .get(usize::try_from(attempts - 1).unwrap_or(usize::MAX))
        .map(|days| since + Duration::days(*days));
    let mut row: invoices::ActiveModel = invoice.into();
    row.attempts = Set(attempts);
    row.next_attempt_at = Set(next);
    row.update(&**txn).await?;
    let status = Status::parse(&sub.status);
    if matches!(status, Status::Active | Status::Trialing) || sub.past_due_since.is_none() {
        let mut row: subscriptions::ActiveModel = sub.into();
        if status != Status::Canceled {
            row.status = Set(Status::PastDue.as_str().into());
        }
        row.past_due_since = Set(Some(since));
        row.updated_at = Set(at);
        row.update(&**txn).await?;
    }
    Ok(())
}

/// Suspends tenants past due for longer than the grace period.
pub async fn suspend_overdue(
    db: &Db,
    settings: &BillingSettings,
    at: DateTime<Utc>,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let cutoff = at - Duration::days(settings.grace_days);
    let txn = db.platform(Access::Read).await?;
    let overdue: Vec<Uuid> = subscriptions::Entity::find()
        .select_only()
        .column(subscriptions::Column::TenantId)
        .filter(subscriptions::Column::PastDueSince.lte(cutoff))
        .filter(subscriptions::Column::SuspendedAt.is_null())
        .into_tuple()
        .all(&txn)
        .await?;
    drop(txn);
    for tenant_id in overdue {
        let txn = db.tenant(tenant_id, Access::Write).await?;
        if let Some(sub) = subscriptions::Entity::find()
            .filter(subscriptions::Column::TenantId.eq(tenant_id))
            .one(&*txn)
            .await?
        {
            let mut row: subscriptions::ActiveModel = sub.into();
            row.suspended_at = Set(Some(at));
            row.updated_at = Set(at);
            row.update(&*txn).await?;
            report.suspended += 1;
            tracing::warn!(tenant = %tenant_id, "tenant suspended for an unpaid invoice");
        }
        txn.commit().await?;
    }
    Ok(())
}
