//! Plans, subscriptions, usage, invoices, the billing run, the Stripe
//! gateway against localstripe and dunning.

mod cross_tenant;
mod dunning;
mod invoices;
mod limits;
pub mod localstripe;
mod plans;
mod stripe;
mod subscriptions;
mod usage;

use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{Tenant, TestApp};
pub use crate::marketplace::admin_token;

/// Creates a plan through the admin API.
pub async fn plan(app: &TestApp, admin: &str, slug: &str, price: i64, trial_days: i32, limits: Value) -> Value {
    let r = app
        .post(
            "/api/v1/admin/plans",
            admin,
            json!({"name": slug.to_uppercase(), "slug": slug, "price": price, "currency": "EUR",
                   "trial_days": trial_days, "limits": limits}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The tenant subscribes (or changes) to `plan`.
pub async fn choose(app: &TestApp, t: &Tenant, plan: &Value) -> Value {
    let r = app
        .post("/api/v1/billing/subscription", &t.token, json!({"plan_id": id(plan)}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

pub async fn run_at(app: &TestApp, admin: &str, at: DateTime<Utc>) -> Value {
    let r = app.post("/api/v1/admin/billing/run", admin, json!({"at": at})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// The subscription's period end, plus a second.
pub fn after_period(sub: &Value) -> DateTime<Utc> {
    sub["period_end"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap() + Duration::seconds(1)
}

pub async fn invoices(app: &TestApp, t: &Tenant) -> Vec<Value> {
    let r = app.get("/api/v1/billing/invoices", &t.token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.items()
}

pub async fn invoice(app: &TestApp, t: &Tenant, invoice: &Value) -> Value {
    let r = app
        .get(&format!("/api/v1/billing/invoices/{}", id(invoice)), &t.token)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

pub fn secs(from: &Value, to: &Value) -> i64 {
    let a: DateTime<Utc> = from.as_str().unwrap().parse().unwrap();
    let b: DateTime<Utc> = to.as_str().unwrap().parse().unwrap();
    (b - a).num_seconds()
}

/// `price * part / whole` rounded half up, as the invoice must have it.
pub fn prorated(price: i64, part: i64, whole: i64) -> i64 {
    let n = i128::from(price) * i128::from(part);
    let w = i128::from(whole);
    ((2 * n + w) / (2 * w)) as i64
}
