//! Subscription changes: start (with a trial), change plan (prorated to
//! the second), cancel now or at the period's end, resume.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::billing::account::Status;
use crate::billing::calc::{self, Pending, PlanCharge};
use crate::billing::period::{add_month, Period};
use crate::entities::{billing_items, plans, subscriptions};
use crate::error::{ApiError, ApiResult};

pub fn charge(plan: &plans::Model) -> PlanCharge {
    PlanCharge {
        id: plan.id,
        name: plan.name.clone(),
        price: plan.price,
    }
}

pub fn period_of(sub: &subscriptions::Model) -> Period {
    Period::new(sub.period_start, sub.period_end)
}

pub async fn find(db: &impl ConnectionTrait, tenant_id: Uuid) -> ApiResult<Option<subscriptions::Model>> {
    Ok(subscriptions::Entity::find()
        .filter(subscriptions::Column::TenantId.eq(tenant_id))
        .one(db)
        .await?)
}

fn choosable(plan: &plans::Model) -> ApiResult<()> {
    if plan.archived {
        return Err(ApiError::field(
            "plan_unavailable",
            "plan_id",
            "this plan is no longer offered",
        ));
    }
    Ok(())
}

/// Subscribes the tenant: a trial first when the plan has one (only on a
/// tenant's first subscription), else a paid month from now.
pub async fn start(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    plan: &plans::Model,
    now: DateTime<Utc>,
) -> ApiResult<subscriptions::Model> {
    choosable(plan)?;
    let existing = find(db, tenant_id).await?;
    if let Some(old) = &existing {
        if Status::parse(&old.status) != Status::Canceled {
            return Err(ApiError::conflict("already_subscribed", "change the plan instead"));
        }
        if old.period_start < old.period_end {
            return Err(ApiError::conflict(
                "final_invoice_pending",
                "the canceled subscription's last period is not invoiced yet; subscribe again after the next billing run",
            ));
        }
    }
    let trial = existing.is_none() && plan.trial_days > 0;
    let (status, end) = if trial {
        (Status::Trialing, now + Duration::days(i64::from(plan.trial_days)))
    } else {
        (Status::Active, add_month(now))
    };
    let row = subscriptions::ActiveModel {
        tenant_id: Set(tenant_id),
        id: Set(existing.as_ref().map_or_else(Uuid::now_v7, |o| o.id)),
        plan_id: Set(plan.id),
        period_plan_id: Set(plan.id),
        status: Set(status.as_str().into()),
        period_start: Set(now),
        period_end: Set(end),
        cancel_at_period_end: Set(false),
        canceled_at: Set(None),
        past_due_since: Set(None),
        suspended_at: Set(None),
        gateway_customer: Set(existing.as_ref().and_then(|o| o.gateway_customer.clone())),
        payment_method: Set(existing.as_ref().and_then(|o| o.payment_method.clone())),
        created_at: Set(existing.as_ref().map_or(now, |o| o.created_at)),
        updated_at: Set(now),
    };
    Ok(match existing {
        Some(_) => row.update(db).await?,
        None => row.insert(db).await?,
    })
}

/// Moves to `new`; in a paid period this leaves a credit for the old
/// plan's unused seconds and a charge for the new plan's, both invoiced at
/// the period's end. In a trial the plan just changes.
pub async fn change(
    db: &impl ConnectionTrait,
    sub: subscriptions::Model,
    old: &plans::Model,
    new: &plans::Model,
    now: DateTime<Utc>,
) -> ApiResult<subscriptions::Model> {
    choosable(new)?;
    let status = Status::parse(&sub.status);
    if status == Status::Canceled {
        return Err(ApiError::conflict(
            "subscription_canceled",
            "the subscription is canceled; subscribe again",
        ));
    }
    if new.currency != old.currency {
        return Err(ApiError::field(
            "currency_mismatch",
            "plan_id",
            format!(
                "the plan is billed in {}, the subscription in {}",
                new.currency, old.currency
            ),
        ));
    }
    if new.id == old.id {
        return Ok(sub);
    }
    let mut row: subscriptions::ActiveModel = sub.clone().into();
    if status == Status::Trialing {
        row.period_plan_id = Set(new.id);
    } else {
        let items = calc::plan_change(&charge(old), &charge(new), period_of(&sub), now);
        add_items(db, sub.tenant_id, &old.currency, &items, now).await?;
    }
    row.plan_id = Set(new.id);
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Cancels at the period's end (resumable until then), or now with a
/// credit for the unused seconds; the last period is invoiced by the next run.
pub async fn cancel(
    db: &impl ConnectionTrait,
    sub: subscriptions::Model,
    plan: &plans::Model,
    now: DateTime<Utc>,
    at_period_end: bool,
) -> ApiResult<subscriptions::Model> {
    if Status::parse(&sub.status) == Status::Canceled {
        return Err(ApiError::conflict(
            "subscription_canceled",
            "the subscription is already canceled",
        ));
    }
    let mut row: subscriptions::ActiveModel = sub.clone().into();
    if at_period_end {
        row.cancel_at_period_end = Set(true);
    } else {
        if Status::parse(&sub.status) != Status::Trialing {
            let credit = calc::cancel_credit(&charge(plan), period_of(&sub), now);
            add_items(db, sub.tenant_id, &plan.currency, &[credit], now).await?;
        }
        let end = now.max(sub.period_start);
        row.status = Set(Status::Canceled.as_str().into());
        row.canceled_at = Set(Some(now));
        row.period_end = Set(end);
        if Status::parse(&sub.status) == Status::Trialing {
            // A trial owes nothing: no period is left to invoice.
            row.period_start = Set(end);
        }
    }
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Takes back a cancellation planned for the period's end.
pub async fn resume(
    db: &impl ConnectionTrait,
    sub: subscriptions::Model,
    now: DateTime<Utc>,
) -> ApiResult<subscriptions::Model> {
    if Status::parse(&sub.status) == Status::Canceled || now >= sub.period_end {
        return Err(ApiError::conflict(
            "subscription_canceled",
            "the subscription has ended; subscribe again",
        ));
    }
    if !sub.cancel_at_period_end {
        return Err(ApiError::conflict(
            "not_canceling",
            "the subscription is not set to cancel",
        ));
    }
    let mut row: subscriptions::ActiveModel = sub.into();
    row.cancel_at_period_end = Set(false);
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Amounts for the next invoice.
pub async fn add_items(
    db: &impl ConnectionTrait,
    tenant_id: Uuid,
    currency: &str,
    items: &[Pending],
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for item in items {
        billing_items::ActiveModel {
            tenant_id: Set(tenant_id),
            id: Set(Uuid::now_v7()),
            kind: Set(item.kind.as_str().into()),
            description: Set(item.description.clone()),
            amount: Set(item.amount),
            currency: Set(currency.to_string()),
            plan_id: Set(item.plan_id),
            period_start: Set(item.period.start),
            period_end: Set(item.period.end),
            invoice_id: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(())
}

/// Sign-up with a plan: 422 when the plan is not on offer.
pub async fn start_by_id(db: &impl ConnectionTrait, tenant_id: Uuid, plan_id: Uuid) -> ApiResult<subscriptions::Model> {
    let plan = plans::Entity::find_by_id(plan_id)
        .one(db)
        .await?
        .ok_or_else(|| ApiError::field("plan_unavailable", "plan_id", "no such plan"))?;
    start(db, tenant_id, &plan, Utc::now()).await
}
