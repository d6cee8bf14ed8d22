//! The platform owner's side of billing: trigger a run, read every
//! invoice, mark one paid by hand or void it.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, Order, QueryFilter, Set};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AdminPrincipal;
use crate::billing::dunning;
use crate::billing::invoices::{full, InvoiceView};
use crate::billing::run::{self, RunReport};
use crate::db::Access;
use crate::entities::{author_ledger, invoices};
use crate::error::{ApiError, ApiResult};
use crate::http::pagination::{self, Page, PageQuery};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The instant to bill for; defaults to now. Running the same instant
    /// again makes no new invoices.
    pub at: Option<DateTime<Utc>>,
}

/// Runs billing for an instant: invoices, collection, dunning.
#[utoipa::path(tag = "billing", request_body = RunRequest,
    responses((status = 200, body = RunReport)), security(("bearer" = [])))]
#[post("/admin/billing/run")]
pub async fn run_billing(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    body: web::Json<RunRequest>,
) -> ApiResult<HttpResponse> {
    let at = body.at.unwrap_or_else(Utc::now);
    // Plug-in calls queued on this node are metered before the run reads usage.
    state.calls.flush().await;
    let report = run::run(&state.db, &state.settings.billing, state.billing.gateway.as_ref(), at).await?;
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct InvoiceFilter {
    pub tenant_id: Option<Uuid>,
    /// `draft`, `open`, `paid` or `void`.
    pub status: Option<String>,
}

/// Every tenant's invoices, newest first.
#[utoipa::path(tag = "billing", params(PageQuery, InvoiceFilter),
    responses((status = 200, body = Page<InvoiceView>)), security(("bearer" = [])))]
#[get("/admin/billing/invoices")]
pub async fn list_invoices(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    page: web::Query<PageQuery>,
    filter: web::Query<InvoiceFilter>,
) -> ApiResult<HttpResponse> {
    let txn = state.db.platform(Access::Read).await?;
    let mut query = invoices::Entity::find();
    if let Some(t) = filter.tenant_id {
        query = query.filter(invoices::Column::TenantId.eq(t));
    }
    if let Some(s) = &filter.status {
        query = query.filter(invoices::Column::Status.eq(s.as_str()));
    }
    let page: Page<InvoiceView> =
        pagination::fetch_in_order(query, invoices::Column::Id, &page, &txn, |i| i.id, Order::Desc).await?;
    Ok(HttpResponse::Ok().json(page))
}

async fn tenant_of(state: &AppState, id: Uuid) -> ApiResult<Uuid> {
    let txn = state.db.platform(Access::Read).await?;
    invoices::Entity::find()
        .filter(invoices::Column::Id.eq(id))
        .one(&txn)
        .await?
        .map(|i| i.tenant_id)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(tag = "billing", responses((status = 200, body = InvoiceView), (status = 404)), security(("bearer" = [])))]
#[get("/admin/billing/invoices/{id}")]
pub async fn get_invoice(
    state: web::Data<AppState>,
    _admin: AdminPrincipal,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, *id).await?;
    let txn = state.db.tenant(tenant, Access::Read).await?;
    let invoice = invoices::Entity::find_by_id((tenant, *id))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(full(&*txn, invoice).await?))
}

/// Marks an open invoice paid (money received outside the gateway); a
/// suspended tenant is restored when nothing failed is left unpaid.
#[utoipa::path(tag = "billing", responses((status = 200, body = InvoiceView), (status = 404), (status = 409, description = "invoice_not_open")),
    security(("bearer" = [])))]
#[post("/admin/billing/invoices/{id}/pay")]
pub async fn pay(state: web::Data<AppState>, _admin: AdminPrincipal, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, *id).await?;
    let txn = state.db.tenant(tenant, Access::Write).await?;
    let invoice = dunning::settle(&txn, *id, None, Utc::now()).await?;
    let view = full(&*txn, invoice).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Voids an open invoice: it stays, numbered, with its lines, and is not
/// collected; its ledger entries are withdrawn.
#[utoipa::path(tag = "billing", responses((status = 200, body = InvoiceView), (status = 404), (status = 409, description = "invoice_not_open")),
    security(("bearer" = [])))]
#[post("/admin/billing/invoices/{id}/void")]
pub async fn void(state: web::Data<AppState>, _admin: AdminPrincipal, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let tenant = tenant_of(&state, *id).await?;
    let txn = state.db.tenant(tenant, Access::Write).await?;
    let invoice = invoices::Entity::find_by_id((tenant, *id))
        .one(&*txn)
        .await?
        .ok_or(ApiError::NotFound)?;
    if invoice.status != "open" {
        return Err(ApiError::conflict(
            "invoice_not_open",
            format!("a {} invoice cannot be voided", invoice.status),
        ));
    }
    let now = Utc::now();
    let mut row: invoices::ActiveModel = invoice.into();
    row.status = Set("void".into());
    row.voided_at = Set(Some(now));
    row.next_attempt_at = Set(None);
    let invoice = row.update(&*txn).await?;
    author_ledger::Entity::delete_many()
        .filter(author_ledger::Column::InvoiceId.eq(invoice.id))
        .exec(&*txn)
        .await?;
    dunning::restore_if_settled(&txn, now).await?;
    let view = full(&*txn, invoice).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}
