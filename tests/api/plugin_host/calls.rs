//! Calls: limits, typed failures and usage.

use std::time::Duration;

use livemall::plugin_host::{CallError, CallRequest, CircuitBreaker, FailureRecord, Limits};
use livemall_abi::{Hook, LogLevel, OrderEvent};

use super::*;

#[test]
fn a_well_behaved_guest_echoes_the_line_count_and_reports_usage() {
    let plugin = load("echo_lines");
    assert_eq!(plugin.hooks(), &[Hook::CartPrice]);
    let outcome = price(&plugin, 10, &Limits::default()).unwrap();
    assert_eq!(outcome.effects.adjustments[0].amount, 10);
    assert_eq!(outcome.effects.adjustments[0].label, "lines");
    let usage = outcome.usage;
    assert!(usage.fuel_used > 1_000, "{usage:?}");
    assert_eq!(usage.peak_memory_bytes, 5 * 65_536);
    assert!(usage.input_bytes > 1_000);
    assert_eq!(
        usage.output_bytes,
        r#"{"adjustments":[{"label":"lines","amount":10}]}"#.len()
    );
    assert!(usage.duration > Duration::ZERO);
}

#[test]
fn an_infinite_loop_runs_out_of_fuel() {
    // The default fuel with a deadline it cannot reach first, however busy
    // the machine running the test is.
    let limits = Limits::builder().deadline(Duration::from_secs(30)).build();
    let failure = failure_of("loop", &limits);
    assert_eq!(failure.code(), "out_of_fuel");
    assert_eq!(failure.usage().fuel_used, limits.fuel);
    assert_host_still_serves();
}

#[test]
fn an_infinite_loop_with_plenty_of_fuel_hits_the_deadline() {
    let limits = Limits::builder().fuel(u64::MAX / 2).build();
    let failure = failure_of("loop", &limits);
    assert_eq!(failure.code(), "deadline");
    assert!(failure.usage().duration >= limits.deadline, "{:?}", failure.usage());
    assert!(
        failure.usage().duration < Duration::from_secs(2),
        "{:?}",
        failure.usage()
    );
    assert_host_still_serves();
}

#[test]
fn a_start_function_that_loops_is_stopped_during_instantiation() {
    let failure = failure_of("start_loop", &Limits::default());
    assert_eq!(failure.code(), "out_of_fuel");
    assert_host_still_serves();
}

#[test]
fn growing_memory_past_the_limit_fails_with_memory_limit() {
    let limits = Limits::builder().memory_bytes(1 << 20).build();
    let failure = failure_of("grow_memory", &limits);
    assert_eq!(failure.code(), "memory_limit", "{failure}");
    assert!(
        matches!(failure.error(), CallError::MemoryLimit { requested, limit, .. } if requested > limit && *limit == 1 << 20)
    );
    assert_eq!(failure.usage().peak_memory_bytes, 1 << 20);
    assert_host_still_serves();
}

#[test]
fn a_memory_limit_above_the_pool_slot_is_capped_at_the_slot() {
    let limits = Limits::builder().memory_bytes(1 << 30).build();
    let failure = failure_of("grow_memory", &limits);
    assert_eq!(failure.code(), "memory_limit");
    let slot = host().config().max_memory_bytes;
    assert!(matches!(failure.error(), CallError::MemoryLimit { limit, .. } if *limit == slot));
    assert_host_still_serves();
}

#[test]
fn growing_a_table_past_the_limit_fails_with_memory_limit() {
    let failure = failure_of("grow_table", &Limits::default());
    assert_eq!(failure.code(), "memory_limit");
    assert!(failure.to_string().contains("table elements"), "{failure}");
    assert_host_still_serves();
}

#[test]
fn unbounded_recursion_traps_with_a_stack_overflow() {
    let failure = failure_of("recursion", &Limits::default());
    assert_eq!(failure.code(), "trap");
    assert!(failure.to_string().contains("call stack exhausted"), "{failure}");
    assert_host_still_serves();
}

#[test]
fn a_trap_mid_call_reports_the_trap_and_keeps_the_logs() {
    let failure = failure_of("trap_midway", &Limits::default());
    assert_eq!(failure.code(), "trap");
    assert!(failure.to_string().contains("unreachable"), "{failure}");
    assert_eq!(failure.logs().len(), 1);
    assert_eq!(failure.logs()[0].level, LogLevel::Error);
    assert_eq!(failure.logs()[0].message, "about to fail");
    assert!(failure.usage().fuel_used > 0);
    assert_host_still_serves();
}

#[test]
fn output_past_the_limit_fails_with_output_too_large() {
    let failure = failure_of("big_output", &Limits::default());
    assert_eq!(failure.code(), "output_too_large");
    assert_eq!(failure.usage().output_bytes, 65_537);
    assert_host_still_serves();
}

#[test]
fn output_that_is_not_json_is_bad_output() {
    let failure = failure_of("not_json", &Limits::default());
    assert_eq!(failure.code(), "bad_output");
    assert!(failure.to_string().contains("not JSON"), "{failure}");
    assert_host_still_serves();
}

#[test]
fn json_that_is_not_the_effects_schema_is_bad_output() {
    let failure = failure_of("wrong_schema", &Limits::default());
    assert_eq!(failure.code(), "bad_output");
    assert!(failure.to_string().contains("discounts"), "{failure}");
    assert_host_still_serves();
}

#[test]
fn an_effect_not_allowed_for_the_hook_is_bad_output() {
    let failure = failure_of("wrong_effect", &Limits::default());
    assert_eq!(failure.code(), "bad_output");
    assert!(
        failure
            .to_string()
            .contains("`broadcasts` is not allowed for hook cart.price"),
        "{failure}"
    );
    assert_host_still_serves();
}

#[test]
fn a_non_zero_status_is_a_guest_error_with_its_message() {
    let failure = failure_of("guest_error", &Limits::default());
    assert_eq!(failure.code(), "guest_error");
    assert!(
        matches!(failure.error(), CallError::GuestError { status: 7, message } if message == "coupon service down")
    );
    assert_host_still_serves();
}

#[test]
fn an_input_over_the_limit_is_refused_before_the_guest_runs() {
    let plugin = load("echo_lines");
    let limits = Limits::default();
    let input = vec![b' '; limits.input_bytes + 1];
    let failure = host()
        .call(&plugin, &CallRequest::new(Hook::CartPrice, input), &limits)
        .unwrap_err();
    assert_eq!(failure.code(), "input_too_large");
    assert_eq!(failure.usage().fuel_used, 0);
    assert_host_still_serves();
}

#[test]
fn a_hook_the_plugin_does_not_export_is_refused() {
    let plugin = load("echo_lines");
    let request = CallRequest::new(Hook::TimerFired, b"{}".to_vec());
    let failure = host().call(&plugin, &request, &Limits::default()).unwrap_err();
    assert_eq!(failure.code(), "hook_not_exported");
    assert!(!failure.error().is_plugin_fault());
}

#[test]
fn logging_within_the_budget_keeps_every_line() {
    let outcome = price(&load("logger"), 1, &Limits::default()).unwrap();
    assert_eq!(outcome.logs.len(), 1);
    assert_eq!(outcome.logs[0].level, LogLevel::Info);
    assert_eq!(outcome.logs[0].message, "hello from the guest");
    assert_eq!((outcome.usage.log_lines, outcome.usage.log_bytes), (1, 20));
}

#[test]
fn logging_past_the_budget_keeps_what_fits_and_tells_the_guest() {
    let plugin = load("logger");
    let order: OrderEvent = serde_json::from_value(serde_json::json!({"order": {
        "id": "o", "status": "paid", "currency": "EUR", "lines": [],
        "subtotal": 0, "adjustments_total": 0, "total": 0}}))
    .unwrap();
    let request = CallRequest::new(Hook::OrderCreated, envelope(Hook::OrderCreated, order));
    let limits = Limits::default();
    let outcome = host().call(&plugin, &request, &limits).unwrap();
    assert_eq!(outcome.usage.log_bytes, limits.log_bytes);
    // 40 whole 100-byte lines, then the 96 bytes that still fit.
    assert_eq!(outcome.logs.len(), 41);
    assert_eq!(outcome.logs[40].message.len(), 96);
    assert_eq!(outcome.effects.cancel_timers, vec!["log_full".to_string()]);
}

#[test]
fn a_plugin_that_keeps_failing_is_switched_off_by_the_breaker() {
    let breaker: CircuitBreaker = CircuitBreaker::default();
    let install = "install-1".to_string();
    let looping = load("loop");
    let limits = Limits::builder().fuel(100_000).build();
    let mut opened = false;
    for at in 0..5 {
        let failure = price(&looping, 1, &limits).unwrap_err();
        assert!(failure.error().is_plugin_fault());
        opened = breaker.record_failure(&install, FailureRecord::from_failure(&failure, at));
    }
    assert!(opened && breaker.is_open(&install));
    let status = breaker.status(&install);
    assert_eq!(status.recent_failures.len(), 5);
    assert!(status.recent_failures.iter().all(|f| f.code == "out_of_fuel"));
    breaker.reset(&install);
    assert!(!breaker.is_open(&install));
}

#[tokio::test]
async fn call_async_answers_each_of_many_concurrent_calls() {
    let plugin = Arc::new(load("echo_lines"));
    let calls = (0..8).map(|lines| {
        let request =
            CallRequest::new(Hook::CartPrice, envelope(Hook::CartPrice, cart(lines + 1))).with_cart_lines(lines + 1);
        host().call_async(Arc::clone(&plugin), request, Limits::default())
    });
    let outcomes = futures_util::future::join_all(calls).await;
    for (lines, outcome) in outcomes.into_iter().enumerate() {
        assert_eq!(outcome.unwrap().effects.adjustments[0].amount, lines as i64 + 1);
    }
}

fn price_request(lines: usize) -> CallRequest {
    CallRequest::new(Hook::CartPrice, envelope(Hook::CartPrice, cart(lines))).with_cart_lines(lines)
}

/// On a runtime with one thread, a task that is due while a guest loops
/// runs before the guest's deadline: the guest gives the thread back at
/// each epoch tick instead of holding it for its whole call.
#[tokio::test(flavor = "current_thread")]
async fn a_looping_guest_called_as_a_future_lets_other_tasks_run_until_its_deadline() {
    let plugin = Arc::new(load("loop"));
    let limits = Limits::builder()
        .fuel(u64::MAX / 2)
        .deadline(Duration::from_millis(300))
        .build();
    let started = std::time::Instant::now();
    let other = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        started.elapsed()
    });
    let failure = host().call_async(plugin, price_request(1), limits).await.unwrap_err();
    assert_eq!(failure.code(), "deadline");
    assert!(failure.usage().duration >= limits.deadline, "{:?}", failure.usage());
    let ran_after = other.await.unwrap();
    assert!(
        ran_after < Duration::from_millis(250),
        "the other task waited {ran_after:?}, as long as the guest ran"
    );
}

#[tokio::test]
async fn a_looping_guest_called_as_a_future_runs_out_of_fuel() {
    let limits = Limits::builder().deadline(Duration::from_secs(30)).build();
    let failure = host()
        .call_async(Arc::new(load("loop")), price_request(1), limits)
        .await
        .unwrap_err();
    assert_eq!(failure.code(), "out_of_fuel");
    assert_eq!(failure.usage().fuel_used, limits.fuel);
}

/// A call whose caller stops waiting (a shopper who hung up) ends where
/// the guest was and gives its slot back: on a host of one slot, the next
/// call gets it.
#[tokio::test]
async fn a_call_dropped_mid_flight_frees_its_slot() {
    let host = Arc::new(
        Host::new(HostConfig {
            slots: 1,
            ..HostConfig::small(None)
        })
        .unwrap(),
    );
    let looping = Arc::new(host.load(&guest("loop"), &Limits::default()).unwrap());
    let echo = Arc::new(host.load(&guest("echo_lines"), &Limits::default()).unwrap());
    let limits = Limits::builder()
        .fuel(u64::MAX / 2)
        .deadline(Duration::from_secs(30))
        .build();
    let dropped = tokio::time::timeout(
        Duration::from_millis(20),
        Arc::clone(&host).call_async(looping, price_request(1), limits),
    )
    .await;
    assert!(dropped.is_err(), "the looping call ended by itself");
    let next = tokio::time::timeout(
        Duration::from_secs(5),
        host.call_async(echo, price_request(3), Limits::default()),
    )
    .await
    .expect("the next call got the slot");
    assert_eq!(next.unwrap().effects.adjustments[0].amount, 3);
}
