//! The local runner: envelope building, the report, and failure exit.

use std::path::PathBuf;

use livemall::plugin_host::cli::{render, run_cli, PluginCommand};
use livemall::plugin_host::runner::{envelope as wrap, run_local, RunArgs};
use livemall::plugin_host::Limits;
use livemall_abi::{Cart, Hook, Input};

use super::*;

fn write_json(dir: &std::path::Path, name: &str, value: &impl serde::Serialize) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
    path
}

#[test]
fn the_runner_wraps_an_event_in_the_full_envelope() {
    let config = serde_json::json!({"percent": 10});
    let event = serde_json::to_value(cart(2)).unwrap();
    let (bytes, lines) = wrap(Hook::CartPrice, event, config.clone(), 42).unwrap();
    let input: Input<Cart> = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((input.abi, input.hook, input.now_ms), (1, Hook::CartPrice, 42));
    assert_eq!(input.install.config, config);
    assert_eq!(input.store.currency, "EUR");
    assert_eq!(input.event, cart(2));
    assert_eq!(lines, Some(2));

    // A whole envelope passes through unchanged.
    let whole: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let (again, _) = wrap(Hook::CartPrice, whole.clone(), serde_json::json!({}), 7).unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&again).unwrap(), whole);
    assert!(wrap(Hook::OrderPaid, whole, serde_json::json!({}), 7).is_err());
}

#[test]
fn the_runner_prints_effects_and_usage_against_each_limit() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_local(&RunArgs {
        module: PathBuf::from(guest_path("echo_lines")),
        hook: "cart.price".into(),
        input: write_json(dir.path(), "cart.json", &cart(3)),
        config: None,
        now_ms: Some(1_700_000_000_000),
        limits: Limits::default(),
    })
    .unwrap();
    assert_eq!(report.result.as_ref().unwrap().effects.adjustments[0].amount, 3);
    let text = render(&report).unwrap();
    for needle in [
        "\"amount\": 3",
        "fuel",
        "10,000,000",
        "50 ms",
        "16.0 MiB",
        "64.0 KiB",
        "4.0 KiB",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

#[test]
fn the_runner_fails_with_the_typed_failure() {
    let dir = tempfile::tempdir().unwrap();
    let error = run_cli(PluginCommand::Run {
        module: PathBuf::from(guest_path("loop")),
        hook: "cart.price".into(),
        input: write_json(dir.path(), "cart.json", &cart(1)),
        config: None,
        now_ms: None,
        fuel: Some(50_000),
        deadline_ms: None,
    })
    .unwrap_err();
    assert!(error.to_string().contains("out_of_fuel"), "{error}");
}

#[test]
fn the_runner_refuses_an_unknown_hook() {
    let dir = tempfile::tempdir().unwrap();
    let error = run_local(&RunArgs {
        module: PathBuf::from(guest_path("echo_lines")),
        hook: "cart.checkout".into(),
        input: write_json(dir.path(), "cart.json", &cart(1)),
        config: None,
        now_ms: None,
        limits: Limits::default(),
    })
    .unwrap_err();
    assert!(error.to_string().contains("unknown hook"), "{error}");
}
