//! Plan limits where they apply: stores, plug-in installs, orders and
//! plug-in calls per period. A refusal names the limit and the cheapest
//! plan that lifts it.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

use crate::billing::account::{self, Account};
use crate::billing::plans::limits_of;
use crate::db::TenantTxn;
use crate::entities::{installs, plans, stores};
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Stores,
    PluginInstalls,
    OrdersPerMonth,
    PluginCallsPerMonth,
}

impl Limit {
    pub fn as_str(self) -> &'static str {
        match self {
            Limit::Stores => "stores",
            Limit::PluginInstalls => "plugin_installs",
            Limit::OrdersPerMonth => "orders_per_month",
            Limit::PluginCallsPerMonth => "plugin_calls_per_month",
        }
    }

    pub fn of(self, account: &Account) -> Option<i64> {
        let l = &account.limits;
        match self {
            Limit::Stores => l.stores,
            Limit::PluginInstalls => l.plugin_installs,
            Limit::OrdersPerMonth => l.orders_per_month,
            Limit::PluginCallsPerMonth => l.plugin_calls_per_month,
        }
    }

    fn of_plan(self, plan: &plans::Model) -> Option<i64> {
        let l = limits_of(plan);
        match self {
            Limit::Stores => l.stores,
            Limit::PluginInstalls => l.plugin_installs,
            Limit::OrdersPerMonth => l.orders_per_month,
            Limit::PluginCallsPerMonth => l.plugin_calls_per_month,
        }
    }
}

/// The 403 for a reached limit, naming the cheapest plan on offer (same
/// currency) that allows one more.
pub async fn reached(db: &impl ConnectionTrait, account: &Account, limit: Limit, used: i64) -> ApiError {
    let max = limit.of(account).unwrap_or(0);
    let offers = plans::Entity::find()
        .filter(plans::Column::Archived.eq(false))
        .filter(plans::Column::Currency.eq(&account.plan_currency))
        .order_by_asc(plans::Column::Price)
        .all(db)
        .await
        .unwrap_or_default();
    let lifting = offers.iter().find(|p| limit.of_plan(p).is_none_or(|m| m > used));
    let advice = match lifting {
        Some(p) => format!("the `{}` plan lifts it", p.slug),
        None => "no plan on offer lifts it".to_string(),
    };
    ApiError::forbidden(
        "plan_limit_reached",
        format!(
            "limit `{}` reached: the `{}` plan allows {max} and {used} are used; {advice}",
            limit.as_str(),
            account.plan_slug
        ),
    )
}

/// Before creating a store.
pub async fn check_store(txn: &TenantTxn) -> ApiResult<()> {
    let Some(account) = account::load(txn).await? else {
        return Ok(());
    };
    account.may_spend()?;
    let Some(max) = account.limits.stores else {
        return Ok(());
    };
    let used = stores::Entity::find()
        .filter(stores::Column::TenantId.eq(txn.tenant_id()))
        .filter(stores::Column::Status.ne("archived"))
        .count(&**txn)
        .await? as i64;
    if used >= max {
        return Err(reached(&**txn, &account, Limit::Stores, used).await);
    }
    Ok(())
}

/// Before installing a plug-in (installing starts a rental).
pub async fn check_install(txn: &TenantTxn) -> ApiResult<()> {
    let Some(account) = account::load(txn).await? else {
        return Ok(());
    };
    account.may_spend()?;
    let Some(max) = account.limits.plugin_installs else {
        return Ok(());
    };
    let used = installs::Entity::find()
        .filter(installs::Column::TenantId.eq(txn.tenant_id()))
        .filter(installs::Column::UninstalledAt.is_null())
        .count(&**txn)
        .await? as i64;
    if used >= max {
        return Err(reached(&**txn, &account, Limit::PluginInstalls, used).await);
    }
    Ok(())
}

/// Whether the tenant's plug-ins may run now: not while suspended, nor
/// once the period's plug-in calls are used up (they fail open, as a
/// failing plug-in does, and the merchant sees it in `/billing/usage`).
pub fn plugins_may_run(account: Option<&Account>) -> bool {
    let Some(account) = account else {
        return true;
    };
    if account.suspended || account.status == account::Status::Canceled {
        return false;
    }
    account
        .limits
        .plugin_calls_per_month
        .is_none_or(|max| account.plugin_calls < max)
}
