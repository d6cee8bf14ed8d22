use chrono::{DateTime, Utc};
use livemall::billing::run;
use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token, after_period, choose, id, invoices, plan, run_at};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_run_repeated_for_the_same_instant_makes_one_set_of_numbered_invoices() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 1500, 0, json!({})).await;
    let mut tenants = Vec::new();
    let mut last = None;
    for n in 0..3 {
        let t = app.signup(&format!("t{n}@example.com"), &format!("T{n}")).await;
        last = Some(choose(&app, &t, &p).await);
        tenants.push(t);
    }
    let at = after_period(last.as_ref().unwrap());
    let first = run_at(&app, &admin, at).await;
    assert_eq!(first["invoiced"], 3);
    let second = run_at(&app, &admin, at).await;
    assert_eq!(second["invoiced"], 0, "{second}");
    let all = app.get("/api/v1/admin/billing/invoices", &admin).await.items();
    assert_eq!(all.len(), 3);
    let mut numbers: Vec<String> = all.iter().map(|i| i["number"].as_str().unwrap().to_string()).collect();
    numbers.sort();
    assert_eq!(numbers, ["LM-000001", "LM-000002", "LM-000003"]);
    for t in &tenants {
        assert_eq!(invoices(&app, t).await.len(), 1);
    }
}

#[tokio::test]
async fn a_run_that_stopped_half_way_is_finished_by_the_next_without_duplicates() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 1500, 0, json!({})).await;
    let a = app.signup("a@example.com", "A").await;
    let b = app.signup("b@example.com", "B").await;
    choose(&app, &a, &p).await;
    let sub = choose(&app, &b, &p).await;
    let at = after_period(&sub);
    // The run died after A's invoice committed and before B's.
    let settings = &app.state.settings.billing;
    assert!(run::invoice_next(&app.db, settings, a.tenant_id, at).await.unwrap());
    let report = run_at(&app, &admin, at).await;
    assert_eq!(report["invoiced"], 1, "only B was left: {report}");
    assert_eq!(invoices(&app, &a).await.len(), 1);
    assert_eq!(invoices(&app, &b).await.len(), 1);
    // Two runs racing for the same tenant: the period is invoiced once.
    let later = after_period(&app.get("/api/v1/billing/subscription", &a.token).await.body);
    let (x, y) = tokio::join!(
        run::invoice_next(&app.db, settings, a.tenant_id, later),
        run::invoice_next(&app.db, settings, a.tenant_id, later)
    );
    let made = [x, y].into_iter().filter(|r| matches!(r, Ok(true))).count();
    assert_eq!(made, 1);
    assert_eq!(invoices(&app, &a).await.len(), 2);
}

#[tokio::test]
async fn a_finalized_invoice_only_moves_from_open_to_paid_or_void() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 1500, 0, json!({})).await;
    let t = app.signup("a@example.com", "A").await;
    let sub = choose(&app, &t, &p).await;
    run_at(&app, &admin, after_period(&sub)).await;
    let inv = &invoices(&app, &t).await[0];
    assert_eq!(inv["status"], "open");
    let path = format!("/api/v1/admin/billing/invoices/{}", id(inv));
    let paid = app.post(&format!("{path}/pay"), &admin, json!({})).await;
    assert_eq!(paid.status, StatusCode::OK, "{}", paid.body);
    assert_eq!(paid.body["status"], "paid");
    let again = app.post(&format!("{path}/pay"), &admin, json!({})).await;
    assert_eq!(
        again.body["paid_at"], paid.body["paid_at"],
        "paying twice changes nothing"
    );
    let void = app.post(&format!("{path}/void"), &admin, json!({})).await;
    assert_eq!((void.status, void.code()), (StatusCode::CONFLICT, "invoice_not_open"));
    let read = app.get(&path, &admin).await.body;
    assert_eq!(read["lines"], paid.body["lines"]);
    assert_eq!(read["total"], paid.body["total"]);

    let next = app.get("/api/v1/billing/subscription", &t.token).await.body;
    run_at(&app, &admin, after_period(&next)).await;
    let second = &invoices(&app, &t).await[0];
    let void = app
        .post(
            &format!("/api/v1/admin/billing/invoices/{}/void", id(second)),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(void.body["status"], "void");
    let pay = app
        .post(
            &format!("/api/v1/admin/billing/invoices/{}/pay", id(second)),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!((pay.status, pay.code()), (StatusCode::CONFLICT, "invoice_not_open"));
}

#[tokio::test]
async fn the_owner_reads_mrr_and_revenue_per_plan() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let basic = plan(&app, &admin, "basic", 1500, 0, json!({})).await;
    let pro = plan(&app, &admin, "pro", 4000, 7, json!({})).await;
    let a = app.signup("a@example.com", "A").await;
    let b = app.signup("b@example.com", "B").await;
    let sub = choose(&app, &a, &basic).await;
    choose(&app, &b, &pro).await;
    let reports = app.get("/api/v1/admin/billing/reports", &admin).await;
    assert_eq!(reports.status, StatusCode::OK, "{}", reports.body);
    assert_eq!(
        reports.body["mrr"],
        json!([{"amount": 1500, "currency": "EUR"}]),
        "trials are not recurring revenue yet"
    );
    let at: DateTime<Utc> = after_period(&sub);
    run_at(&app, &admin, at).await;
    let inv = &invoices(&app, &a).await[0];
    app.post(
        &format!("/api/v1/admin/billing/invoices/{}/pay", id(inv)),
        &admin,
        json!({}),
    )
    .await;
    let reports = app.get("/api/v1/admin/billing/reports", &admin).await.body;
    assert_eq!(reports["revenue_per_plan"][0]["slug"], "basic");
    assert_eq!(reports["revenue_per_plan"][0]["amount"]["amount"], 1500);
    assert_eq!(reports["mrr"][0]["amount"], 1500 + 4000, "{reports}");
}
