//! The Stripe gateway against localstripe, and the webhook with headers
//! signed by the official `stripe` Python package.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::localstripe::{sign, LocalStripe, KEY};
use super::{admin_token, after_period, choose, id, invoices, plan, run_at};
use crate::helpers::{spawn_with, Reply, TestApp};

pub const SECRET: &str = "whsec_livemall_test";

pub async fn stripe_app(ls: &LocalStripe) -> TestApp {
    let base = ls.base.clone();
    spawn_with(move |s| {
        s.billing.stripe.secret_key = KEY.into();
        s.billing.stripe.api_base = base;
        s.billing.stripe.webhook_secret = SECRET.into();
    })
    .await
}

pub async fn webhook(app: &TestApp, payload: &str, header: &str) -> Reply {
    let r = app
        .client
        .post(format!("{}/api/v1/billing/stripe/webhook", app.address))
        .header("content-type", "application/json")
        .header("Stripe-Signature", header)
        .body(payload.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.json::<Value>().await.unwrap_or(Value::Null);
    Reply { status, headers, body }
}

pub fn event(id: &str, kind: &str, tenant: &str, invoice: &str) -> String {
    json!({
        "id": id, "object": "event", "type": kind, "api_version": "2025-01-27.acacia",
        "created": Utc::now().timestamp(), "livemode": false, "pending_webhooks": 1,
        "data": {"object": {"id": "pi_test", "object": "payment_intent",
                            "metadata": {"tenant_id": tenant, "invoice_id": invoice}}}
    })
    .to_string()
}

#[tokio::test]
async fn an_invoice_is_collected_with_the_saved_card_through_stripe() {
    let ls = LocalStripe::start().await;
    let app = stripe_app(&ls).await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 2500, 0, json!({})).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let sub = choose(&app, &t, &p).await;
    let card = ls.card("4242424242424242").await;
    let r = app
        .post(
            "/api/v1/billing/payment-method",
            &t.token,
            json!({"payment_method": card}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["payment_method"], card);
    let report = run_at(&app, &admin, after_period(&sub)).await;
    assert_eq!(
        (report["invoiced"].as_i64(), report["collected"].as_i64()),
        (Some(1), Some(1)),
        "{report}"
    );
    let inv = &invoices(&app, &t).await[0];
    assert_eq!(inv["status"], "paid");
    let bad = app
        .post(
            "/api/v1/billing/payment-method",
            &t.token,
            json!({"payment_method": "pm_nonexistent"}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "payment_method_refused")
    );
}

#[tokio::test]
async fn the_webhook_checks_the_signature_the_timestamp_and_the_event_id() {
    let ls = LocalStripe::start().await;
    let app = stripe_app(&ls).await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 2500, 0, json!({})).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let sub = choose(&app, &t, &p).await;
    run_at(&app, &admin, after_period(&sub)).await;
    let inv = &invoices(&app, &t).await[0];
    assert_eq!(inv["status"], "open", "no card: the payment failed");
    let tenant = t.tenant_id.to_string();
    let paid = event("evt_paid_1", "payment_intent.succeeded", &tenant, &id(inv));
    let now = Utc::now().timestamp();

    let tampered = paid.replace("evt_paid_1", "evt_paid_2");
    let r = webhook(&app, &tampered, &sign(&paid, SECRET, now)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_signature"));
    let r = webhook(&app, &paid, &sign(&paid, "whsec_wrong", now)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "invalid_signature"));
    let r = webhook(&app, &paid, &sign(&paid, SECRET, now - 301)).await;
    assert_eq!((r.status, r.code()), (StatusCode::BAD_REQUEST, "stale_signature"));
    assert_eq!(
        invoices(&app, &t).await[0]["status"],
        "open",
        "refused calls change nothing"
    );

    let r = webhook(&app, &paid, &sign(&paid, SECRET, now - 200)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(invoices(&app, &t).await[0]["status"], "paid");
    assert_eq!(
        app.get("/api/v1/billing/subscription", &t.token).await.body["status"],
        "active"
    );

    // A failure notice replayed under a seen id is acknowledged and ignored.
    let failed = event("evt_paid_1", "payment_intent.payment_failed", &tenant, &id(inv));
    let r = webhook(&app, &failed, &sign(&failed, SECRET, now)).await;
    assert_eq!((r.status, r.body["duplicate"].as_bool()), (StatusCode::OK, Some(true)));
    let r = webhook(&app, &paid, &sign(&paid, SECRET, now)).await;
    assert_eq!(r.body["duplicate"], true);
}
