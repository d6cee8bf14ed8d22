//! The countdown's `cart.price` over HTTP. Streams (and so pins and their
//! times) reach checkout with the live issue; until then an order, even one
//! that names a stream, gets no live price, and the call succeeds.

use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

use super::{applied_by, install, mall};

#[tokio::test]
async fn without_a_running_countdown_orders_pay_the_catalogue_price() {
    let mall = mall(10, 10).await;
    install(
        &mall,
        "countdown",
        json!({"duration_seconds": 60, "percent_off": 30}),
        20,
    )
    .await;
    let stream = Uuid::now_v7();
    let body = json!({"email": "sam@example.com", "stream_id": stream, "lines": [{"sku": "LAMP", "quantity": 2}]});
    let quote = mall.price(body.clone()).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(quote.body["plugins"][0]["outcome"], "ok");
    assert_eq!(quote.body["total"], 9800);
    let order = mall.checkout("order", body).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert!(applied_by(&order.body, "countdown").is_empty());
    assert_eq!(order.body["stream_id"], json!(stream.to_string()));
}
