//! A tenant's standing in one query: subscription, plan limits and this
//! period's counters. Request paths that enforce limits read only this.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::billing::plans::Limits;
use crate::db::reader::{Cells, Kind, Kinds};
use crate::db::{placeholders, ReadOn};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Trialing,
    Active,
    PastDue,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Trialing => "trialing",
            Status::Active => "active",
            Status::PastDue => "past_due",
            Status::Canceled => "canceled",
        }
    }
    pub fn parse(s: &str) -> Status {
        match s {
            "trialing" => Status::Trialing,
            "active" => Status::Active,
            "past_due" => Status::PastDue,
            _ => Status::Canceled,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub status: Status,
    pub suspended: bool,
    pub period_start: DateTime<Utc>,
    pub plan_slug: String,
    pub plan_currency: String,
    pub limits: Limits,
    pub orders: i64,
    pub plugin_calls: i64,
}

/// The account's columns and source; `SELECT` goes in front.
const ACCOUNT: &str = "s.status, s.suspended_at, s.period_start, p.slug, p.currency, \
     p.max_stores, p.max_installs, p.max_orders, p.max_plugin_calls, \
     (SELECT c.count FROM usage_counters c WHERE c.tenant_id = s.tenant_id \
        AND c.metric = 'orders' AND c.period_start = s.period_start) AS orders, \
     (SELECT c.count FROM usage_counters c WHERE c.tenant_id = s.tenant_id \
        AND c.metric = 'plugin_calls' AND c.period_start = s.period_start) AS calls \
     FROM subscriptions s JOIN plans p ON p.id = s.plan_id WHERE s.tenant_id = ?";

/// The tenant's account; `None` for a tenant that never subscribed (not
/// billed and not limited).
pub async fn load<'a>(on: impl Into<ReadOn<'a>>) -> ApiResult<Option<Account>> {
    let on = on.into();
    let backend = on.backend();
    let statement = Statement::from_sql_and_values(
        backend,
        placeholders(backend, &format!("SELECT {ACCOUNT}")),
        [on.tenant_id().into()],
    );
    match on {
        ReadOn::Txn(txn) => txn.query_one_raw(statement).await?.as_ref().map(from_row).transpose(),
        ReadOn::Own(readers, _) => readers
            .rows(statement, &ACCOUNT_KINDS)?
            .iter()
            .next()
            .map(|row| from_row(&row))
            .transpose(),
    }
}

static ACCOUNT_KINDS: LazyLock<Kinds> = LazyLock::new(|| kinds(Kinds::new()));

/// The account query's columns, typed for the application's own readers.
pub fn kinds(kinds: Kinds) -> Kinds {
    use crate::entities::{plans::Column as Plan, subscriptions::Column as Subscription};
    kinds
        .column_of("status", Subscription::Status)
        .column_of("suspended_at", Subscription::SuspendedAt)
        .column_of("period_start", Subscription::PeriodStart)
        .column_of("slug", Plan::Slug)
        .column_of("currency", Plan::Currency)
        .column_of("max_stores", Plan::MaxStores)
        .column_of("max_installs", Plan::MaxInstalls)
        .column_of("max_orders", Plan::MaxOrders)
        .column_of("max_plugin_calls", Plan::MaxPluginCalls)
        // Usage counters' counts.
        .column("orders", Kind::BigInt)
        .column("calls", Kind::BigInt)
}

/// The account query with `step` as its first column (see
/// [`crate::db::batch`]); one `?`, the tenant id.
pub fn select_with_step(step: i64) -> String {
    format!("SELECT CAST({step} AS BIGINT), {ACCOUNT}")
}

/// The account query (one `?`, the tenant id), for a caller that joins it
/// to other columns; [`from_joined_row`] reads the row.
pub fn select() -> String {
    format!("SELECT {ACCOUNT}")
}

/// The account in a row that has the account query's columns outer-joined
/// (all null when the tenant has no subscription).
pub fn from_joined_row(row: &impl Cells) -> ApiResult<Option<Account>> {
    match row.get::<Option<String>>("status")? {
        Some(_) => from_row(row).map(Some),
        None => Ok(None),
    }
}

/// The account in a row of its query.
pub fn from_row(row: &impl Cells) -> ApiResult<Account> {
    let suspended: Option<DateTime<Utc>> = row.get("suspended_at")?;
    Ok(Account {
        status: Status::parse(&row.get::<String>("status")?),
        suspended: suspended.is_some(),
        period_start: row.get("period_start")?,
        plan_slug: row.get("slug")?,
        plan_currency: row.get("currency")?,
        limits: Limits {
            stores: row.get("max_stores")?,
            plugin_installs: row.get("max_installs")?,
            orders_per_month: row.get("max_orders")?,
            plugin_calls_per_month: row.get("max_plugin_calls")?,
        },
        orders: row.get::<Option<i64>>("orders")?.unwrap_or(0),
        plugin_calls: row.get::<Option<i64>>("calls")?.unwrap_or(0),
    })
}

impl Account {
    /// Actions that cost money (orders, installs, stores) need an account in
    /// good standing: not suspended, not canceled.
    pub fn may_spend(&self) -> ApiResult<()> {
        if self.suspended {
            return Err(ApiError::payment_required(
                "account_suspended",
                "this account is suspended for an unpaid invoice; pay it to restore the account \
                 (storefront reads keep working)",
            ));
        }
        if self.status == Status::Canceled {
            return Err(ApiError::payment_required(
                "subscription_canceled",
                "the subscription is canceled; choose a plan to go on",
            ));
        }
        Ok(())
    }
}
