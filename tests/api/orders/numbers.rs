//! Order numbers: each used once per store, a refused checkout's number
//! used by the next order, and two processes on one database.

use futures_util::future::join_all;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

use super::Mall;
use crate::helpers::{spawn_with, Engine, TestApp};

#[tokio::test]
async fn a_refused_checkout_leaves_no_gap_in_the_numbers() {
    let mall = Mall::open(1, 10).await;
    assert_eq!(mall.order_lamps(1).await["number"], 1);
    let body = json!({"email": "late@example.com", "lines": [{"variant_id": mall.lamp, "quantity": 1}]});
    let refused = mall.checkout(&Uuid::new_v4().to_string(), body).await;
    assert_eq!((refused.status, refused.code()), (StatusCode::CONFLICT, "out_of_stock"));
    let body = json!({"email": "bulb@example.com", "lines": [{"variant_id": mall.bulb, "quantity": 1}]});
    let bulb = mall.checkout(&Uuid::new_v4().to_string(), body).await;
    assert_eq!(bulb.status, StatusCode::CREATED, "{}", bulb.body);
    assert_eq!(bulb.body["number"], 2);
}

/// `n` guests order one bulb each through `app`, all at once; their numbers.
async fn rush_through(mall: &Mall, app: &TestApp, n: usize) -> Vec<i64> {
    let replies = join_all((0..n).map(|i| {
        let body = json!({"email": format!("s{i}@example.com"), "lines": [{"variant_id": mall.bulb, "quantity": 1}]});
        let key = Uuid::new_v4().to_string();
        async move { app.public_post_keyed(&mall.shop.front("/orders"), &key, body).await }
    }))
    .await;
    replies
        .iter()
        .map(|r| {
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
            r.body["number"].as_i64().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn two_processes_on_one_database_use_each_number_once() {
    let mall = Mall::open(10, 1000).await;
    let url = mall.shop.app.state.settings.database_url();
    let other = spawn_with(|s| s.database.url = url).await;
    let (mut numbers, theirs) =
        futures_util::join!(rush_through(&mall, &mall.shop.app, 20), rush_through(&mall, &other, 20));
    numbers.extend(theirs);
    // A process that starts later takes numbers no earlier one reserved.
    let late = spawn_with(|s| s.database.url = mall.shop.app.state.settings.database_url()).await;
    numbers.extend(rush_through(&mall, &late, 5).await);
    let mut unique = numbers.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 45, "{numbers:?}");
    if mall.shop.app.engine == Engine::Sqlite {
        assert_eq!(unique, (1..=45).collect::<Vec<_>>());
    }
    let stored = livemall::entities::orders::Entity::find()
        .all(&*mall.read().await)
        .await
        .unwrap();
    let mut stored: Vec<i64> = stored.iter().map(|o| o.number).collect();
    stored.sort();
    assert_eq!(stored, unique);
}
