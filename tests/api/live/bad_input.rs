//! Bad input answers a clear 4xx and changes nothing.

use reqwest::StatusCode;
use serde_json::json;

use super::Studio;
use crate::catalog::product;

#[tokio::test]
async fn an_unknown_stream_is_not_found_everywhere() {
    let s = Studio::open().await;
    let id = uuid::Uuid::now_v7();
    for path in [format!("/streams/{id}"), format!("/streams/{id}/stats")] {
        let r = s.get(&path).await;
        assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"), "{path}");
    }
    let r = s.post(&format!("/streams/{id}/start"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
    let r = s.app.public_get(&s.feed(&id.to_string())).await;
    assert_eq!((r.status, r.code()), (StatusCode::NOT_FOUND, "not_found"));
}

#[tokio::test]
async fn a_pin_of_another_stores_product_is_refused() {
    let s = Studio::open().await;
    let other = s.app.create_store(&s.t.token, "Other", "other").await;
    let path = format!("/api/v1/stores/{}/products", other["id"].as_str().unwrap());
    let theirs = s
        .app
        .post(&path, &s.t.token, product("Vase", &[("VASE", 900, 1)]))
        .await;
    let id = s.live_stream().await;
    let r = s
        .post(&format!("/streams/{id}/pins"), json!({"product_id": theirs.body["id"]}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_product")
    );
    assert_eq!(
        s.get(&format!("/streams/{id}")).await.body["pinned_product_ids"],
        json!([])
    );
}

#[tokio::test]
async fn a_comment_on_an_ended_stream_is_refused() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    s.post(&format!("/streams/{id}/end"), json!({})).await;
    let r = s
        .post(
            &format!("/streams/{id}/comments"),
            json!({"author": "a", "text": "late"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "stream_not_live"));
    let r = s
        .post(&format!("/streams/{id}/pins"), json!({"product_id": s.lamp}))
        .await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "stream_ended"));
    assert_eq!(s.get(&format!("/streams/{id}")).await.body["comments"], 0);
}

#[tokio::test]
async fn wrong_transitions_are_conflicts() {
    let s = Studio::open().await;
    let id = s.stream().await;
    let r = s.post(&format!("/streams/{id}/end"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));
    s.post(&format!("/streams/{id}/start"), json!({})).await;
    let r = s.post(&format!("/streams/{id}/start"), json!({})).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "invalid_transition"));
    let r = s.post(&format!("/streams/{id}/viewers"), json!({"viewers": -1})).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
    let r = s
        .post("/streams", json!({"title": "", "scheduled_at": "2026-11-27T18:00:00Z"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
    );
}

#[tokio::test]
async fn an_event_from_a_key_without_the_stream_scope_is_forbidden() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    let make_key = |scopes: serde_json::Value| json!({"name": "tool", "scopes": scopes});
    let r = s
        .app
        .post("/api/v1/api-keys", &s.t.token, make_key(json!(["stores:read"])))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let weak = r.body["secret"].as_str().unwrap().to_string();
    let path = s.path(&format!("/streams/{id}/viewers"));
    let r = s.app.post(&path, &weak, json!({"viewers": 5})).await;
    assert_eq!((r.status, r.code()), (StatusCode::FORBIDDEN, "missing_scope"));
    let r = s
        .app
        .post("/api/v1/api-keys", &s.t.token, make_key(json!(["streams"])))
        .await;
    let good = r.body["secret"].as_str().unwrap().to_string();
    let r = s.app.post(&path, &good, json!({"viewers": 5})).await;
    assert_eq!((r.status, r.body["viewers"].as_i64()), (StatusCode::OK, Some(5)));
}

#[tokio::test]
async fn a_last_event_id_that_is_not_a_number_is_a_bad_request() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    let r = s
        .app
        .client
        .get(format!("{}{}", s.app.address, s.feed(&id)))
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "invalid_last_event_id");
}
