//! Invoices as tenants and the platform owner read them. Once finalized an
//! invoice's lines and total never change: only its status moves on
//! (open -> paid or void).

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::TenantScope;
use crate::billing::calc::LineKind;
use crate::db::Access;
use crate::entities::{invoice_lines, invoices};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::money::Money;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub kind: LineKind,
    pub description: String,
    /// 1 for the plan and prorations, seconds for a rental, calls for usage.
    pub quantity: i64,
    pub amount: Money,
    pub plan_id: Option<Uuid>,
    pub plugin_id: Option<Uuid>,
    pub install_id: Option<Uuid>,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    /// Sequential across the platform, given at finalization (`LM-000001`).
    pub number: Option<String>,
    /// `draft`, `open`, `paid` or `void`.
    pub status: String,
    pub total: Money,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    /// Failed collection attempts.
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Present when one invoice is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<LineView>>,
}

impl From<invoices::Model> for InvoiceView {
    fn from(i: invoices::Model) -> Self {
        InvoiceView {
            id: i.id,
            tenant_id: i.tenant_id,
            number: i.number,
            status: i.status,
            total: Money::new(i.total, &i.currency),
            period_start: i.period_start,
            period_end: i.period_end,
            created_at: i.created_at,
            finalized_at: i.finalized_at,
            paid_at: i.paid_at,
            voided_at: i.voided_at,
            attempts: i.attempts,
            next_attempt_at: i.next_attempt_at,
            lines: None,
        }
    }
}

/// The invoice with its lines.
pub async fn full(db: &impl ConnectionTrait, invoice: invoices::Model) -> ApiResult<InvoiceView> {
    let lines = invoice_lines::Entity::find()
        .filter(invoice_lines::Column::TenantId.eq(invoice.tenant_id))
        .filter(invoice_lines::Column::InvoiceId.eq(invoice.id))
        .order_by_asc(invoice_lines::Column::Id)
        .all(db)
        .await?;
    let currency = invoice.currency.clone();
    let mut view = InvoiceView::from(invoice);
    view.lines = Some(
        lines
            .into_iter()
            .map(|l| LineView {
                kind: LineKind::parse(&l.kind),
                description: l.description,
                quantity: l.quantity,
                amount: Money::new(l.amount, &currency),
                plan_id: l.plan_id,
                plugin_id: l.plugin_id,
                install_id: l.install_id,
                period_start: l.period_start,
                period_end: l.period_end,
            })
            .collect(),
    );
    Ok(view)
}

/// The tenant's invoices, newest first.
#[utoipa::path(tag = "billing", params(PageQuery), responses((status = 200, body = Page<InvoiceView>)), security(("bearer" = [])))]
#[get("/billing/invoices")]
pub async fn list(
    state: web::Data<AppState>,
    scope: TenantScope,
    page: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let txn = scope.begin(&state, Access::Read).await?;
    let query = invoices::Entity::find().filter(invoices::Column::TenantId.eq(txn.tenant_id()));
    let page: Page<InvoiceView> =
        pagination::fetch_in_order(query, invoices::Column::Id, &page, &*txn, |i| i.id, Order::Desc).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// One invoice with its lines; another tenant's is 404.
#[utoipa::path(tag = "billing", responses((status = 200, body = InvoiceView), (status = 404)), security(("bearer" = [])))]
#[get("/billing/invoices/{id}")]
pub async fn get(state: web::Data<AppState>, scope: TenantScope, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let txn = scope.begin(&state, Access::Read).await?;
    let invoice = invoices::Entity::find_by_id((txn.tenant_id(), *id))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(full(&*txn, invoice).await?))
}
