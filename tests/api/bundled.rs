//! The bundled plug-ins (`plugins/dist`: coupons, countdown, flash deals) as
//! a merchant uses them: registered at start-up, installed and configured
//! through the API, exercised through storefront pricing and checkout.

mod countdown;
mod coupons;
mod flash_deals;
mod stacking;

use livemall::marketplace::registry;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_with, Reply};
use crate::orders::Mall;

/// The big races run one at a time, and each keeps [`IN_FLIGHT`] shoppers
/// in flight rather than all at once: on a loaded machine hundreds of
/// simultaneous requests queue for the test's 8 database connections past
/// the pool's 10 s acquire timeout, which tests the pool, not the plug-ins.
pub static RACES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Shoppers in flight at once during a race.
pub const IN_FLIGHT: usize = 64;

/// Where the committed modules and manifests are.
pub const DIST: &str = "plugins/dist";

/// A shop (LAMP 49.00, BULB 5.00) with the bundled plug-ins registered.
pub async fn mall(lamp_stock: i64, bulb_stock: i64) -> Mall {
    let mall = Mall::open(lamp_stock, bulb_stock).await;
    registry::register_bundled(&mall.shop.app.state, std::path::Path::new(DIST))
        .await
        .unwrap();
    mall
}

/// Installs bundled plug-in `slug` through the API with `config`.
pub async fn install(mall: &Mall, slug: &str, config: Value, priority: i32) -> String {
    let body = json!({"plugin": slug, "config": config, "priority": priority});
    let r = mall
        .shop
        .app
        .post(&mall.shop.path("/plugins"), &mall.shop.t.token, body)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// Replies with this status and problem code.
pub fn count(replies: &[Reply], status: StatusCode, code: &str) -> usize {
    replies
        .iter()
        .filter(|r| r.status == status && r.code() == code)
        .count()
}

/// `status code` of each reply, for assertion messages.
pub fn statuses(replies: &[Reply]) -> Vec<String> {
    replies
        .iter()
        .map(|r| format!("{} {} {}", r.status, r.code(), r.body["detail"]))
        .collect()
}

/// The amounts a plug-in applied to an order, line by line (`None` for the order).
pub fn applied_by(order: &Value, slug: &str) -> Vec<(Option<i64>, i64)> {
    order["adjustments"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|adj| adj["plugin_slug"] == slug)
                .map(|adj| (adj["line"].as_i64(), adj["amount"].as_i64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn a_server_registers_the_bundled_plugins_at_start_and_a_merchant_can_install_them() {
    let app = spawn_with(|s| s.plugins.bundled_dir = DIST.into()).await;
    let t = app.signup("ann@example.com", "Ann Shop").await;
    let store = app.create_store(&t.token, "Main", "main").await;
    let listed = app.get("/api/v1/plugins?limit=50", &t.token).await;
    let mut slugs: Vec<String> = listed
        .items()
        .iter()
        .map(|p| p["slug"].as_str().unwrap().to_string())
        .collect();
    slugs.sort();
    assert_eq!(slugs, vec!["countdown", "coupons", "flash-deals"]);
    let path = format!("/api/v1/stores/{}/plugins", store["id"].as_str().unwrap());
    for (slug, hooks) in [
        ("coupons", json!(["cart.price"])),
        (
            "countdown",
            json!([
                "cart.price",
                "stream.product_pinned",
                "stream.product_unpinned",
                "timer.fired"
            ]),
        ),
        ("flash-deals", json!(["cart.price", "order.cancelled", "order.created"])),
    ] {
        let r = app.post(&path, &t.token, json!({"plugin": slug})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{slug}: {}", r.body);
        let mut got: Vec<Value> = r.body["hooks"].as_array().unwrap().clone();
        got.sort_by_key(|h| h.as_str().unwrap().to_string());
        assert_eq!(Value::Array(got), hooks, "{slug}");
        assert_eq!(r.body["version"], "1.0.0");
    }
}

#[tokio::test]
async fn a_configuration_outside_a_bundled_schema_is_refused_field_by_field() {
    let mall = mall(10, 10).await;
    let path = mall.shop.path("/plugins");
    let token = &mall.shop.t.token;
    let bad = [
        ("countdown", json!({"duration_seconds": 5}), "config.duration_seconds"),
        (
            "coupons",
            json!({"campaigns": [{"id": "Spring Sale", "discount": "percentage"}]}),
            "config.campaigns[0].id",
        ),
        (
            "coupons",
            json!({"campaigns": [{"id": "s", "discount": "half"}]}),
            "config.campaigns[0].discount",
        ),
        (
            "flash-deals",
            json!({"deals": [{"id": "d", "variant": "LAMP", "price": 100}]}),
            "config.deals[0].quantity",
        ),
        (
            "flash-deals",
            json!({"deals": [{"id": "d", "variant": "LAMP", "price": 100, "quantity": 5, "ends_at": "soon"}]}),
            "config.deals[0].ends_at",
        ),
    ];
    for (slug, config, field) in bad {
        let r = mall
            .shop
            .app
            .post(&path, token, json!({"plugin": slug, "config": config}))
            .await;
        assert_eq!(
            (r.status, r.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_config"),
            "{slug}: {}",
            r.body
        );
        assert!(r.body["errors"][field].is_array(), "{slug}: {}", r.body);
    }
}
