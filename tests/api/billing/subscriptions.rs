use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token, after_period, choose, id, invoice, invoices, plan, prorated, run_at, secs};
use crate::helpers::{spawn_app, PASSWORD};

#[tokio::test]
async fn a_trial_costs_nothing_and_the_first_paid_month_follows() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "starter", 1900, 14, json!({})).await;
    let r = app
        .public_post(
            "/api/v1/auth/signup",
            json!({"email": "ann@example.com", "password": PASSWORD, "tenant_name": "Ann", "plan_id": id(&p)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let sub = app.get("/api/v1/billing/subscription", &token).await.body;
    assert_eq!(sub["status"], "trialing");
    assert_eq!(secs(&sub["period_start"], &sub["period_end"]), 14 * 86_400);

    run_at(&app, &admin, after_period(&sub)).await;
    let sub2 = app.get("/api/v1/billing/subscription", &token).await.body;
    assert_eq!(sub2["status"], "active");
    assert_eq!(sub2["period_start"], sub["period_end"]);
    let list = app.get("/api/v1/billing/invoices", &token).await.items();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["total"]["amount"], 0, "the trial is free");
    assert_eq!(list[0]["status"], "paid");

    run_at(&app, &admin, after_period(&sub2)).await;
    let list = app.get("/api/v1/billing/invoices", &token).await.items();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["total"]["amount"], 1900, "newest first: the first paid month");
    assert_eq!(list[0]["status"], "open");
}

#[tokio::test]
async fn an_upgrade_is_prorated_to_the_second_with_a_credit_and_a_charge() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let basic = plan(&app, &admin, "basic", 3000, 0, json!({})).await;
    let pro = plan(&app, &admin, "pro", 9000, 0, json!({})).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let sub = choose(&app, &t, &basic).await;
    assert_eq!(sub["status"], "active");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let changed = choose(&app, &t, &pro).await;
    assert_eq!(changed["plan"]["slug"], "pro");
    assert_eq!(changed["period_end"], sub["period_end"], "the period does not move");

    run_at(&app, &admin, after_period(&sub)).await;
    let list = invoices(&app, &t).await;
    assert_eq!(list.len(), 1);
    let inv = invoice(&app, &t, &list[0]).await;
    let lines = inv["lines"].as_array().unwrap();
    let whole = secs(&inv["period_start"], &inv["period_end"]);
    assert_eq!(lines[0]["kind"], "plan");
    assert_eq!(lines[0]["amount"]["amount"], 3000, "the period's plan in full");
    let left = secs(&lines[1]["period_start"], &lines[1]["period_end"]);
    assert!(left < whole && left > whole - 60, "{left} of {whole}");
    assert_eq!(lines[1]["kind"], "proration");
    assert_eq!(lines[1]["amount"]["amount"], -prorated(3000, left, whole));
    assert_eq!(lines[2]["amount"]["amount"], prorated(9000, left, whole));
    let sum: i64 = lines.iter().map(|l| l["amount"]["amount"].as_i64().unwrap()).sum();
    assert_eq!(inv["total"]["amount"], sum);
    let next = app.get("/api/v1/billing/subscription", &t.token).await.body;
    assert_eq!(next["plan"]["slug"], "pro");
}

#[tokio::test]
async fn cancel_at_period_end_can_be_resumed_and_cancel_now_credits_the_rest() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let basic = plan(&app, &admin, "basic", 3000, 0, json!({})).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let sub = choose(&app, &t, &basic).await;
    let r = app
        .post(
            "/api/v1/billing/subscription/cancel",
            &t.token,
            json!({"at_period_end": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (r.body["status"].as_str(), r.body["cancel_at_period_end"].as_bool()),
        (Some("active"), Some(true))
    );
    let r = app
        .post("/api/v1/billing/subscription/resume", &t.token, json!({}))
        .await;
    assert_eq!(r.body["cancel_at_period_end"], false);
    let again = app
        .post("/api/v1/billing/subscription/resume", &t.token, json!({}))
        .await;
    assert_eq!((again.status, again.code()), (StatusCode::CONFLICT, "not_canceling"));

    let r = app
        .post(
            "/api/v1/billing/subscription/cancel",
            &t.token,
            json!({"at_period_end": false}),
        )
        .await;
    assert_eq!(r.body["status"], "canceled");
    let ended: DateTime<Utc> = r.body["period_end"].as_str().unwrap().parse().unwrap();
    let r = app
        .post("/api/v1/billing/subscription/resume", &t.token, json!({}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "subscription_canceled"));
    let r = app
        .post("/api/v1/stores", &t.token, json!({"name": "S", "currency": "EUR"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::PAYMENT_REQUIRED, "subscription_canceled")
    );

    run_at(&app, &admin, ended + chrono::Duration::seconds(1)).await;
    let inv = invoice(&app, &t, &invoices(&app, &t).await[0]).await;
    let lines = inv["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{inv}");
    let whole = secs(&sub["period_start"], &sub["period_end"]);
    let left = secs(&lines[1]["period_start"], &lines[1]["period_end"]);
    assert_eq!(lines[1]["amount"]["amount"], -prorated(3000, left, whole));
    assert!(
        inv["total"]["amount"].as_i64().unwrap() < 5,
        "canceled within seconds: {inv}"
    );
    run_at(&app, &admin, after_period(&sub)).await;
    assert_eq!(
        invoices(&app, &t).await.len(),
        1,
        "a canceled subscription is invoiced once"
    );
    assert_eq!(
        choose(&app, &t, &basic).await["status"],
        "active",
        "subscribing again works"
    );
    let _ = id(&basic);
}
