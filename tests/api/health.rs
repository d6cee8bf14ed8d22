use reqwest::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn liveness_and_readiness_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(app.public_get("/health/live").await.status, StatusCode::OK);
    let ready = app.public_get("/health/ready").await;
    assert_eq!(ready.status, StatusCode::OK);
    assert_eq!(ready.body["database"], "ok");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let r = app.public_get("/health/live").await;
    assert!(r.headers.get("x-request-id").is_some());
    let resp = app
        .client
        .get(format!("{}/health/live", app.address))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "trace-me-42");
}

#[tokio::test]
async fn unknown_routes_are_problem_documents() {
    let app = spawn_app().await;
    let r = app.public_get("/api/v1/nothing-here").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.code(), "not_found");
    assert_eq!(r.body["request_id"].as_str(), r.headers["x-request-id"].to_str().ok());
}

#[tokio::test]
async fn the_openapi_document_and_its_ui_are_served() {
    let app = spawn_app().await;
    let doc = app.public_get("/api/openapi.json").await;
    assert_eq!(doc.status, StatusCode::OK);
    assert!(
        doc.body["paths"]["/api/v1/stores"]["post"].is_object(),
        "{}",
        doc.body["paths"]
    );
    assert!(doc.body["paths"]["/api/v1/auth/signup"]["post"].is_object());
    let ui = app
        .client
        .get(format!("{}/api/docs/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.unwrap().contains("swagger"));
}
