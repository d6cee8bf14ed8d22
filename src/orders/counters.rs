//! The plug-ins' bounded counters (e.g. "coupon SPRING used at most 100
//! times"). A claim is one conditional UPDATE in the checkout transaction,
//! so a limit holds under any concurrency and across server processes; a
//! cancelled order gives its claims back. Rows are keyed (tenant, install,
//! key, scope key); the scope key is '' for an install-wide counter and the
//! customer key for a per-customer one.
//!
//! A key that starts with [`UNLISTED`] is claimed like any other but never
//! sent to plug-ins: an install may keep millions (one per single-use code),
//! far more than a call's input may carry. A quote tells the shopper when
//! such a claim would be refused ([`refused_now`]).

use std::collections::HashMap;

use chrono::Utc;
use livemall_abi::{Claim, Counter, CounterScope};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::db::reader::Cells;
use crate::db::TenantTxn;
use crate::entities::plugin_counters as rows;
use crate::error::ApiResult;

/// The scope key of an install-wide counter.
pub const INSTALL_SCOPE: &str = "";

/// Keys with this prefix are not listed in a call's input.
pub const UNLISTED: &str = "#";

/// The scope key of a claim made for `customer_key`.
pub fn scope_key(scope: CounterScope, customer_key: &str) -> String {
    match scope {
        CounterScope::Install => INSTALL_SCOPE.to_string(),
        CounterScope::Customer => customer_key.to_string(),
    }
}

/// Each install's counters a call may see: install-wide ones, and the
/// current customer's when there is one; unlisted keys left out.
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
        .filter(rows::Column::Key.not_like(format!("{UNLISTED}%")))
        .all(&**txn)
        .await?
    {
        out.entry(row.install_id)
            .or_default()
            .push(counter(row.key, &row.scope_key, row.used));
    }
    Ok(out)
}

/// The counter in a row that has a counter's key, scope key and use count
/// outer-joined as `counter_key`, `counter_scope` and `counter_used`
/// (null when the row has none).
pub fn from_joined_row(row: &impl Cells) -> ApiResult<Option<Counter>> {
    let Some(key) = row.get::<Option<String>>("counter_key")? else {
        return Ok(None);
    };
    let scope_key: String = row.get("counter_scope")?;
    Ok(Some(counter(key, &scope_key, row.get("counter_used")?)))
}

fn counter(key: String, scope_key: &str, used: i64) -> Counter {
    Counter {
        scope: if scope_key == INSTALL_SCOPE {
            CounterScope::Install
        } else {
            CounterScope::Customer
        },
        key,
        used: u64::try_from(used).unwrap_or(0),
    }
}

/// A plug-in's claim on one of its install's counters.
pub struct Target<'a> {
    pub install_id: Uuid,
    pub claim: &'a Claim,
    /// See [`scope_key`].
    pub scope_key: String,
}

/// The indexes of the `targets` that would be refused if the order were placed now.
pub async fn refused_now(txn: &TenantTxn, targets: &[Target<'_>]) -> ApiResult<Vec<usize>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let mut which = Condition::any();
    for t in targets {
        which = which.add(this_counter(txn, t.install_id, &t.claim.key, &t.scope_key));
    }
    let rows = rows::Entity::find().filter(which).all(&**txn).await?;
    let used: HashMap<(Uuid, &str, &str), i64> = rows
        .iter()
        .map(|r| ((r.install_id, r.key.as_str(), r.scope_key.as_str()), r.used))
        .collect();
    let mut wanted: HashMap<(Uuid, &str, &str), u64> = HashMap::new();
    let mut refused = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let counter = (t.install_id, t.claim.key.as_str(), t.scope_key.as_str());
        let before = used.get(&counter).map_or(0, |u| u64::try_from(*u).unwrap_or(0));
        // Two claims on one counter in one order add up.
        let mine = wanted.entry(counter).or_insert(0);
        *mine = mine.saturating_add(t.claim.amount);
        if before.saturating_add(*mine) > t.claim.limit {
            refused.push(i);
        }
    }
    Ok(refused)
}

fn this_counter(txn: &TenantTxn, install_id: Uuid, key: &str, scope_key: &str) -> Condition {
    Condition::all()
        .add(rows::Column::TenantId.eq(txn.tenant_id()))
        .add(rows::Column::InstallId.eq(install_id))
        .add(rows::Column::Key.eq(key))
        .add(rows::Column::ScopeKey.eq(scope_key))
}

/// `amount` and `limit` as stored, unless `amount` alone passes `limit`.
fn within(amount: u64, limit: u64) -> Option<(i64, i64)> {
    let amount = i64::try_from(amount).ok()?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    (amount <= limit).then_some((amount, limit))
}

/// The upsert that takes a merged claim's units of its counter while
/// `used` is at most its ceiling (creating the counter at those units),
/// with `?` placeholders; the caller adds what it returns.
pub fn claim_sql(tenant_id: Uuid, claim: &Merged<'_, '_>) -> (&'static str, Vec<sea_orm::Value>) {
    let target = claim.target;
    (
        "INSERT INTO plugin_counters (tenant_id, install_id, key, scope_key, used, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, install_id, key, scope_key) \
         DO UPDATE SET used = plugin_counters.used + excluded.used, updated_at = excluded.updated_at \
         WHERE plugin_counters.used <= ?",
        vec![
            tenant_id.into(),
            target.install_id.into(),
            target.claim.key.as_str().into(),
            target.scope_key.as_str().into(),
            claim.amount.into(),
            Utc::now().into(),
            claim.ceiling.into(),
        ],
    )
}

/// Claims on one counter, taken together: the units of all of them, while
/// `used` is at most `ceiling`, which is what taking them one after another
/// would allow (`used <= limit - amount` rather than `used + amount <=
/// limit`: no overflow).
pub struct Merged<'t, 'p> {
    pub target: &'t Target<'p>,
    pub amount: i64,
    pub ceiling: i64,
}

/// `targets` (in lock order) with the claims on the same counter merged, so
/// that one statement changes each counter once; `Err` names a claim that
/// can never be met (its amount, after the earlier ones on its counter,
/// passes its limit).
pub fn merged<'t, 'p>(targets: &'t [Target<'p>]) -> Result<Vec<Merged<'t, 'p>>, &'t Target<'p>> {
    let mut out: Vec<Merged<'t, 'p>> = Vec::with_capacity(targets.len());
    for target in targets {
        let Some((amount, limit)) = within(target.claim.amount, target.claim.limit) else {
            return Err(target);
        };
        let same = |m: &Merged<'_, '_>| {
            (m.target.install_id, &m.target.claim.key, &m.target.scope_key)
                == (target.install_id, &target.claim.key, &target.scope_key)
        };
        match out.last_mut() {
            Some(m) if same(m) => {
                // Taken after the earlier ones: `used + earlier + amount <= limit`.
                let ceiling = limit.saturating_sub(m.amount).saturating_sub(amount);
                if ceiling < 0 {
                    return Err(target);
                }
                m.amount = m.amount.saturating_add(amount);
                m.ceiling = Ord::min(m.ceiling, ceiling);
            }
            _ => out.push(Merged {
                target,
                amount,
                ceiling: limit - amount,
            }),
        }
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use livemall_abi::{Claim, CounterScope};
    use uuid::Uuid;

    use super::{merged, Target};

    fn claim(key: &str, amount: u64, limit: u64) -> Claim {
        Claim {
            key: key.into(),
            scope: CounterScope::Install,
            amount,
            limit,
            message: format!("{key} is used up"),
        }
    }

    fn target(install_id: Uuid, claim: &Claim) -> Target<'_> {
        Target {
            install_id,
            claim,
            scope_key: String::new(),
        }
    }

    #[test]
    fn claims_on_one_counter_are_taken_as_one_within_the_tightest_limit() {
        let install = Uuid::now_v7();
        let (a, b, c) = (claim("spring", 1, 10), claim("spring", 2, 5), claim("summer", 1, 1));
        let targets = [target(install, &a), target(install, &b), target(install, &c)];
        let merged = merged(&targets).unwrap_or_default();
        let taken: Vec<_> = merged
            .iter()
            .map(|m| (m.target.claim.key.as_str(), m.amount, m.ceiling))
            .collect();
        // One after the other: `used + 1 <= 10` and `used + 1 + 2 <= 5`.
        assert_eq!(taken, [("spring", 3, 2), ("summer", 1, 0)]);
    }

    #[test]
    fn the_same_key_of_another_install_is_another_counter() {
        let one = claim("spring", 1, 10);
        let targets = [target(Uuid::now_v7(), &one), target(Uuid::now_v7(), &one)];
        assert_eq!(merged(&targets).map(|m| m.len()).ok(), Some(2));
    }

    fn refused(targets: &[Target<'_>]) -> Option<String> {
        merged(targets).err().map(|t| t.claim.key.clone())
    }

    #[test]
    fn a_claim_past_its_own_limit_is_named() {
        let (fine, over) = (claim("a", 1, 1), claim("b", 3, 2));
        let install = Uuid::now_v7();
        let targets = [target(install, &fine), target(install, &over)];
        assert_eq!(refused(&targets).as_deref(), Some("b"));
    }

    #[test]
    fn a_claim_past_its_limit_after_the_earlier_ones_on_its_counter_is_named() {
        let (first, second) = (claim("pair", 2, 3), claim("pair", 2, 3));
        let install = Uuid::now_v7();
        let targets = [target(install, &first), target(install, &second)];
        assert_eq!(refused(&targets).as_deref(), Some("pair"));
    }
}
