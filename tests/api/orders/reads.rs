//! SQLite: a priced cart's reads on the application's own readers (the
//! storefront with the cart, the store's installs, the account) decode to
//! what the same reads through the driver decode to.

use livemall::billing::account;
use livemall::db::{ReadOn, Reads};
use livemall::entities::variants;
use livemall::error::ApiError;
use livemall::http::idempotency;
use livemall::live::streams;
use livemall::marketplace::pipeline;
use livemall::orders::cart::{self, CartRequest};
use livemall_abi::Hook;
use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::json;
use uuid::Uuid;

use super::Mall;
use crate::billing::{self, admin_token};
use livemall::tenancy::storefront::{open, open_for, Asks};

#[tokio::test]
async fn the_reads_of_a_priced_cart_on_the_own_readers_are_the_drivers() {
    let mall = Mall::open(10, 10).await;
    let state = &mall.shop.app.state;
    if state.db.own_readers().is_none() {
        // PostgreSQL: every read goes through the driver.
        return;
    }
    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    // A plan with limits, so that the account has a value in every column.
    let admin = admin_token(app).await;
    let limits = json!({"stores": 3, "plugin_installs": 5, "orders_per_month": 1000, "plugin_calls_per_month": 100000});
    let plan = billing::plan(app, &admin, "growth", 4900, 14, limits).await;
    billing::choose(app, &mall.shop.t, &plan).await;
    mall.install("claim_promo", "promo", json!({}), 10).await;
    let fixed = json!({"adjustments": [{"amount": -100, "label": "Fixed"}]});
    mall.install("config_effects", "fixed", fixed, 20).await;
    let created = app
        .post(
            &mall.shop.path("/customers"),
            token,
            json!({"email": "cara@example.com", "name": "Cara"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cara: Uuid = created.body["id"].as_str().unwrap().parse().unwrap();
    // An order, so that the key is used and the promotion's counter exists.
    let lines = json!([{"variant_id": mall.lamp, "quantity": 1}, {"variant_id": mall.bulb, "quantity": 2}]);
    let placed = mall
        .checkout("seen", json!({"customer_id": cara, "lines": lines}))
        .await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);

    // A stream with the lamp pinned.
    let stream = app
        .post(
            &mall.shop.path("/streams"),
            token,
            json!({"title": "Friday live", "scheduled_at": "2026-11-27T18:00:00Z"}),
        )
        .await;
    assert_eq!(stream.status, StatusCode::CREATED, "{}", stream.body);
    let stream: Uuid = stream.body["id"].as_str().unwrap().parse().unwrap();
    let lamp = variants::Entity::find_by_id((mall.shop.t.tenant_id, mall.lamp.parse::<Uuid>().unwrap()))
        .one(&*mall.read().await)
        .await
        .unwrap()
        .unwrap();
    let pin = app
        .post(
            &mall.shop.path(&format!("/streams/{stream}/pins")),
            token,
            json!({"product_id": lamp.product_id}),
        )
        .await;
    assert!(pin.status.is_success(), "{}", pin.body);

    // The order's plug-in calls are metered on the account in the
    // background; written before the reads, so that both see the same.
    state.calls.flush().await;
    let tenant_slug = mall.shop.t.tenant_slug.as_str();
    let by_sku = json!([{"sku": "LAMP", "quantity": 1}]);
    for (key, customer_id, email, lines) in [
        (Some("seen"), Some(cara), None, lines.clone()),
        (None, None, Some("cara@example.com"), by_sku),
        (Some("unused"), None, Some("guest@example.com"), lines),
    ] {
        let request: CartRequest = serde_json::from_value(json!({"lines": lines})).unwrap();
        let asks = Asks {
            key,
            customer_id,
            email,
            cart: Some(&request),
        };
        let (shop, found) = open_for(state, tenant_slug, "main", &asks).await.unwrap();
        assert!(
            matches!(shop.reads, Reads::Own { .. }),
            "SQLite reads on its own readers"
        );
        let driver = open(state, tenant_slug, "main").await.unwrap();
        assert_eq!((&shop.tenant, &shop.store), (&driver.tenant, &driver.store));

        // The cart's variants, products and tags.
        let hits = found.hits.expect("the cart read with the storefront");
        let own = cart::from_joined(&shop.store, &request, hits).unwrap();
        let read = cart::build(&driver.txn, &driver.store, &request).await.unwrap();
        assert_eq!(
            serde_json::to_value(&own).unwrap(),
            serde_json::to_value(&read).unwrap()
        );

        // The key and the customer.
        let stored = match key {
            Some(key) => idempotency::stored(&driver.txn, key.to_string()).await.unwrap(),
            None => None,
        };
        assert_eq!(found.key.is_some(), key == Some("seen"));
        if let (Some(seen), Some(stored)) = (&found.key, stored) {
            assert_eq!(
                (&seen.request_hash, seen.status_code, &seen.response_body),
                (&stored.request_hash, stored.status_code, &stored.response_body)
            );
        }
        let expected = (email != Some("guest@example.com")).then(|| (cara, "cara@example.com".to_string()));
        assert_eq!(found.customer, expected);

        // The installs with their counters, and the account.
        let customer = email.unwrap_or("cara@example.com");
        let on_own =
            pipeline::installs_with_counters(state, shop.reads.on(), shop.store.id, Hook::CartPrice, Some(customer));
        let own = on_own.await.unwrap();
        let on_driver = ReadOn::from(&driver.txn);
        let read = pipeline::installs_with_counters(state, on_driver, shop.store.id, Hook::CartPrice, Some(customer))
            .await
            .unwrap();
        let summary = |installs: &[(pipeline::ActiveInstall, Vec<livemall_abi::Counter>)]| {
            installs
                .iter()
                .map(|(i, counters)| {
                    let counters = format!("{counters:?}");
                    (
                        i.install_id,
                        i.plugin_slug.clone(),
                        i.version.clone(),
                        i.priority,
                        i.config.clone(),
                        counters,
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(summary(&own.installs), summary(&read.installs));
        assert_eq!(own.installs.len(), 2);
        assert!(
            own.installs.iter().any(|(_, counters)| !counters.is_empty()),
            "a counter was read"
        );
        assert_eq!(format!("{:?}", own.account), format!("{:?}", read.account));
        assert!(matches!(own.account, Some(Some(_))), "the tenant's account was read");
        let own = account::load(shop.reads.on()).await.unwrap();
        let read = account::load(&driver.txn).await.unwrap();
        assert_eq!(format!("{own:?}"), format!("{read:?}"));

        // The stream a cart is ordered from, with its pins.
        let own = streams::for_cart(shop.reads.on(), shop.store.id, stream).await.unwrap();
        let read = streams::for_cart((&driver.txn).into(), shop.store.id, stream)
            .await
            .unwrap();
        assert_eq!(
            serde_json::to_value(&own).unwrap(),
            serde_json::to_value(&read).unwrap()
        );
        assert_eq!(own.pinned_product_ids, vec![lamp.product_id.to_string()]);
        let unknown = streams::for_cart(shop.reads.on(), shop.store.id, Uuid::now_v7()).await;
        assert!(matches!(
            unknown,
            Err(ApiError::Unprocessable {
                code: "unknown_stream",
                ..
            })
        ));
    }
}

#[tokio::test]
async fn a_storefront_not_found_on_the_own_readers_is_not_found() {
    let mall = Mall::open(10, 10).await;
    let state = &mall.shop.app.state;
    let request: CartRequest = serde_json::from_value(json!({"lines": [{"sku": "LAMP", "quantity": 1}]})).unwrap();
    let asks = Asks {
        cart: Some(&request),
        ..Asks::default()
    };
    let tenant_slug = mall.shop.t.tenant_slug.as_str();
    let missing = open_for(state, tenant_slug, "elsewhere", &asks).await;
    assert!(matches!(missing, Err(ApiError::NotFound)));
    let missing = open_for(state, "no-such-mall", "main", &asks).await;
    assert!(matches!(missing, Err(ApiError::NotFound)));
}
