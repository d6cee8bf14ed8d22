//! The plug-ins' bounded counters (e.g. "coupon SPRING used at most 100
//! times"). A claim is one conditional UPDATE in the checkout transaction,
//! so a limit holds under any concurrency and across server processes; a
//! cancelled order gives its claims back. Rows are keyed (tenant, install,
//! key, scope key); the scope key is '' for an install-wide counter and the
//! customer key for a per-customer one.

use std::collections::HashMap;

use chrono::Utc;
use livemall_abi::{Counter, CounterScope};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::TenantTxn;
use crate::entities::plugin_counters as rows;
use crate::error::ApiResult;

const INSTALL_SCOPE: &str = "";

/// The scope key of a claim made for `customer_key`.
pub fn scope_key(scope: CounterScope, customer_key: &str) -> String {
    match scope {
        CounterScope::Install => INSTALL_SCOPE.to_string(),
        CounterScope::Customer => customer_key.to_string(),
    }
}

/// Each install's counters a call may see: install-wide ones, and the
/// current customer's when there is one.
pub async fn visible(
    txn: &TenantTxn,
    install_ids: &[Uuid],
    customer_key: Option<&str>,
) -> ApiResult<HashMap<Uuid, Vec<Counter>>> {
    if install_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut scopes = Condition::any().add(rows::Column::ScopeKey.eq(INSTALL_SCOPE));
    if let Some(key) = customer_key {
        scopes = scopes.add(rows::Column::ScopeKey.eq(key));
    }
    let mut out: HashMap<Uuid, Vec<Counter>> = HashMap::new();
    for row in rows::Entity::find()
        .filter(rows::Column::TenantId.eq(txn.tenant_id()))
        .filter(rows::Column::InstallId.is_in(install_ids.to_vec()))
        .filter(scopes)
        .all(&**txn)
        .await?
    {
        out.entry(row.install_id).or_default().push(Counter {
            scope: if row.scope_key == INSTALL_SCOPE {
                CounterScope::Install
            } else {
                CounterScope::Customer
            },
            key: row.key,
            used: u64::try_from(row.used).unwrap_or(0),
        });
    }
    Ok(out)
}

fn this_counter(txn: &TenantTxn, install_id: Uuid, key: &str, scope_key: &str) -> Condition {
    Condition::all()
        .add(rows::Column::TenantId.eq(txn.tenant_id()))
        .add(rows::Column::InstallId.eq(install_id))
        .add(rows::Column::Key.eq(key))
        .add(rows::Column::ScopeKey.eq(scope_key))
}

/// Adds `amount` unless that would pass `limit`; true if it did.
async fn bump(
    txn: &TenantTxn,
    install_id: Uuid,
    key: &str,
    scope_key: &str,
    amount: i64,
    limit: i64,
) -> ApiResult<bool> {
    let result = rows::Entity::update_many()
        .col_expr(rows::Column::Used, Expr::col(rows::Column::Used).add(amount))
        .col_expr(rows::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(this_counter(txn, install_id, key, scope_key))
        // `used <= limit - amount` rather than `used + amount <= limit`: no overflow.
        .filter(rows::Column::Used.lte(limit - amount))
        .exec(&**txn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Takes `amount` units of the counter if it stays within `limit`; true if taken.
pub async fn claim(
    txn: &TenantTxn,
    install_id: Uuid,
    key: &str,
    scope_key: &str,
    amount: u64,
    limit: u64,
) -> ApiResult<bool> {
    let (Ok(amount), limit) = (i64::try_from(amount), i64::try_from(limit).unwrap_or(i64::MAX)) else {
        return Ok(false);
    };
    if amount > limit {
        return Ok(false);
    }
    if bump(txn, install_id, key, scope_key, amount, limit).await? {
        return Ok(true);
    }
    // The counter may not exist yet: create it at zero, then try again.
    let row = rows::ActiveModel {
        tenant_id: Set(txn.tenant_id()),
        install_id: Set(install_id),
        key: Set(key.to_string()),
        scope_key: Set(scope_key.to_string()),
        used: Set(0),
        updated_at: Set(Utc::now()),
    };
    rows::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                rows::Column::TenantId,
                rows::Column::InstallId,
                rows::Column::Key,
                rows::Column::ScopeKey,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&**txn)
        .await?;
    // Created here or by a concurrent checkout, the conditional update decides.
    bump(txn, install_id, key, scope_key, amount, limit).await
}

/// Gives back `amount` units (never below zero).
pub async fn release(txn: &TenantTxn, install_id: Uuid, key: &str, scope_key: &str, amount: i64) -> ApiResult<()> {
    rows::Entity::update_many()
        .col_expr(rows::Column::Used, Expr::col(rows::Column::Used).sub(amount))
        .col_expr(rows::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(this_counter(txn, install_id, key, scope_key))
        .filter(rows::Column::Used.gte(amount))
        .exec(&**txn)
        .await?;
    Ok(())
}
