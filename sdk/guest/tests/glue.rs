//! The hook glue and the test helpers, end to end on the simulated host.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::abi::{limits, LogLevel, STATUS_OK};
use livemall_sdk::hook::{STATUS_BAD_INPUT, STATUS_HANDLER_ERROR, STATUS_OUTPUT_FAILED};
use livemall_sdk::prelude::*;
use livemall_sdk::testing;
use serde::Deserialize;
use serde_json::json;

fn nothing(_: &Input<Cart>) -> Result<Effects, Error> {
    log::info("priced");
    Ok(Effects::new())
}

fn chatty(_: &Input<Cart>) -> Result<Effects, Error> {
    let line = "x".repeat(1000);
    let kept: Vec<bool> = (0..5).map(|_| log::debug(&line)).collect();
    assert_eq!(kept, vec![true, true, true, true, false]);
    assert!(!log::warn("dropped"));
    Ok(Effects::new())
}

fn huge(input: &Input<Cart>) -> Result<Effects, Error> {
    let mut effects = Effects::new();
    for _ in 0..2000 {
        effects = effects.adjust_line(0, -1, "a label long enough to fill the output quickly");
    }
    let _ = input;
    Ok(effects)
}

fn failing(_: &Input<Cart>) -> Result<Effects, Error> {
    Err(Error::new("out of stock"))
}

fn countdown(input: &Input<OrderEvent>) -> Result<Effects, Error> {
    Ok(Effects::new()
        .set_timer(
            "remind",
            input.now_ms + 60_000,
            json!({"order": input.event.order.id}),
        )
        .release("coupon:SPRING", CounterScope::Install, 1))
}

fn adjusts_order(_: &Input<OrderEvent>) -> Result<Effects, Error> {
    Ok(Effects::new().adjust_order(-100, "too late"))
}

#[test]
fn a_successful_call_writes_its_effects_and_keeps_its_logs() {
    let call = testing::call(nothing, &testing::cart().line("A", 1, 100).build());
    assert_eq!(call.status, STATUS_OK);
    assert_eq!(call.output.as_deref(), Some("{}"));
    assert_eq!(call.logs, vec![(LogLevel::Info, "priced".to_string())]);
}

#[test]
fn logs_past_the_budget_are_cut_and_reported() {
    let call = testing::call(chatty, &testing::cart().build());
    let kept: usize = call.logs.iter().map(|(_, text)| text.len()).sum();
    assert_eq!(kept, limits::LOG_BYTES);
    assert_eq!(call.logs.len(), 5);
}

#[test]
fn a_handler_error_is_a_guest_error_with_its_message() {
    let failure = testing::cart().run(failing).unwrap_err();
    assert_eq!(failure.code, "guest_error");
    assert_eq!(failure.status, Some(STATUS_HANDLER_ERROR));
    assert_eq!(failure.message, "out of stock");
    assert_eq!(failure.to_string(), "guest_error (status 1): out of stock");
}

#[test]
fn input_that_is_not_the_hooks_event_fails_with_status_2() {
    let call = testing::call_json(nothing, br#"{"abi":1,"hook":"cart.price"}"#.to_vec());
    assert_eq!(call.status, STATUS_BAD_INPUT);
    let output = call.output.unwrap();
    assert!(
        output.starts_with(r#"{"message":"input does not parse: missing field"#),
        "{output}"
    );
}

#[test]
fn effects_over_the_output_limit_fail_with_status_3() {
    let failure = testing::cart().line("A", 1, 100).run(huge).unwrap_err();
    assert_eq!(failure.status, Some(STATUS_OUTPUT_FAILED));
    assert!(
        failure.message.contains("refused by the host: status -1"),
        "{}",
        failure.message
    );
}

#[test]
fn an_input_over_the_input_limit_is_refused_before_the_call() {
    let mut cart = testing::cart();
    for i in 0..2000 {
        cart = cart.line(&format!("SKU-{i}"), 1, 100);
    }
    let failure = cart.run(nothing).unwrap_err();
    assert_eq!(failure.code, "input_too_large");
}

#[test]
fn async_hooks_may_set_timers_and_release_counters() {
    let input = testing::cart()
        .line("A", 1, 100)
        .order_event(Hook::OrderCancelled, "order-1");
    assert_eq!(input.event.order.status, "cancelled");
    let effects = testing::run_hook(countdown, &input).unwrap();
    assert_eq!(effects.timers[0].at_ms, testing::TEST_NOW_MS + 60_000);
    assert_eq!(effects.timers[0].payload, json!({"order": "order-1"}));
    assert_eq!(effects.releases[0].amount, 1);
}

#[test]
fn async_hooks_may_not_adjust_prices() {
    let input = testing::cart().order_event(Hook::OrderPaid, "order-1");
    let failure = testing::run_hook(adjusts_order, &input).unwrap_err();
    assert_eq!(failure.code, "bad_output");
    assert_eq!(
        failure.message,
        "effect `adjustments` is not allowed for hook order.paid"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Config {
    #[serde(default)]
    percent: u32,
    #[serde(default)]
    codes: Vec<String>,
}

#[test]
fn configuration_reads_typed_and_reports_what_is_wrong() {
    let none = testing::cart().build();
    assert_eq!(
        none.config::<Config>().unwrap(),
        Config {
            percent: 0,
            codes: vec![]
        }
    );
    let some = testing::cart()
        .config(json!({"percent": 5, "codes": ["A"]}))
        .build();
    assert_eq!(
        some.config::<Config>().unwrap().codes,
        vec!["A".to_string()]
    );
    let bad = testing::cart().config(json!({"percent": "five"})).build();
    let err = bad.config::<Config>().unwrap_err().to_string();
    assert!(
        err.starts_with("invalid configuration: invalid type: string \"five\""),
        "{err}"
    );
}

#[test]
fn counters_read_by_key_and_scope() {
    let input = testing::cart()
        .counter("coupon:SPRING", CounterScope::Install, 7)
        .counter("coupon:SPRING", CounterScope::Customer, 1)
        .build();
    assert_eq!(input.counter("coupon:SPRING", CounterScope::Install), 7);
    assert_eq!(input.counter("coupon:SPRING", CounterScope::Customer), 1);
    assert_eq!(input.counter("coupon:OTHER", CounterScope::Install), 0);
}

#[test]
fn builders_write_the_documented_json() {
    let effects = Effects::new()
        .adjust_line(1, -250, "10% off")
        .adjustment(
            Adjustment::new(-500, "SPRING")
                .code("SPRING")
                .class("coupon")
                .priority(50)
                .exclusive()
                .combines_with(&["live_price"]),
        )
        .claim(Claim::new("coupon:SPRING", 1, 100, "SPRING is used up").per_customer())
        .reject("too_many", "At most 3 per order");
    assert_eq!(
        serde_json::to_value(&effects).unwrap(),
        json!({
            "adjustments": [
                // Defaults (class "discount", priority 100, not exclusive) are left out.
                {"line": 1, "amount": -250, "label": "10% off"},
                {"amount": -500, "label": "SPRING", "code": "SPRING", "class": "coupon",
                 "priority": 50, "exclusive": true, "combines_with": ["live_price"]}
            ],
            "reject": {"code": "too_many", "message": "At most 3 per order"},
            "claims": [{"key": "coupon:SPRING", "scope": "customer", "amount": 1, "limit": 100,
                        "message": "SPRING is used up"}]
        })
    );
}
