//! The countdown over HTTP with a real stream: pinning starts it, the feed
//! shows it and its end, orders from the stream get the live price while it
//! runs, and none placed after the end does, even with orders arriving as
//! it ends.

use std::time::Duration;

use chrono::{DateTime, Utc};
use livemall::marketplace::registry;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::{applied_by, DIST};
use crate::catalog::product;
use crate::helpers::Reply;
use crate::live::{Sse, Studio};

/// A studio with the bundled plug-ins and the countdown installed: 10 s, 30% off.
async fn studio() -> Studio {
    let studio = Studio::open().await;
    registry::register_bundled(&studio.app.state, std::path::Path::new(DIST))
        .await
        .unwrap();
    let config = json!({"duration_seconds": 10, "percent_off": 30});
    let r = studio
        .post("/plugins", json!({"plugin": "countdown", "config": config}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    studio
}

fn front(studio: &Studio, rest: &str) -> String {
    format!("/api/v1/storefront/{}/main{rest}", studio.t.tenant_slug)
}

fn lamps(stream: &str, quantity: i64) -> Value {
    json!({"email": "sam@example.com", "stream_id": stream, "lines": [{"sku": "LAMP", "quantity": quantity}]})
}

async fn order(studio: &Studio, body: Value) -> Reply {
    let key = Uuid::new_v4().to_string();
    studio
        .app
        .public_post_keyed(&front(studio, "/orders"), &key, body)
        .await
}

async fn pin(studio: &Studio, stream: &str, product: &str) {
    let r = studio
        .post(&format!("/streams/{stream}/pins"), json!({"product_id": product}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

fn created_ms(order: &Value) -> i64 {
    let at: DateTime<Utc> = order["created_at"].as_str().unwrap().parse().unwrap();
    at.timestamp_millis()
}

#[tokio::test]
async fn a_pin_starts_the_countdown_the_feed_shows_it_and_its_end_brings_the_price_back() {
    let studio = studio().await;
    let stream = studio.live_stream().await;
    let mut viewer = Sse::connect(&studio.app.address, &studio.feed(&stream), None).await;
    pin(&studio, &stream, &studio.lamp).await;

    // The pin's price (written by the pin) and the countdown (delivered to
    // the plug-in after the pin committed) arrive in either order.
    let (mut started, mut price) = (None, None);
    while started.is_none() || price.is_none() {
        let e = viewer
            .next_of_within_any(&["countdown.started", "price"], Duration::from_secs(15))
            .await;
        if e.event == "price" {
            price = Some(e);
        } else {
            started = Some(e);
        }
    }
    let (started, price) = (started.unwrap(), price.unwrap());
    let ends = started.data["ends_at_ms"].as_i64().unwrap();
    assert_eq!(ends - started.data["started_at_ms"].as_i64().unwrap(), 10_000);
    assert_eq!(started.data["offer"], json!({"percent_off": 30}));
    // The pin's price on the feed is the live price.
    assert_eq!(price.data["variants"][0]["price"], 3430, "{}", price.data);

    let quote = studio
        .app
        .public_post(&front(&studio, "/cart/price"), lamps(&stream, 2))
        .await;
    assert_eq!(quote.body["total"], 6860, "{}", quote.body);
    let placed = order(&studio, lamps(&stream, 2)).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    assert_eq!(applied_by(&placed.body, "countdown"), vec![(Some(0), -2940)]);
    assert!(created_ms(&placed.body) < ends);
    // The same cart without the stream pays the catalogue price.
    let elsewhere = json!({"email": "kim@example.com", "lines": [{"sku": "LAMP", "quantity": 2}]});
    let quote = studio.app.public_post(&front(&studio, "/cart/price"), elsewhere).await;
    assert_eq!(quote.body["total"], 9800, "{}", quote.body);

    // The timer fires: the feed says the countdown is over, then the price is back.
    let ended = viewer.next_of_within("countdown.ended", Duration::from_secs(20)).await;
    assert_eq!(ended.data["reason"], "time_up");
    assert_eq!(ended.data["ended_at_ms"], json!(ends));
    let price = viewer.next_of_within("price", Duration::from_secs(15)).await;
    assert_eq!(price.data["variants"][0]["price"], 4900, "{}", price.data);
    let late = order(&studio, lamps(&stream, 1)).await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.body);
    assert!(applied_by(&late.body, "countdown").is_empty());
    assert_eq!(late.body["total"], 4900);
}

#[tokio::test]
async fn orders_arriving_as_the_countdown_ends_get_the_live_price_only_when_placed_before_the_end() {
    let studio = studio().await;
    let mic = studio
        .post("/products", product("Mic", &[("MIC", 10_000, 100_000)]))
        .await;
    assert_eq!(mic.status, StatusCode::CREATED, "{}", mic.body);
    let stream = studio.live_stream().await;
    let mut viewer = Sse::connect(&studio.app.address, &studio.feed(&stream), None).await;
    pin(&studio, &stream, mic.body["id"].as_str().unwrap()).await;
    let ends = viewer
        .next_of_within("countdown.started", Duration::from_secs(15))
        .await
        .data["ends_at_ms"]
        .as_i64()
        .unwrap();

    // Eight shoppers order one after another from 1.5 s before the end to 1 s after it.
    let until_ms = |at: i64| Duration::from_millis(u64::try_from(at - Utc::now().timestamp_millis()).unwrap_or(0));
    tokio::time::sleep(until_ms(ends - 1_500)).await;
    let shoppers = (0..8).map(|_| {
        let studio = &studio;
        let stream = stream.clone();
        async move {
            let mut placed = Vec::new();
            while Utc::now().timestamp_millis() < ends + 1_000 {
                let body = json!({"email": "sam@example.com", "stream_id": stream,
                    "lines": [{"sku": "MIC", "quantity": 1}]});
                let r = order(studio, body).await;
                assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
                placed.push(r.body);
            }
            placed
        }
    });
    let orders: Vec<Value> = futures_util::future::join_all(shoppers)
        .await
        .into_iter()
        .flatten()
        .collect();

    let live = |o: &Value| !applied_by(o, "countdown").is_empty();
    for o in &orders {
        assert_eq!(
            live(o),
            created_ms(o) < ends,
            "order at {} (end {ends}): {}",
            o["created_at"],
            o["adjustments"]
        );
        let total = if live(o) { 7_000 } else { 10_000 };
        assert_eq!(o["total"], total);
    }
    let before = orders.iter().filter(|o| live(o)).count();
    assert!(
        before > 0 && before < orders.len(),
        "{before} of {} before the end",
        orders.len()
    );
}

#[tokio::test]
async fn an_order_from_another_stores_stream_or_an_unknown_one_is_refused_and_nothing_is_written() {
    let studio = studio().await;
    let other = studio.app.create_store(&studio.t.token, "Outlet", "outlet").await;
    let path = format!("/api/v1/stores/{}/streams", other["id"].as_str().unwrap());
    let theirs = studio
        .app
        .post(
            &path,
            &studio.t.token,
            json!({"title": "Outlet live", "scheduled_at": "2026-11-27T18:00:00Z"}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    let theirs = theirs.body["id"].as_str().unwrap().to_string();
    for stream in [theirs, Uuid::now_v7().to_string()] {
        for path in ["/cart/price", "/orders"] {
            let key = Uuid::new_v4().to_string();
            let r = studio
                .app
                .public_post_keyed(&front(&studio, path), &key, lamps(&stream, 1))
                .await;
            assert_eq!(
                (r.status, r.code()),
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_stream"),
                "{path}: {}",
                r.body
            );
            assert_eq!(r.body["errors"]["stream_id"][0], "is not a stream of this store");
        }
    }
    let orders = studio.get("/orders").await;
    assert_eq!(orders.items().len(), 0, "{}", orders.body);
}
