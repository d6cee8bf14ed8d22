//! A stream's whole life through the API, watched by a real SSE client.

use livemall::db::Access;
use livemall::entities::{orders, stream_feed};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use super::{Sse, Studio};

#[tokio::test]
async fn a_stream_lives_through_the_api_and_its_feed_shows_every_step() {
    let s = Studio::open().await;
    let id = s.stream().await;
    let r = s.get(&format!("/streams/{id}")).await;
    assert_eq!(r.body["status"], "scheduled");

    let mut viewer = Sse::connect(&s.app.address, &s.feed(&id), None).await;
    let snapshot = viewer.next().await;
    assert_eq!((snapshot.event.as_str(), snapshot.id), ("snapshot", Some(0)));
    assert_eq!(snapshot.data["stream"]["status"], "scheduled");

    let r = s.post(&format!("/streams/{id}/start"), json!({})).await;
    assert_eq!((r.status, r.body["status"].as_str()), (StatusCode::OK, Some("live")));
    let started = viewer.next().await;
    assert_eq!((started.event.as_str(), started.id), ("stream.started", Some(1)));

    let r = s
        .post(&format!("/streams/{id}/pins"), json!({"product_id": s.lamp}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["pinned_product_ids"], json!([s.lamp]));
    let pinned = viewer.next().await;
    assert_eq!(pinned.event, "pinned");
    assert_eq!(pinned.data["pinned"], json!([s.lamp]));
    let price = viewer.next().await;
    assert_eq!(price.event, "price");
    assert_eq!(price.data["variants"][0]["price"], 4900);
    assert_eq!(price.data["currency"], "EUR");
    let stock = viewer.next().await;
    assert_eq!(
        (stock.event.as_str(), &stock.data["variants"][0]["stock"]),
        ("stock", &json!(10))
    );

    let r = s.post(&format!("/streams/{id}/viewers"), json!({"viewers": 120})).await;
    assert_eq!(r.body["peak_viewers"], 120);
    s.post(&format!("/streams/{id}/viewers"), json!({"viewers": 80})).await;
    let r = s
        .post(
            &format!("/streams/{id}/comments"),
            json!({"author": "mika", "text": "red one in stock?"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let v1 = viewer.next().await;
    let v2 = viewer.next().await;
    assert_eq!(
        (v1.data["viewers"].as_i64(), v2.data["viewers"].as_i64()),
        (Some(120), Some(80))
    );
    assert_eq!(v2.data["peak"], 120);
    let comment = viewer.next().await;
    assert_eq!(comment.event, "comment");
    assert_eq!(comment.data, json!({"author": "mika", "text": "red one in stock?"}));

    // An order from the stream: the feed shows the pinned lamp's stock left.
    s.order(&id, 2).await;
    let stock = viewer.next_of("stock").await;
    assert_eq!(stock.data["variants"][0]["stock"], 8);

    let r = s
        .app
        .delete(&s.path(&format!("/streams/{id}/pins/{}", s.lamp)), &s.t.token)
        .await;
    assert_eq!((r.status, &r.body["pinned_product_ids"]), (StatusCode::OK, &json!([])));
    assert_eq!(viewer.next().await.event, "unpinned");
    let r = s.post(&format!("/streams/{id}/end"), json!({})).await;
    assert_eq!(r.body["status"], "ended");
    let ended = viewer.next().await;
    assert_eq!(ended.event, "stream.ended");
    assert_eq!(ended.id, Some(r.body["last_event_id"].as_i64().unwrap()));

    let stats = s.get(&format!("/streams/{id}/stats")).await.body;
    assert_eq!(stats["status"], "ended");
    assert_eq!((stats["orders"].as_i64(), stats["units"].as_i64()), (Some(1), Some(2)));
    assert_eq!(stats["revenue"], 9800);
    assert_eq!(
        (stats["peak_viewers"].as_i64(), stats["viewers"].as_i64()),
        (Some(120), Some(0))
    );
    assert_eq!(stats["comments"], 1);
    assert!((stats["conversion"].as_f64().unwrap() - 1.0 / 120.0).abs() < 1e-9);
    assert_eq!(
        stats["products"],
        json!([{"product_id": s.lamp, "pinned_now": false, "units": 2, "revenue": 9800}])
    );
}

#[tokio::test]
async fn stats_leave_out_cancelled_orders_and_count_other_streams_apart() {
    let s = Studio::open().await;
    let a = s.live_stream().await;
    let b = s.live_stream().await;
    s.post(&format!("/streams/{a}/pins"), json!({"product_id": s.lamp}))
        .await;
    s.order(&a, 1).await;
    let cancelled = s.order(&a, 3).await;
    s.order(&b, 1).await;
    let r = s
        .post(
            &format!("/orders/{}/cancel", cancelled["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let stats = s.get(&format!("/streams/{a}/stats")).await.body;
    assert_eq!((stats["orders"].as_i64(), stats["units"].as_i64()), (Some(1), Some(1)));
    assert_eq!(stats["revenue"], 4900);
    assert_eq!(stats["conversion"], 0.0, "nobody was reported watching");
    assert_eq!(stats["products"][0]["revenue"], 4900);
}

#[tokio::test]
async fn pinned_products_carry_their_live_price_from_cart_price() {
    let s = Studio::open().await;
    let config = json!({"adjustments": [{"line": 0, "amount": -900, "label": "live deal"}]});
    s.install("config_effects", "live-deal", config).await;
    let id = s.live_stream().await;
    let mut viewer = Sse::connect(&s.app.address, &s.feed(&id), None).await;
    s.post(&format!("/streams/{id}/pins"), json!({"product_id": s.lamp}))
        .await;
    let price = viewer.next_of("price").await;
    assert_eq!(price.data["product_id"], json!(s.lamp));
    assert_eq!(price.data["variants"][0]["list_price"], 4900);
    assert_eq!(price.data["variants"][0]["price"], 4000);
    assert_eq!(price.data["variants"][0]["labels"], json!(["live deal"]));
}

#[tokio::test]
async fn pins_are_an_ordered_set_of_a_configured_few() {
    let s = Studio::open_with(|c| c.live.max_pins = 1).await;
    let id = s.live_stream().await;
    let pin = |p: &str| json!({"product_id": p});
    let r = s.post(&format!("/streams/{id}/pins"), pin(&s.lamp)).await;
    assert_eq!(r.status, StatusCode::OK);
    let before = s.get(&format!("/streams/{id}")).await.body["last_event_id"].clone();
    let again = s.post(&format!("/streams/{id}/pins"), pin(&s.lamp)).await;
    assert_eq!(
        (again.status, &again.body["last_event_id"]),
        (StatusCode::OK, &before),
        "no new event"
    );
    let r = s.post(&format!("/streams/{id}/pins"), pin(&s.bulb)).await;
    assert_eq!((r.status, r.code()), (StatusCode::CONFLICT, "too_many_pins"));
    s.app
        .delete(&s.path(&format!("/streams/{id}/pins/{}", s.lamp)), &s.t.token)
        .await;
    let r = s.post(&format!("/streams/{id}/pins"), pin(&s.bulb)).await;
    assert_eq!(r.body["pinned_product_ids"], json!([s.bulb]));
    s.stream().await;
    let list = s.get("/streams?limit=1").await;
    assert_eq!(list.items().len(), 1);
    assert!(list.body["next_cursor"].is_string());
}

/// A cart placed from a stream carries the stream as plug-ins see it (its
/// status and its pinned products in pin order, each with when it was
/// pinned), and the order keeps it in its pricing input.
#[tokio::test]
async fn an_order_from_a_stream_keeps_the_stream_with_its_pins_in_pin_order() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    for product in [&s.bulb, &s.lamp] {
        let r = s
            .post(&format!("/streams/{id}/pins"), json!({"product_id": product}))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    let order = s.order(&id, 1).await;
    let order_id: Uuid = order["id"].as_str().unwrap().parse().unwrap();
    let txn = s.app.db.tenant(s.t.tenant_id, Access::Read).await.unwrap();
    let kept = orders::Entity::find_by_id((s.t.tenant_id, order_id))
        .one(&*txn)
        .await
        .unwrap()
        .unwrap()
        .pricing;
    let stream = &kept["cart"]["stream"];
    assert_eq!(stream["id"], json!(id));
    assert_eq!(stream["status"], "live");
    assert_eq!(stream["pinned_product_ids"], json!([s.bulb, s.lamp]));
    let pins = stream["pins"].as_array().unwrap();
    assert_eq!(pins.len(), 2, "{stream}");
    assert_eq!(pins[0]["product_id"], json!(s.bulb));
    let (first, second) = (
        pins[0]["pinned_at_ms"].as_i64().unwrap(),
        pins[1]["pinned_at_ms"].as_i64().unwrap(),
    );
    assert!(first > 0 && first <= second, "{stream}");
}

/// A stream id the store does not have: 422 naming the field, nothing written.
#[tokio::test]
async fn an_order_from_an_unknown_stream_is_refused_naming_the_field() {
    let s = Studio::open().await;
    let path = format!("/api/v1/storefront/{}/main/orders", s.t.tenant_slug);
    let body = json!({"email": "sam@example.com", "stream_id": Uuid::new_v4(),
        "lines": [{"variant_id": s.lamp_variant, "quantity": 1}]});
    let r = s.app.public_post_keyed(&path, "unknown-stream", body).await;
    assert_eq!(
        (r.status, r.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_stream")
    );
    assert!(r.body["errors"]["stream_id"].is_array(), "{}", r.body);
    let list = s.get("/orders").await;
    assert!(list.items().is_empty());
}

/// The stock events of a stream's feed, oldest first: the stock each shows.
async fn stock_on_feed(s: &Studio, stream_id: &str) -> Vec<i64> {
    let txn = s.app.db.tenant(s.t.tenant_id, Access::Read).await.unwrap();
    stream_feed::Entity::find()
        .filter(stream_feed::Column::StreamId.eq(stream_id.parse::<Uuid>().unwrap()))
        .filter(stream_feed::Column::Kind.eq("stock"))
        .order_by_asc(stream_feed::Column::Seq)
        .all(&*txn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.data["variants"][0]["stock"].as_i64().unwrap())
        .collect()
}

/// Orders of a pinned product routed together put its stock on the feed
/// once, with what is left after all of them.
#[tokio::test]
async fn orders_routed_together_put_the_stock_left_on_the_feed_once() {
    let s = Studio::open_with(|settings| settings.events.dispatcher = false).await;
    let id = s.live_stream().await;
    let r = s
        .post(&format!("/streams/{id}/pins"), json!({"product_id": s.lamp}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let before = stock_on_feed(&s, &id).await;
    assert_eq!(before, vec![10], "the pin shows the stock");
    for _ in 0..3 {
        s.order(&id, 1).await;
    }
    let routed = livemall::events::route::route(&s.app.state, s.t.tenant_id)
        .await
        .unwrap();
    assert!(routed >= 3, "{routed} events routed");
    assert_eq!(stock_on_feed(&s, &id).await, vec![10, 7]);
}
