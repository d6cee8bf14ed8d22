//! The ABI is language-neutral: a plug-in written by hand in WebAssembly
//! text (examples/wat-plugin, no SDK) and one built with the Rust SDK
//! (examples/hello-plugin) pass the same host checks and the same checkout.

use livemall::db::Access;
use livemall::marketplace::{installs, registry};
use livemall::plugin_host::{CallRequest, Limits};
use livemall_abi::Hook;
use reqwest::StatusCode;
use serde_json::json;

use super::{cart, envelope, host};
use crate::orders::Mall;

const WAT: &str = "examples/wat-plugin/discount.wasm";
const SDK: &str = "examples/hello-plugin/hello_plugin.wasm";

fn module(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[test]
fn both_modules_pass_the_same_validation_and_export_cart_price() {
    for path in [WAT, SDK] {
        let plugin = host().load(&module(path), &Limits::default()).unwrap();
        assert_eq!(plugin.hooks(), &[Hook::CartPrice], "{path}");
    }
}

#[test]
fn the_text_plugin_discounts_only_carts_with_its_code() {
    let plugin = host().load(&module(WAT), &Limits::default()).unwrap();
    let mut with_code = cart(3);
    with_code.codes = vec!["WAT10".into()];
    let request = CallRequest::new(Hook::CartPrice, envelope(Hook::CartPrice, with_code)).with_cart_lines(3);
    let outcome = host().call(&plugin, &request, &Limits::default()).unwrap();
    assert_eq!(outcome.effects.adjustments.len(), 1);
    assert_eq!(outcome.effects.adjustments[0].amount, -1000);
    assert_eq!(outcome.effects.adjustments[0].code.as_deref(), Some("WAT10"));
    assert_eq!(outcome.logs.len(), 1, "it logs the code it applied");

    let request = CallRequest::new(Hook::CartPrice, envelope(Hook::CartPrice, cart(3))).with_cart_lines(3);
    let outcome = host().call(&plugin, &request, &Limits::default()).unwrap();
    assert!(outcome.effects.is_empty());
}

#[tokio::test]
async fn a_text_plugin_and_an_sdk_plugin_price_the_same_checkout() {
    let mall = Mall::open(100, 100).await;
    let app = &mall.shop.app;
    for (slug, path, priority) in [("wat-discount", WAT, 10), ("hello", SDK, 20)] {
        let plugin = registry::NewPlugin {
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            author: "tests".into(),
            version: "1.0.0".into(),
            config_schema: json!({"type": "object"}),
            wasm: module(path),
        };
        let registered = registry::register(&app.state, plugin).await.unwrap();
        // Register before opening the install transaction: SQLite has one writer.
        let txn = app.db.tenant(mall.shop.t.tenant_id, Access::Write).await.unwrap();
        let store = mall.store_id();
        installs::install(&app.state, &txn, store, registered.plugin_id, json!({}), priority)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }

    // 4 lamps at 49.00: hello takes 10% off the line (quantity >= 3) and 5.00
    // off an order of 100.00 or more; the text plug-in takes 10.00 for WAT10.
    let body =
        json!({"email": "sam@example.com", "codes": ["WAT10"], "lines": [{"variant_id": mall.lamp, "quantity": 4}]});
    let order = mall.checkout("neutral-1", body).await;
    assert_eq!(order.status, StatusCode::CREATED, "{}", order.body);
    assert_eq!(order.body["subtotal"], 19_600);
    assert_eq!(order.body["total"], 19_600 - 1_960 - 500 - 1_000, "{}", order.body);
    let labels: Vec<&str> = order.body["adjustments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["label"].as_str().unwrap())
        .collect();
    assert!(labels.iter().any(|l| l.starts_with("WAT10")), "{labels:?}");
}
