//! `POST /billing/stripe/webhook`: Stripe's word that a payment succeeded
//! or failed. The signature is checked on the raw body (any `v1` in the
//! header may match; the timestamp within 300 s), and an event id already
//! seen is acknowledged without acting on it again.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::Utc;
use hmac::{Hmac, Mac};
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};
use serde::Deserialize;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use crate::billing::dunning;
use crate::db::Access;
use crate::entities::stripe_events;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Seconds a signature stays good, as Stripe's own libraries allow.
pub const TOLERANCE: i64 = 300;

#[derive(Debug, PartialEq, Eq)]
pub enum SignatureError {
    Malformed,
    Mismatch,
    Stale,
}

/// Checks `Stripe-Signature: t=...,v1=...[,v1=...]` against `body`.
pub fn verify(header: &str, body: &[u8], secret: &str, now: i64) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => signatures.extend(hex::decode(sig).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| SignatureError::Malformed)?;
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    if !signatures.iter().any(|sig| mac.clone().verify_slice(sig).is_ok()) {
        return Err(SignatureError::Mismatch);
    }
    if (now - timestamp).abs() > TOLERANCE {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: EventObject,
}

#[derive(Debug, Deserialize)]
struct EventObject {
    id: Option<String>,
    #[serde(default)]
    metadata: std::collections::HashMap<String, String>,
}

#[utoipa::path(tag = "billing", request_body(content = String, description = "a Stripe event, signed"),
    responses((status = 200), (status = 400, description = "invalid_signature, stale_signature, malformed_json"), (status = 404)))]
#[post("/billing/stripe/webhook")]
pub async fn receive(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> ApiResult<HttpResponse> {
    let secret = &state.settings.billing.stripe.webhook_secret;
    if secret.is_empty() {
        return Err(ApiError::NotFound);
    }
    let header = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::bad_request("missing_signature", "send the Stripe-Signature header"))?;
    let now = Utc::now();
    verify(header, &body, secret, now.timestamp()).map_err(|e| match e {
        SignatureError::Stale => ApiError::bad_request(
            "stale_signature",
            format!("the signature's timestamp is more than {TOLERANCE} s away"),
        ),
        _ => ApiError::bad_request("invalid_signature", "the signature does not match the body"),
    })?;
    let event: Event = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request("malformed_json", format!("not a Stripe event: {e}")))?;
    let object = &event.data.object;
    let tenant = object.metadata.get("tenant_id").and_then(|t| t.parse::<Uuid>().ok());
    let invoice = object.metadata.get("invoice_id").and_then(|t| t.parse::<Uuid>().ok());
    let seen = stripe_events::Entity::insert(stripe_events::ActiveModel {
        id: Set(event.id.clone()),
        kind: Set(event.kind.clone()),
        received_at: Set(now),
    })
    .on_conflict(OnConflict::column(stripe_events::Column::Id).do_nothing().to_owned());
    let (Some(tenant), Some(invoice)) = (tenant, invoice) else {
        // Not about one of our invoices: remember it and say thanks.
        let txn = state.db.platform(Access::Write).await?;
        seen.exec_without_returning(&txn).await?;
        txn.commit().await?;
        return Ok(HttpResponse::Ok().json(json!({"received": true})));
    };
    let txn = state.db.tenant(tenant, Access::Write).await?;
    if seen.exec_without_returning(&*txn).await? == 0 {
        return Ok(HttpResponse::Ok().json(json!({"received": true, "duplicate": true})));
    }
    let acted = match event.kind.as_str() {
        "payment_intent.succeeded" => dunning::settle(&txn, invoice, object.id.clone(), now).await.map(|_| ()),
        "payment_intent.payment_failed" => dunning::fail(&txn, &state.settings.billing, invoice, now, false).await,
        _ => Ok(()),
    };
    match acted {
        // An invoice that is not this tenant's, or no longer open: nothing to do.
        Ok(()) | Err(ApiError::NotFound) | Err(ApiError::Conflict { .. }) => {}
        Err(e) => return Err(e),
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(json!({"received": true})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn any_v1_may_match_and_old_timestamps_are_stale() {
        let body = br#"{"id":"evt_1"}"#;
        let good = sign("whsec_a", 1000, body);
        let header = format!("t=1000,v1={},v1={good},v0=zz", "00".repeat(32));
        assert_eq!(verify(&header, body, "whsec_a", 1100), Ok(()));
        assert_eq!(verify(&header, body, "whsec_b", 1100), Err(SignatureError::Mismatch));
        assert_eq!(verify(&header, body, "whsec_a", 1301), Err(SignatureError::Stale));
        assert_eq!(verify("v1=00", body, "whsec_a", 1000), Err(SignatureError::Malformed));
    }
}
