//! `/billing/subscription`: a tenant's plan, chosen at sign-up or later,
//! changed, canceled and resumed; `/billing/payment-method` for Stripe.

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::TenantScope;
use crate::billing::plans::{self, PlanView};
use crate::billing::{account, lifecycle};
use crate::db::{Access, TenantTxn};
use crate::entities::{subscriptions, tenants};
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Valid;
use crate::http::idempotency::{self, Begin, IdempotencyKey};
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionView {
    pub id: Uuid,
    /// `trialing`, `active`, `past_due` or `canceled`.
    pub status: String,
    pub plan: PlanView,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub cancel_at_period_end: bool,
    pub canceled_at: Option<DateTime<Utc>>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub suspended: bool,
    pub payment_method: Option<String>,
}

pub async fn view(txn: &TenantTxn, sub: subscriptions::Model) -> ApiResult<SubscriptionView> {
    let plan = plans::find(&**txn, sub.plan_id).await?;
    Ok(SubscriptionView {
        id: sub.id,
        status: sub.status,
        plan: plan.into(),
        period_start: sub.period_start,
        period_end: sub.period_end,
        cancel_at_period_end: sub.cancel_at_period_end,
        canceled_at: sub.canceled_at,
        past_due_since: sub.past_due_since,
        suspended: sub.suspended_at.is_some(),
        payment_method: sub.payment_method,
    })
}

async fn current(txn: &TenantTxn) -> ApiResult<subscriptions::Model> {
    lifecycle::find(&**txn, txn.tenant_id())
        .await?
        .ok_or(ApiError::NotFound)
}

fn owner(scope: &TenantScope) -> ApiResult<()> {
    scope.require_owner().map(|_| ())
}

#[utoipa::path(tag = "billing", responses((status = 200, body = SubscriptionView), (status = 404)), security(("bearer" = [])))]
#[get("/billing/subscription")]
pub async fn get(state: web::Data<AppState>, scope: TenantScope) -> ApiResult<HttpResponse> {
    let txn = scope.begin(&state, Access::Read).await?;
    let sub = current(&txn).await?;
    Ok(HttpResponse::Ok().json(view(&txn, sub).await?))
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChoosePlan {
    pub plan_id: Uuid,
}

/// Subscribes to a plan, or changes the plan (prorated to the second).
/// Owner only; takes an `Idempotency-Key`.
#[utoipa::path(tag = "billing", request_body = ChoosePlan,
    responses((status = 200, body = SubscriptionView), (status = 409, description = "subscription_canceled, final_invoice_pending"),
        (status = 422, description = "plan_unavailable, currency_mismatch")),
    security(("bearer" = [])))]
#[post("/billing/subscription")]
pub async fn choose(
    state: web::Data<AppState>,
    scope: TenantScope,
    key: IdempotencyKey,
    body: Valid<ChoosePlan>,
) -> ApiResult<HttpResponse> {
    owner(&scope)?;
    let body = body.0;
    let txn = scope.begin(&state, Access::Write).await?;
    let claimed = match idempotency::begin(
        &txn,
        &key,
        idempotency::fingerprint("POST /billing/subscription", &body)?,
    )
    .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let plan = plans::find(&*txn, body.plan_id)
        .await
        .map_err(|_| ApiError::field("plan_unavailable", "plan_id", "no such plan"))?;
    let now = Utc::now();
    let sub = match lifecycle::find(&*txn, txn.tenant_id()).await? {
        Some(sub) if account::Status::parse(&sub.status) != account::Status::Canceled => {
            if sub.suspended_at.is_some() {
                return Err(ApiError::payment_required(
                    "account_suspended",
                    "pay the open invoice before changing the plan",
                ));
            }
            let old = plans::find(&*txn, sub.plan_id).await?;
            lifecycle::change(&*txn, sub, &old, &plan, now).await?
        }
        _ => lifecycle::start(&*txn, txn.tenant_id(), &plan, now).await?,
    };
    let view = view(&txn, sub).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(response)
}

#[derive(Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Cancel {
    /// True: at the period's end (resumable until then); false: now.
    #[serde(default)]
    pub at_period_end: bool,
}

#[utoipa::path(tag = "billing", request_body = Cancel,
    responses((status = 200, body = SubscriptionView), (status = 404), (status = 409, description = "subscription_canceled")),
    security(("bearer" = [])))]
#[post("/billing/subscription/cancel")]
pub async fn cancel(
    state: web::Data<AppState>,
    scope: TenantScope,
    key: IdempotencyKey,
    body: Valid<Cancel>,
) -> ApiResult<HttpResponse> {
    owner(&scope)?;
    let body = body.0;
    let txn = scope.begin(&state, Access::Write).await?;
    let claimed = match idempotency::begin(
        &txn,
        &key,
        idempotency::fingerprint("POST /billing/subscription/cancel", &body)?,
    )
    .await?
    {
        Begin::Replay(response) => return Ok(response),
        Begin::Fresh(claimed) => claimed,
    };
    let sub = current(&txn).await?;
    let plan = plans::find(&*txn, sub.plan_id).await?;
    let sub = lifecycle::cancel(&*txn, sub, &plan, Utc::now(), body.at_period_end).await?;
    let view = view(&txn, sub).await?;
    let response = idempotency::complete(&txn, claimed, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(response)
}

#[utoipa::path(tag = "billing",
    responses((status = 200, body = SubscriptionView), (status = 404), (status = 409, description = "subscription_canceled, not_canceling")),
    security(("bearer" = [])))]
#[post("/billing/subscription/resume")]
pub async fn resume(state: web::Data<AppState>, scope: TenantScope) -> ApiResult<HttpResponse> {
    owner(&scope)?;
    let txn = scope.begin(&state, Access::Write).await?;
    let sub = current(&txn).await?;
    let sub = lifecycle::resume(&*txn, sub, Utc::now()).await?;
    let view = view(&txn, sub).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentMethod {
    /// A payment method id from Stripe (e.g. made by Stripe.js), like `pm_...`.
    #[validate(length(min = 3, max = 255, message = "must be 3 to 255 characters"))]
    pub payment_method: String,
}

/// Saves the card the invoices are charged to (Stripe gateway only): the
/// tenant's Stripe customer is created on first use.
#[utoipa::path(tag = "billing", request_body = PaymentMethod,
    responses((status = 200, body = SubscriptionView), (status = 404), (status = 409, description = "manual_gateway"),
        (status = 422, description = "payment_method_refused")),
    security(("bearer" = [])))]
#[post("/billing/payment-method")]
pub async fn payment_method(
    state: web::Data<AppState>,
    scope: TenantScope,
    body: Valid<PaymentMethod>,
) -> ApiResult<HttpResponse> {
    owner(&scope)?;
    let body = body.0;
    let gateway = state.billing.gateway.clone();
    if !gateway.takes_cards() {
        return Err(ApiError::conflict(
            "manual_gateway",
            "invoices are paid by hand here; no card is needed",
        ));
    }
    let txn = scope.begin(&state, Access::Read).await?;
    let sub = current(&txn).await?;
    let name = tenants::Entity::find_by_id(txn.tenant_id())
        .one(&*txn)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    drop(txn);
    let customer = match &sub.gateway_customer {
        Some(c) => c.clone(),
        None => gateway.create_customer(sub.tenant_id, &name).await?,
    };
    gateway
        .attach(&customer, &body.payment_method)
        .await
        .map_err(|reason| ApiError::field("payment_method_refused", "payment_method", reason))?;
    let txn = scope.begin(&state, Access::Write).await?;
    let mut row: subscriptions::ActiveModel = current(&txn).await?.into();
    row.gateway_customer = Set(Some(customer));
    row.payment_method = Set(Some(body.payment_method));
    row.updated_at = Set(Utc::now());
    let sub = row.update(&*txn).await?;
    let view = view(&txn, sub).await?;
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(view))
}
