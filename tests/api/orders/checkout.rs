//! Checkout: the idempotency key, who the shopper is, and who may read orders.

use actix_web::body::to_bytes;
use actix_web::HttpResponse;
use livemall::db::Access;
use livemall::entities::stores;
use livemall::error::ApiResult;
use livemall::http::idempotency::{self, IdempotencyKey};
use livemall::orders::cart::{self, CartRequest};
use livemall::orders::checkout::{self, Handover, Placing};
use livemall::orders::customers;
use livemall::orders::pricing;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{json, Value};
use uuid::Uuid;

use super::Mall;

#[tokio::test]
async fn checkout_needs_a_key_and_a_retry_gets_the_first_answer_without_a_second_order() {
    let mall = Mall::open(10, 10).await;
    let body = json!({"email": "a@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 2}]});
    let app = &mall.shop.app;
    let keyless = app.public_post(&mall.shop.front("/orders"), body.clone()).await;
    assert_eq!(keyless.status, StatusCode::BAD_REQUEST);
    assert_eq!(keyless.code(), "idempotency_key_required");

    let first = mall.checkout("retry-me", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = mall.checkout("retry-me", body.clone()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(mall.stock(&mall.lamp).await, 8);

    let mut other = body.clone();
    other["lines"][0]["quantity"] = json!(1);
    let reused = mall.checkout("retry-me", other).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.code(), "idempotency_key_reused");
    assert_eq!(mall.snapshot().await.orders, 1);
}

#[tokio::test]
async fn a_customer_orders_by_id_and_a_guest_with_their_email_keys_as_them() {
    let mall = Mall::open(10, 10).await;
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let customers = mall.shop.path("/customers");
    let created = app
        .post(&customers, token, json!({"email": "Cara@Example.com", "name": "Cara"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["email"], "cara@example.com");
    let cara = created.body["id"].as_str().unwrap().to_string();
    let dup = app.post(&customers, token, json!({"email": "CARA@example.com"})).await;
    assert_eq!(dup.code(), "duplicate_email");
    assert_eq!(app.get(&customers, token).await.items().len(), 1);
    let got = app.get(&format!("{customers}/{cara}"), token).await;
    assert_eq!(got.body["name"], "Cara");

    let line = json!([{"variant_id": mall.lamp, "quantity": 1}]);
    let by_id = mall.checkout("c1", json!({"customer_id": cara, "lines": line})).await;
    assert_eq!(by_id.status, StatusCode::CREATED, "{}", by_id.body);
    assert_eq!(by_id.body["customer_id"], cara.as_str());
    assert_eq!(by_id.body["customer_key"], cara.as_str());
    assert_eq!(by_id.body["email"], "cara@example.com");
    let by_email = mall
        .checkout("c2", json!({"email": "CARA@example.com", "lines": line}))
        .await;
    assert_eq!(by_email.body["customer_id"], cara.as_str());
    assert_eq!(by_email.body["customer_key"], cara.as_str());
    let guest = mall
        .checkout("c3", json!({"email": "Dan@Example.com", "lines": line}))
        .await;
    assert!(guest.body["customer_id"].is_null());
    assert_eq!(guest.body["customer_key"], "dan@example.com");

    let before = mall.snapshot().await;
    let stranger = Uuid::now_v7().to_string();
    for (key, body, code) in [
        (
            "c4",
            json!({"customer_id": stranger, "lines": line}),
            "unknown_customer",
        ),
        (
            "c5",
            json!({"customer_id": cara, "email": "cara@example.com", "lines": line}),
            "validation_failed",
        ),
        ("c6", json!({"lines": line}), "customer_required"),
        (
            "c7",
            json!({"email": "not an email", "lines": line}),
            "validation_failed",
        ),
    ] {
        let r = mall.checkout(key, body).await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{}",
            r.body
        );
    }
    assert_eq!(mall.snapshot().await, before);
}

#[tokio::test]
async fn the_stream_and_codes_are_kept_with_the_order() {
    let mall = Mall::open(10, 10).await;
    let stream = mall
        .shop
        .app
        .post(
            &mall.shop.path("/streams"),
            &mall.shop.t.token,
            json!({"title": "Friday live", "scheduled_at": "2026-11-27T18:00:00Z"}),
        )
        .await;
    assert_eq!(stream.status, StatusCode::CREATED, "{}", stream.body);
    let stream = stream.body["id"].as_str().unwrap().to_string();
    let body = json!({"email": "a@example.com", "stream_id": stream, "codes": ["LIVE10", "vip"],
        "currency": "eur", "lines": [{"sku": "BULB", "quantity": 4}]});
    let placed = mall.checkout("s1", body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(placed.body["stream_id"], stream.as_str());
    assert_eq!(placed.body["codes"], json!(["LIVE10", "vip"]));
    assert_eq!(placed.body["lines"][0]["sku"], "BULB");
    assert_eq!(placed.body["lines"][0]["quantity"], 4);
}

#[tokio::test]
async fn orders_need_the_orders_scopes_and_another_tenant_finds_nothing() {
    let mall = Mall::open(10, 10).await;
    let order = mall.order_lamps(1).await;
    let id = order["id"].as_str().unwrap();
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let key_with = |scopes: serde_json::Value| {
        let body = json!({"name": "k", "scopes": scopes});
        async move {
            app.post("/api/v1/api-keys", token, body).await.body["secret"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let reader = key_with(json!(["orders:read"])).await;
    let writer = key_with(json!(["orders:write"])).await;
    let catalog = key_with(json!(["catalog:read"])).await;
    let one = mall.orders(&format!("/{id}"));
    assert_eq!(app.get(&one, &reader).await.status, StatusCode::OK);
    assert_eq!(app.get(&mall.orders(""), &catalog).await.code(), "missing_scope");
    let pay = mall.orders(&format!("/{id}/pay"));
    assert_eq!(app.post(&pay, &reader, json!({})).await.code(), "missing_scope");
    let paid = app.post(&pay, &writer, json!({})).await;
    assert_eq!(paid.body["status"], "paid", "{}", paid.body);

    let other = app.signup("eve@example.com", "Eve").await;
    assert_eq!(app.get(&one, &other.token).await.status, StatusCode::NOT_FOUND);
    let cancel = mall.orders(&format!("/{id}/cancel"));
    assert_eq!(
        app.post(&cancel, &other.token, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&one, token).await.body["status"], "paid");
}

#[tokio::test]
async fn a_per_customer_limit_keys_on_the_normalised_email_of_a_guest() {
    let mall = Mall::open(10, 10).await;
    let claim =
        json!({"key": "one_each", "scope": "customer", "amount": 1, "limit": 1, "message": "One per customer."});
    let install = mall
        .install("config_effects", "one-each", json!({"claims": [claim]}), 10)
        .await;
    let line = json!([{"variant_id": mall.lamp, "quantity": 1}]);
    let first = mall
        .checkout("a1", json!({"email": "ann@example.com", "lines": line}))
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let again = mall
        .checkout("a2", json!({"email": "ANN@example.com", "lines": line}))
        .await;
    assert_eq!(
        (again.code(), &again.body["detail"]),
        ("claim_refused", &json!("One per customer."))
    );
    let bob = mall
        .checkout("b1", json!({"email": "bob@example.com", "lines": line}))
        .await;
    assert_eq!(bob.status, StatusCode::CREATED);
    assert_eq!(mall.counter(install, "one_each", "ann@example.com").await, 1);
    assert_eq!(mall.counter(install, "one_each", "bob@example.com").await, 1);
    assert_eq!(mall.stock(&mall.lamp).await, 8, "the refused order took no stock");
}

#[tokio::test]
async fn two_claims_on_one_counter_in_one_order_are_taken_one_after_the_other() {
    let mall = Mall::open(10, 10).await;
    let claim = json!({"key": "pair", "amount": 1, "limit": 3, "message": "Pairs are sold out."});
    let install = mall
        .install("config_effects", "pair", json!({"claims": [claim, claim]}), 10)
        .await;
    let first = mall.order_lamps(1).await;
    assert_eq!(mall.counter(install, "pair", "").await, 2, "both claims were taken");
    // 2 + 1 fits the first claim's limit; 2 + 1 + 1 passes the second's.
    let refused = mall
        .checkout(
            "second",
            json!({"email": "b@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 1}]}),
        )
        .await;
    assert_eq!(
        (refused.code(), &refused.body["detail"]),
        ("claim_refused", &json!("Pairs are sold out."))
    );
    assert_eq!(
        mall.counter(install, "pair", "").await,
        2,
        "the refused order took nothing"
    );
    assert_eq!(mall.stock(&mall.lamp).await, 9);
    let id = first["id"].as_str().unwrap_or_default();
    let cancelled = mall.act(id, "cancel").await;
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.body);
    assert_eq!(mall.counter(install, "pair", "").await, 0, "both came back");
}

/// PostgreSQL: a committed order wakes the dispatchers of every process (a
/// NOTIFY sent after the commit, outside the checkout's transaction); a
/// refused checkout, rolled back, wakes nobody.
#[tokio::test]
async fn a_committed_order_notifies_other_processes_and_a_refused_one_does_not() {
    use std::time::Duration;

    use sea_orm::sqlx::postgres::PgListener;

    let mall = Mall::open(1, 5).await;
    let app = &mall.shop.app;
    if app.engine != crate::helpers::Engine::Postgres {
        return;
    }
    let mut listener = PgListener::connect(&app.state.settings.database_url()).await.unwrap();
    listener.listen("livemall_events").await.unwrap();
    // What setting the shop up sent may still arrive: wait until it is quiet.
    while tokio::time::timeout(Duration::from_millis(300), listener.recv())
        .await
        .is_ok()
    {}

    let refused = mall
        .checkout(
            &Uuid::new_v4().to_string(),
            json!({"email": "a@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 2}]}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let quiet = tokio::time::timeout(Duration::from_millis(500), listener.recv()).await;
    assert!(quiet.is_err(), "a refused checkout notified: {quiet:?}");

    mall.order_lamps(1).await;
    let note = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("no notification within 5 s of the order")
        .unwrap();
    assert_eq!(note.channel(), "livemall_events");
}

#[tokio::test]
async fn a_retry_of_a_finished_checkout_is_answered_before_any_plug_in_runs() {
    let mall = Mall::open(10, 10).await;
    let fixed = json!({"adjustments": [{"amount": -100, "label": "Fixed"}]});
    mall.install("config_effects", "fixed", fixed, 10).await;
    let body = json!({"email": "a@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 1}]});
    let first = mall.checkout("once", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let calls = mall.calls("ok").await;
    assert_eq!(calls, 1, "the checkout priced the cart once");

    let again = mall.checkout("once", body).await;
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body, first.body);
    assert_eq!(mall.calls("ok").await, calls, "the retry called no plug-in");
    assert_eq!(mall.snapshot().await.orders, 1);
}

/// Places `body` with `key` past the storefront, which answers a finished
/// key before pricing: as a request does that read the key just before
/// another with the same key committed.
async fn place_past_the_storefront(
    mall: &Mall,
    body: &Value,
    key: &str,
    fingerprint: String,
) -> ApiResult<HttpResponse> {
    let state = &mall.shop.app.state;
    let tenant_id = mall.shop.t.tenant_id;
    let request: CartRequest = serde_json::from_value(body.clone()).unwrap();
    let txn = state.db.tenant(tenant_id, Access::Read).await.unwrap();
    let store = stores::Entity::find_by_id((tenant_id, mall.store_id()))
        .one(&*txn)
        .await
        .unwrap()
        .unwrap();
    let cart = cart::build(&txn, &store, &request).await?;
    let prepared = pricing::prepare(state, &txn, &store, cart).await?;
    drop(txn);
    let priced = pricing::run(state, tenant_id, prepared).await?;
    let shopper = customers::identify(None, request.email.as_deref(), None)?.unwrap();
    let placing = Placing {
        handover: Handover::Nothing,
        tenant_id,
        store: &store,
        shopper,
        stream_id: None,
        priced,
        key: &IdempotencyKey(Some(key.to_string())),
        fingerprint,
    };
    checkout::place(state, placing).await
}

#[tokio::test]
async fn a_key_committed_while_the_cart_was_priced_is_found_by_the_write_and_answered_again() {
    let mall = Mall::open(10, 10).await;
    let body = json!({"email": "a@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 2}]});
    let first = mall.checkout("raced", body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let before = mall.snapshot().await;

    // The same request: the first answer, number and all, and nothing written.
    let request: CartRequest = serde_json::from_value(body.clone()).unwrap();
    let route = format!("POST /storefront/{}/main/orders", mall.shop.t.tenant_slug);
    let fingerprint = idempotency::fingerprint(&route, &request).unwrap();
    let again = place_past_the_storefront(&mall, &body, "raced", fingerprint)
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").unwrap(), "true");
    let again: Value = serde_json::from_slice(&to_bytes(again.into_body()).await.unwrap()).unwrap();
    assert_eq!(again, first.body);

    // Another request with that key: refused, nothing written.
    let other = place_past_the_storefront(&mall, &body, "raced", "another request".into()).await;
    let refused = other.expect_err("a key used with another request is refused");
    assert_eq!(refused.code(), "idempotency_key_reused");
    assert_eq!(mall.snapshot().await, before);
    assert_eq!(mall.stock(&mall.lamp).await, 8);
}
