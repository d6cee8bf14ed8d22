use reqwest::StatusCode;
use serde_json::json;

use super::{admin_token, id, plan};
use crate::helpers::spawn_app;

#[tokio::test]
async fn the_platform_owner_creates_reads_changes_and_archives_plans() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let p = plan(
        &app,
        &admin,
        "starter",
        1900,
        14,
        json!({"stores": 1, "orders_per_month": 100}),
    )
    .await;
    assert_eq!(p["price"], json!({"amount": 1900, "currency": "EUR"}));
    assert_eq!(p["limits"]["stores"], 1);
    assert!(p["limits"]["plugin_installs"].is_null(), "absent means unlimited");

    let path = format!("/api/v1/admin/plans/{}", id(&p));
    let changed = app
        .patch(&path, &admin, json!({"price": 2900, "limits": {"stores": 3}}))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["price"]["amount"], 2900);
    assert_eq!(changed.body["limits"]["stores"], 3);
    assert!(
        changed.body["limits"]["orders_per_month"].is_null(),
        "limits are replaced as a whole"
    );
    assert_eq!(app.get(&path, &admin).await.body["name"], "STARTER");

    let t = app.signup("ann@example.com", "Ann").await;
    assert_eq!(app.get("/api/v1/plans", &t.token).await.items().len(), 1);
    assert_eq!(app.delete(&path, &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/plans", &t.token).await.items().len(),
        0,
        "archived plans are not offered"
    );
    assert_eq!(app.get("/api/v1/admin/plans", &admin).await.items().len(), 1);
    let r = app
        .post("/api/v1/billing/subscription", &t.token, json!({"plan_id": id(&p)}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "plan_unavailable")
    );
}

#[tokio::test]
async fn plans_are_for_administrators_and_bad_values_are_named() {
    let app = spawn_app().await;
    let admin = admin_token(&app).await;
    let t = app.signup("ann@example.com", "Ann").await;
    let body = json!({"name": "X", "price": 100, "currency": "EUR"});
    let r = app.post("/api/v1/admin/plans", &t.token, body.clone()).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "admin_only"));
    let r = app
        .post(
            "/api/v1/admin/plans",
            &admin,
            json!({"name": "X", "price": -1, "currency": "XXX", "limits": {"stores": -2}}),
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    for field in ["price", "currency", "limits.stores"] {
        assert!(r.body["errors"][field].is_array(), "{field}: {}", r.body);
    }
    assert_eq!(
        app.post("/api/v1/admin/plans", &admin, body.clone()).await.status,
        StatusCode::CREATED
    );
    let dup = app.post("/api/v1/admin/plans", &admin, body).await;
    assert_eq!((dup.status, dup.code()), (StatusCode::CONFLICT, "duplicate_slug"));
}
