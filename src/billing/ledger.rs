//! The author ledger: each finalized invoice's rental and usage lines,
//! per plug-in, with the author's share (a platform setting).

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AdminPrincipal;
use crate::billing::calc::Line;
use crate::billing::period::Period;
use crate::db::{Access, TenantTxn};
use crate::entities::{author_ledger, plugins};
use crate::error::ApiResult;
use crate::http::pagination::{self, Page, PageQuery};
use crate::money::Money;
use crate::state::AppState;

pub async fn record(
    txn: &TenantTxn,
    invoice_id: Uuid,
    lines: &[Line],
    period: Period,
    currency: &str,
    share_percent: u32,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let mut gross: BTreeMap<Uuid, i64> = BTreeMap::new();
    for line in lines {
        if let Some(plugin) = line.plugin_id {
            *gross.entry(plugin).or_default() += line.amount;
        }
    }
    if gross.is_empty() {
        return Ok(());
    }
    let authors: BTreeMap<Uuid, String> = plugins::Entity::find()
        .filter(plugins::Column::Id.is_in(gross.keys().copied()))
        .all(&**txn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.author))
        .collect();
    let rows: Vec<author_ledger::ActiveModel> = gross
        .into_iter()
        .map(|(plugin_id, amount)| author_ledger::ActiveModel {
            id: Set(Uuid::now_v7()),
            author: Set(authors.get(&plugin_id).cloned().unwrap_or_default()),
            plugin_id: Set(plugin_id),
            tenant_id: Set(txn.tenant_id()),
            invoice_id: Set(invoice_id),
            period_start: Set(period.start),
            period_end: Set(period.end),
            gross: Set(amount),
            share: Set(share(amount, share_percent)),
            currency: Set(currency.to_string()),
            created_at: Set(at),
        })
        .collect();
    author_ledger::Entity::insert_many(rows)
        .exec_without_returning(&**txn)
        .await?;
    Ok(())
}

/// The author's part, rounded down: the platform never pays out more than it billed.
pub fn share(gross: i64, percent: u32) -> i64 {
    i64::try_from(i128::from(gross) * i128::from(percent.min(100)) / 100).unwrap_or(0)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: Uuid,
    pub author: String,
    pub plugin_id: Uuid,
    pub tenant_id: Uuid,
    pub invoice_id: Uuid,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub gross: Money,
    pub share: Money,
}

impl From<author_ledger::Model> for LedgerEntry {
    fn from(e: author_ledger::Model) -> Self {
        LedgerEntry {
            id: e.id,
            plugin_id: e.plugin_id,
            tenant_id: e.tenant_id,
            invoice_id: e.invoice_id,
            period_start: e.period_start,
            period_end: e.period_end,
            gross: Money::new(e.gross, &e.currency),
            share: Money::new(e.share, &e.currency),
            author: e.author,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LedgerFilter {
    pub author: Option<String>,
}

/// Ledger entries, oldest first; totals per author and period are in
/// `/admin/billing/reports`.
#[utoipa::path(tag = "billing", params(PageQuery, LedgerFilter),
    responses((status = 200, body = Page<LedgerEntry>)), security(("bearer" = [])))]
#[get("/admin/billing/ledger")]
pub async fn list(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    page: web::Query<PageQuery>,
    filter: web::Query<LedgerFilter>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let mut query = author_ledger::Entity::find();
    if let Some(author) = &filter.author {
        query = query.filter(author_ledger::Column::Author.eq(author));
    }
    let page: Page<LedgerEntry> = pagination::fetch(query, author_ledger::Column::Id, &page, &txn, |e| e.id).await?;
    Ok(HttpResponse::Ok().json(page))
}
