//! A declined card: past_due, retries on the schedule, suspension after the
//! grace period, and a payment that restores everything.

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::localstripe::LocalStripe;
use super::stripe::stripe_app;
use super::{admin_token, after_period, choose, id, invoices, plan, run_at};
use crate::marketplace::Market;

fn at(v: &serde_json::Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_declined_card_is_retried_then_the_tenant_is_suspended_until_it_pays() {
    let ls = LocalStripe::start().await;
    let market = Market::with(stripe_app(&ls).await).await;
    let (app, t) = (&market.app, &market.t);
    let admin = admin_token(app).await;
    let p = plan(app, &admin, "basic", 2500, 0, json!({})).await;
    let sub = choose(app, t, &p).await;
    market.install("discount", json!({})).await;
    let declined = ls.card("4000000000000341").await;
    let r = app
        .post(
            "/api/v1/billing/payment-method",
            &t.token,
            json!({"payment_method": declined}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);

    let end = after_period(&sub);
    let report = run_at(app, &admin, end).await;
    assert_eq!(report["failed"], 1, "{report}");
    let s = app.get("/api/v1/billing/subscription", &t.token).await.body;
    assert_eq!(s["status"], "past_due");
    let since = at(&s["past_due_since"]);
    let inv = &invoices(app, t).await[0];
    assert_eq!(inv["attempts"], 1);
    assert_eq!(
        at(&inv["next_attempt_at"]),
        since + Duration::days(1),
        "retried a day later"
    );

    let report = run_at(app, &admin, since + Duration::days(1)).await;
    assert_eq!(report["failed"], 1);
    let inv = &invoices(app, t).await[0];
    assert_eq!(
        (inv["attempts"].as_i64(), at(&inv["next_attempt_at"])),
        (Some(2), since + Duration::days(3))
    );
    assert_eq!(market.active().await.len(), 1, "plug-ins run while past due");

    let report = run_at(app, &admin, since + Duration::days(7)).await;
    assert_eq!(report["suspended"], 1, "{report}");
    assert!(market.active().await.is_empty(), "a suspended tenant's plug-ins stop");
    let r = app
        .post("/api/v1/stores", &t.token, json!({"name": "More", "currency": "EUR"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYMENT_REQUIRED, "account_suspended")
    );
    let r = app
        .post(&market.path(""), &t.token, json!({"plugin": "hello", "config": {}}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYMENT_REQUIRED, "account_suspended")
    );
    let front = app
        .public_get(&format!("/api/v1/storefront/{}/main", t.tenant_slug))
        .await;
    assert_eq!(front.status, StatusCode::OK, "storefront reads keep working");
    assert_eq!(
        app.get(&market.path(""), &t.token).await.items().len(),
        1,
        "nothing is deleted"
    );

    let paid = app
        .post(
            &format!("/api/v1/admin/billing/invoices/{}/pay", id(inv)),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(paid.body["status"], "paid");
    let s = app.get("/api/v1/billing/subscription", &t.token).await.body;
    assert_eq!(
        (s["status"].as_str(), s["suspended"].as_bool()),
        (Some("active"), Some(false))
    );
    assert_eq!(market.active().await.len(), 1, "paying restores the plug-ins");
    let r = app
        .post("/api/v1/stores", &t.token, json!({"name": "More", "currency": "EUR"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
}
