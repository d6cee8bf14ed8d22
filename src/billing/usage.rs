//! Usage metering: orders and plug-in calls as usage records with ids (a
//! record sent twice is counted once), plus a per-period counter row that
//! limits read instead of counting orders.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::{AdminPrincipal, TenantScope};
use crate::billing::account::{self, Account};
use crate::billing::limits::{self, Limit};
use crate::billing::plans::Limits;
use crate::db::batch::Batch;
use crate::db::{self, insert, Access, TenantTxn};
use crate::entities::usage_records;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Orders,
    PluginCalls,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Orders => "orders",
            Metric::PluginCalls => "plugin_calls",
        }
    }
    fn limit(self) -> Limit {
        match self {
            Metric::Orders => Limit::OrdersPerMonth,
            Metric::PluginCalls => Limit::PluginCallsPerMonth,
        }
    }
}

/// One usage record, identified by `id`.
pub struct Record {
    pub id: Uuid,
    pub metric: Metric,
    pub install_id: Option<Uuid>,
    pub quantity: i64,
    pub at: DateTime<Utc>,
}

impl Record {
    /// An order's record: its id is the order's.
    fn order(order_id: Uuid, at: DateTime<Utc>) -> Record {
        Record {
            id: order_id,
            metric: Metric::Orders,
            install_id: None,
            quantity: 1,
            at,
        }
    }
}

/// Stores the record unless its id was seen; counts it against the period
/// only when it is new. With `enforce`, a record that would pass the plan's
/// limit is refused (and the caller's transaction rolls back).
/// Answers whether the record was new.
pub async fn record(txn: &TenantTxn, account: &Account, rec: Record, enforce: bool) -> ApiResult<bool> {
    let (sql, values) = insert_record_sql(txn.tenant_id(), &rec);
    let inserted = db::execute(&**txn, &sql, values).await?.rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    let max = if enforce { rec.metric.limit().of(account) } else { None };
    if !bump(txn, account, rec.metric, rec.quantity, max).await? {
        let used = match rec.metric {
            Metric::Orders => account.orders,
            Metric::PluginCalls => account.plugin_calls,
        };
        return Err(limits::reached(&**txn, account, rec.metric.limit(), used).await);
    }
    Ok(true)
}

fn record_row(tenant_id: Uuid, rec: &Record) -> usage_records::Model {
    usage_records::Model {
        tenant_id,
        id: rec.id,
        metric: rec.metric.as_str().to_string(),
        install_id: rec.install_id,
        quantity: rec.quantity,
        occurred_at: rec.at,
    }
}

/// The record's row, unless its id was seen (`?` placeholders; also for a
/// checkout's batch).
fn insert_record_sql(tenant_id: Uuid, rec: &Record) -> insert::Sql {
    let (mut text, values) = insert::row(record_row(tenant_id, rec));
    text.push_str(" ON CONFLICT (\"tenant_id\", \"id\") DO NOTHING");
    (text, values)
}

/// Adds to the period's counter in one statement; with `max`, only while
/// the sum stays within it (the row lock makes that hold under concurrency).
async fn bump(txn: &TenantTxn, account: &Account, metric: Metric, n: i64, max: Option<i64>) -> ApiResult<bool> {
    if max.is_some_and(|m| n > m) {
        return Ok(false);
    }
    let (text, values) = bump_sql(txn.tenant_id(), account, metric, n, max);
    Ok(db::execute(&**txn, &text, values).await?.rows_affected() > 0)
}

/// The counter's upsert with `?` placeholders, and its values.
fn bump_sql(
    tenant_id: Uuid,
    account: &Account,
    metric: Metric,
    n: i64,
    max: Option<i64>,
) -> (String, Vec<sea_orm::Value>) {
    let guard = if max.is_some() {
        " WHERE usage_counters.count + excluded.count <= ?"
    } else {
        ""
    };
    let text = format!(
        "INSERT INTO usage_counters (tenant_id, metric, period_start, count) VALUES (?, ?, ?, ?) \
         ON CONFLICT (tenant_id, metric, period_start) \
         DO UPDATE SET count = usage_counters.count + excluded.count{guard}"
    );
    let mut values: Vec<sea_orm::Value> = vec![
        tenant_id.into(),
        metric.as_str().into(),
        account.period_start.into(),
        n.into(),
    ];
    if let Some(m) = max {
        values.push(m.into());
    }
    (text, values)
}

/// SQLite: the order's usage record and its count into `batch`; the
/// counter answers `step` only when the plan's monthly orders allow one
/// more. False when the plan allows none at all (nothing was added).
pub fn record_order_in(
    batch: &mut Batch,
    tenant_id: Uuid,
    account: &Account,
    order_id: Uuid,
    at: DateTime<Utc>,
    step: i64,
) -> bool {
    let Some(((record, record_values), (count, values))) = order_statements(tenant_id, account, order_id, at) else {
        return false;
    };
    batch.push_sql(&record, record_values);
    batch.push_sql(&format!("{count} RETURNING {step}"), values);
    true
}

/// The order's usage record and the upsert of the
/// period's count that changes a row only while the plan's monthly orders
/// allow one more (`?` placeholders); `None` when the plan allows none.
pub fn order_statements(
    tenant_id: Uuid,
    account: &Account,
    order_id: Uuid,
    at: DateTime<Utc>,
) -> Option<(insert::Sql, insert::Sql)> {
    let max = Metric::Orders.limit().of(account);
    if max.is_some_and(|m| m < 1) {
        return None;
    }
    let record = insert_record_sql(tenant_id, &Record::order(order_id, at));
    Some((record, bump_sql(tenant_id, account, Metric::Orders, 1, max)))
}

/// Called where plug-in calls are recorded: one record per install and
/// batch, its id the id of the batch's first call row.
pub async fn record_calls(txn: &TenantTxn, calls: &[(Uuid, Uuid)], at: DateTime<Utc>) -> ApiResult<()> {
    let Some(account) = account::load(txn).await? else {
        return Ok(());
    };
    let mut batches: Vec<(Uuid, Uuid, i64)> = Vec::new();
    for (call_id, install_id) in calls {
        match batches.iter_mut().find(|b| b.1 == *install_id) {
            Some(batch) => batch.2 += 1,
            None => batches.push((*call_id, *install_id, 1)),
        }
    }
    for (id, install_id, quantity) in batches {
        let rec = Record {
            id,
            metric: Metric::PluginCalls,
            install_id: Some(install_id),
            quantity,
            at,
        };
        record(txn, &account, rec, false).await?;
    }
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageView {
    pub plan: String,
    pub status: String,
    pub suspended: bool,
    pub period_start: DateTime<Utc>,
    pub orders: i64,
    pub plugin_calls: i64,
    pub limits: Limits,
}

/// This period's usage against the plan's limits.
#[utoipa::path(tag = "billing", responses((status = 200, body = UsageView), (status = 404)), security(("bearer" = [])))]
#[get("/billing/usage")]
pub async fn current(state: web::Data<AppState>, scope: TenantScope) -> ApiResult<HttpResponse> {
    // Plug-in calls this node made are metered as their records are written.
    state.calls.flush().await;
    let txn = scope.begin(&state, Access::Read).await?;
    let a = account::load(&txn).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(UsageView {
        plan: a.plan_slug,
        status: a.status.as_str().to_string(),
        suspended: a.suspended,
        period_start: a.period_start,
        orders: a.orders,
        plugin_calls: a.plugin_calls,
        limits: a.limits,
    }))
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalUsage {
    pub tenant_id: Uuid,
    /// The record's id: the same id sent again is counted once.
    pub id: Uuid,
    pub metric: Metric,
    pub install_id: Option<Uuid>,
    #[validate(range(min = 1, message = "must be at least 1"))]
    pub quantity: i64,
    /// Defaults to now.
    pub occurred_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Recorded {
    /// False when a record with this id was already counted.
    pub counted: bool,
}

/// Records usage metered outside this process (e.g. by a stream integration).
#[utoipa::path(tag = "billing", request_body = ExternalUsage,
    responses((status = 200, body = Recorded), (status = 404, description = "no subscription")), security(("bearer" = [])))]
#[post("/admin/billing/usage")]
pub async fn record_external(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    body: Valid<ExternalUsage>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let txn = state.db.tenant(body.tenant_id, Access::Write).await?;
    let account = account::load(&txn).await?.ok_or(ApiError::NotFound)?;
    let rec = Record {
        id: body.id,
        metric: body.metric,
        install_id: body.install_id,
        quantity: body.quantity,
        at: body.occurred_at.unwrap_or_else(Utc::now),
    };
    let counted = record(&txn, &account, rec, false).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(Recorded { counted }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::{TimeZone, Utc};
    use sea_orm::sea_query::OnConflict;
    use sea_orm::{DbBackend, EntityTrait, IntoActiveModel, QueryTrait};
    use uuid::Uuid;

    use super::{insert_record_sql, record_row, Record};
    use crate::entities::usage_records;

    /// The insert as the query builder makes it.
    fn insert_record(tenant_id: Uuid, rec: &Record) -> sea_orm::Insert<usage_records::ActiveModel> {
        usage_records::Entity::insert(record_row(tenant_id, rec).into_active_model()).on_conflict(
            OnConflict::columns([usage_records::Column::TenantId, usage_records::Column::Id])
                .do_nothing()
                .to_owned(),
        )
    }

    #[test]
    fn the_record_sql_is_the_builders_insert() {
        let at = Utc.with_ymd_and_hms(2026, 11, 27, 8, 0, 0).unwrap();
        let record = Record::order(Uuid::from_u128(2), at);
        let built = insert_record(Uuid::from_u128(1), &record).build(DbBackend::Sqlite);
        let (text, values) = insert_record_sql(Uuid::from_u128(1), &record);
        assert_eq!(text, built.sql);
        assert_eq!(values, built.values.unwrap().0);
    }
}
