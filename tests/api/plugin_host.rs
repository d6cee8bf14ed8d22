//! The plug-in runtime against real wasm modules: one small guest per limit
//! and per refusal (tests/guests/*.wat), each followed by a call that
//! succeeds to show the host keeps serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod language_neutral;
mod loading;
mod runner;

use std::sync::Arc;

use livemall::plugin_host::{CallFailure, CallOutcome, CallRequest, Host, HostConfig, Limits, Plugin};
use livemall_abi::{Cart, CartLine, Hook, Input, InstallInfo, StoreInfo, ABI_VERSION};

/// One host for the whole test binary: each reserves address space per pool slot.
pub fn host() -> Arc<Host> {
    Host::shared(HostConfig::small(None)).unwrap()
}

pub fn guest_path(name: &str) -> String {
    format!("{}/tests/guests/{name}.wat", env!("CARGO_MANIFEST_DIR"))
}

pub fn guest(name: &str) -> Vec<u8> {
    wat::parse_file(guest_path(name)).unwrap()
}

pub fn load(name: &str) -> Plugin {
    host().load(&guest(name), &Limits::default()).unwrap()
}

pub fn cart(lines: usize) -> Cart {
    let lines: Vec<CartLine> = (0..lines)
        .map(|i| CartLine {
            product_id: format!("00000000-0000-7000-8000-0000000001{i:02}"),
            variant_id: format!("00000000-0000-7000-8000-0000000002{i:02}"),
            sku: format!("SKU-{i}"),
            title: format!("Product {i}"),
            quantity: 1 + i as u32 % 3,
            unit_price: 1_000 + 250 * i as i64,
            tags: vec!["live".into()],
        })
        .collect();
    Cart {
        currency: "EUR".into(),
        subtotal: lines.iter().map(CartLine::total).sum(),
        lines,
        codes: vec![],
        customer: None,
        stream: None,
        checkout: false,
    }
}

pub fn envelope<E: serde::Serialize>(hook: Hook, event: E) -> Vec<u8> {
    serde_json::to_vec(&Input {
        abi: ABI_VERSION,
        hook,
        event_id: None,
        now_ms: 1_700_000_000_000,
        store: StoreInfo {
            id: "00000000-0000-7000-8000-000000000001".into(),
            currency: "EUR".into(),
            time_zone: "UTC".into(),
        },
        install: InstallInfo {
            id: "00000000-0000-7000-8000-000000000002".into(),
            config: serde_json::json!({}),
        },
        counters: vec![],
        event,
    })
    .unwrap()
}

/// Calls `cart.price` with a cart of `lines` lines.
pub fn price(plugin: &Plugin, lines: usize, limits: &Limits) -> Result<CallOutcome, CallFailure> {
    let request = CallRequest::new(Hook::CartPrice, envelope(Hook::CartPrice, cart(lines))).with_cart_lines(lines);
    host().call(plugin, &request, limits)
}

/// Loads `name` and expects its `cart.price` call to fail.
pub fn failure_of(name: &str, limits: &Limits) -> CallFailure {
    let plugin = load(name);
    price(&plugin, 3, limits).expect_err("the call should fail")
}

/// A well-behaved plug-in still works after whatever happened before.
pub fn assert_host_still_serves() {
    let outcome = price(&load("echo_lines"), 3, &Limits::default()).unwrap();
    assert_eq!(outcome.effects.adjustments.len(), 1);
    assert_eq!(outcome.effects.adjustments[0].amount, 3);
}
