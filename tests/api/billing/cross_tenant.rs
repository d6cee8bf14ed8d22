use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token, after_period, choose, id, invoices, plan, run_at};
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_merchant_never_sees_another_tenants_invoices_usage_or_subscription() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(&app, &admin, "basic", 1500, 0, json!({})).await;
    let a = app.signup("a@example.com", "A").await;
    let b = app.signup("b@example.com", "B").await;
    let sub = choose(&app, &a, &p).await;
    run_at(&app, &admin, after_period(&sub)).await;
    let inv = &invoices(&app, &a).await[0];
    let r = app
        .get(&format!("/api/v1/billing/invoices/{}", id(inv)), &b.token)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(invoices(&app, &b).await.is_empty());
    assert_eq!(
        app.get("/api/v1/billing/subscription", &b.token).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/billing/usage", &b.token).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app.get("/api/v1/admin/billing/invoices", &b.token).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let r = app.get("/api/v1/billing/invoices", &admin).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "tenant_required"));
}
