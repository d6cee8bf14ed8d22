#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use livemall_sdk::abi::{StreamInfo, StreamPin};
use livemall_sdk::testing::{self, TEST_NOW_MS};
use serde_json::{json, Value};

const LAMP: &str = "00000000-0000-4000-8003-000000000001";

fn config(extra: Value) -> Value {
    let mut c = json!({"duration_seconds": 60, "percent_off": 25});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

/// A one-lamp cart (49.00) from live stream `s-1`, where the lamp was pinned at `pinned_at`.
fn cart(config: Value, now_ms: i64, pinned_at: Option<i64>) -> Input<Cart> {
    let mut builder = testing::cart()
        .line("LAMP", 2, 4900)
        .stream("s-1", &[LAMP])
        .config(config)
        .now_ms(now_ms)
        .checkout();
    if let Some(at) = pinned_at {
        builder = builder.pinned_at(LAMP, at);
    }
    builder.build()
}

fn live_amounts(input: &Input<Cart>) -> Vec<(Option<u32>, i64)> {
    let effects = testing::run_hook(price, input).unwrap();
    effects
        .adjustments
        .iter()
        .map(|a| (a.line, a.amount))
        .collect()
}

fn stream(status: &str) -> StreamInfo {
    StreamInfo {
        id: "s-1".into(),
        status: status.into(),
        pinned_product_ids: vec![LAMP.into()],
        pins: vec![StreamPin {
            product_id: LAMP.into(),
            pinned_at_ms: TEST_NOW_MS - 5_000,
        }],
    }
}

#[test]
fn the_countdown_runs_from_the_pin_not_from_the_later_delivery() {
    let mut input = testing::envelope(
        Hook::StreamProductPinned,
        PinEvent {
            stream: stream("live"),
            product_id: LAMP.into(),
        },
    );
    input.install.config = config(json!({}));
    let effects = testing::run_hook(on_pin, &input).unwrap();
    // Pinned 5 s before the delivery's clock.
    let ends = TEST_NOW_MS - 5_000 + 60_000;
    let timer = &effects.timers[0];
    assert_eq!(
        (timer.key.as_str(), timer.at_ms),
        (format!("countdown:s-1:{LAMP}").as_str(), ends)
    );
    assert_eq!(
        timer.payload,
        json!({"stream_id": "s-1", "product_id": LAMP, "ends_at_ms": ends})
    );
    let b = &effects.broadcasts[0];
    assert_eq!(
        (b.kind.as_str(), b.stream_id.as_deref()),
        ("countdown.started", None)
    );
    assert_eq!(b.data["ends_at_ms"], json!(ends));
    assert_eq!(b.data["started_at_ms"], json!(TEST_NOW_MS - 5_000));
    assert_eq!(b.data["offer"], json!({"percent_off": 25}));
}

#[test]
fn without_a_pin_time_the_countdown_starts_at_the_delivery() {
    let mut input = testing::envelope(
        Hook::StreamProductPinned,
        PinEvent {
            stream: stream("live"),
            product_id: LAMP.into(),
        },
    );
    input.event.stream.pins.clear();
    input.install.config = config(json!({}));
    let effects = testing::run_hook(on_pin, &input).unwrap();
    assert_eq!(effects.timers[0].at_ms, TEST_NOW_MS + 60_000);
}

#[test]
fn a_pin_outside_a_live_stream_or_of_a_product_without_an_offer_starts_nothing() {
    let mut input = testing::envelope(
        Hook::StreamProductPinned,
        PinEvent {
            stream: stream("scheduled"),
            product_id: LAMP.into(),
        },
    );
    input.install.config = config(json!({}));
    assert!(testing::run_hook(on_pin, &input).unwrap().is_empty());
    input.event.stream.status = "live".into();
    input.install.config = config(json!({"products": [{"product_id": "another", "price": 100}]}));
    assert!(testing::run_hook(on_pin, &input).unwrap().is_empty());
}

#[test]
fn the_live_price_holds_from_the_pin_until_the_end_and_not_a_millisecond_after() {
    let pinned = TEST_NOW_MS;
    assert_eq!(
        live_amounts(&cart(config(json!({})), pinned, Some(pinned))),
        vec![(Some(0), -2450)]
    );
    assert_eq!(
        live_amounts(&cart(config(json!({})), pinned + 59_999, Some(pinned))).len(),
        1
    );
    assert!(live_amounts(&cart(config(json!({})), pinned + 60_000, Some(pinned))).is_empty());
    assert!(live_amounts(&cart(config(json!({})), pinned - 1, Some(pinned))).is_empty());
}

#[test]
fn a_fixed_live_price_replaces_the_unit_price() {
    let fixed = config(json!({"products": [{"product_id": LAMP, "price": 3900}]}));
    let effects = testing::run_hook(price, &cart(fixed, TEST_NOW_MS, Some(TEST_NOW_MS))).unwrap();
    let a = &effects.adjustments[0];
    assert_eq!(
        (a.amount, a.label.as_str(), a.class.as_str(), a.priority),
        (-2000, "Live price", "live_price", 20)
    );
    // The host does not commit it in an order placed at or after the end.
    assert_eq!(a.valid_until_ms, Some(TEST_NOW_MS + 60_000));
}

#[test]
fn no_live_price_without_a_pin_time_a_live_stream_or_the_pin_itself() {
    assert!(live_amounts(&cart(config(json!({})), TEST_NOW_MS, None)).is_empty());
    let mut ended = cart(config(json!({})), TEST_NOW_MS, Some(TEST_NOW_MS));
    ended.event.stream.as_mut().unwrap().status = "ended".into();
    assert!(live_amounts(&ended).is_empty());
    let mut unpinned = cart(config(json!({})), TEST_NOW_MS, Some(TEST_NOW_MS));
    unpinned
        .event
        .stream
        .as_mut()
        .unwrap()
        .pinned_product_ids
        .clear();
    assert!(live_amounts(&unpinned).is_empty());
    let mut no_stream = cart(config(json!({})), TEST_NOW_MS, Some(TEST_NOW_MS));
    no_stream.event.stream = None;
    assert!(live_amounts(&no_stream).is_empty());
}

#[test]
fn the_timer_firing_tells_the_feed_the_price_is_back() {
    let payload = json!({"stream_id": "s-1", "product_id": LAMP, "ends_at_ms": TEST_NOW_MS});
    let input = testing::envelope(
        Hook::TimerFired,
        TimerEvent {
            key: format!("countdown:s-1:{LAMP}"),
            at_ms: TEST_NOW_MS,
            payload,
        },
    );
    let effects = testing::run_hook(on_timer, &input).unwrap();
    let b = &effects.broadcasts[0];
    assert_eq!(
        (b.kind.as_str(), b.stream_id.as_deref()),
        ("countdown.ended", Some("s-1"))
    );
    assert_eq!(
        b.data,
        json!({"product_id": LAMP, "ended_at_ms": TEST_NOW_MS, "reason": "time_up"})
    );
}

#[test]
fn unpinning_cancels_the_timer_and_ends_the_countdown() {
    let mut input = testing::envelope(
        Hook::StreamProductUnpinned,
        PinEvent {
            stream: stream("live"),
            product_id: LAMP.into(),
        },
    );
    input.install.config = config(json!({}));
    let effects = testing::run_hook(on_unpin, &input).unwrap();
    assert_eq!(effects.cancel_timers, vec![format!("countdown:s-1:{LAMP}")]);
    assert_eq!(effects.broadcasts[0].data["reason"], "unpinned");
}

#[test]
fn a_duration_outside_ten_seconds_to_thirty_minutes_fails_the_call() {
    for bad in [9, 1801] {
        let failure = testing::run_hook(
            price,
            &cart(config(json!({"duration_seconds": bad})), TEST_NOW_MS, None),
        )
        .unwrap_err();
        assert!(
            failure.message.contains("duration_seconds"),
            "{}",
            failure.message
        );
    }
}
