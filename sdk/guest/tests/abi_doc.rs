//! Every JSON example in sdk/ABI.md parses as the type it documents, and
//! names no field the type does not have, so the page cannot drift from the code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::abi::{
    Cart, CommentEvent, Effects, GuestError, Hook, Input, OrderEvent, PinEvent, StreamEvent,
    TimerEvent, ViewersEvent,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// (section, heading, JSON block), in page order.
fn examples() -> Vec<(String, String, String)> {
    let page = include_str!("../../ABI.md");
    let mut section = String::new();
    let mut heading = String::new();
    let mut block: Option<String> = None;
    let mut out = Vec::new();
    for line in page.lines() {
        match &mut block {
            Some(text) if line.starts_with("```") => {
                out.push((section.clone(), heading.clone(), std::mem::take(text)));
                block = None;
            }
            Some(text) => {
                text.push_str(line);
                text.push('\n');
            }
            None if line == "```json" => block = Some(String::new()),
            None if line.starts_with("## ") => {
                section = line.to_string();
                heading = line.to_string();
            }
            None if line.starts_with("### ") => heading = line.to_string(),
            None => {}
        }
    }
    out
}

/// Every key of `doc` appears in `typed` (the example re-serialized).
fn assert_known_fields(doc: &Value, typed: &Value, at: &str) {
    match (doc, typed) {
        (Value::Object(d), Value::Object(t)) => {
            for (key, value) in d {
                // Empty values are left out when the type serializes.
                let empty = match value {
                    Value::Null => true,
                    Value::Array(a) => a.is_empty(),
                    _ => false,
                };
                if empty && !t.contains_key(key) {
                    continue;
                }
                let inner = t
                    .get(key)
                    .unwrap_or_else(|| panic!("{at}: `{key}` is not a field of the type"));
                assert_known_fields(value, inner, &format!("{at}.{key}"));
            }
        }
        (Value::Array(d), Value::Array(t)) => {
            for (i, (dv, tv)) in d.iter().zip(t).enumerate() {
                assert_known_fields(dv, tv, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

fn check<T: DeserializeOwned + Serialize>(heading: &str, json: &str) {
    let doc: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{heading}: {e}"));
    let typed: T = serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{heading}: {e}"));
    assert_known_fields(&doc, &serde_json::to_value(&typed).unwrap(), heading);
}

#[test]
fn every_example_matches_its_type_and_every_hook_has_one() {
    let mut hooks_shown = HashSet::new();
    for (section, heading, json) in examples() {
        let section = match section.as_str() {
            "## Effects" => "effects",
            "## Events" => "events",
            _ => "",
        };
        if heading == "## The input envelope" {
            check::<Input<Value>>(&heading, &json);
        } else if heading == "## Reporting an error" {
            check::<GuestError>(&heading, &json);
        } else if section == "effects" {
            check::<Effects>(&heading, &json);
        } else if section == "events" {
            let hooks: Vec<Hook> = heading.split('`').filter_map(Hook::parse).collect();
            assert!(!hooks.is_empty(), "{heading}: no hook named");
            match hooks[0] {
                Hook::CartPrice => check::<Cart>(&heading, &json),
                Hook::OrderCreated
                | Hook::OrderPaid
                | Hook::OrderCancelled
                | Hook::OrderRefunded => check::<OrderEvent>(&heading, &json),
                Hook::StreamStarted | Hook::StreamEnded => check::<StreamEvent>(&heading, &json),
                Hook::StreamProductPinned | Hook::StreamProductUnpinned => {
                    check::<PinEvent>(&heading, &json)
                }
                Hook::StreamViewers => check::<ViewersEvent>(&heading, &json),
                Hook::StreamComment => check::<CommentEvent>(&heading, &json),
                Hook::TimerFired => check::<TimerEvent>(&heading, &json),
            }
            hooks_shown.extend(hooks);
        } else {
            panic!("{heading}: a JSON example outside the checked sections");
        }
    }
    let missing: Vec<_> = Hook::ALL
        .iter()
        .filter(|h| !hooks_shown.contains(h))
        .collect();
    assert!(missing.is_empty(), "hooks without an example: {missing:?}");
}

#[test]
fn the_limits_table_shows_the_numbers_in_limits_rs() {
    use livemall_sdk::abi::limits;
    let page = include_str!("../../ABI.md");
    let n = |v: u64| {
        let digits = v.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let bytes = |v: usize| format!("({} bytes)", n(v as u64));
    for shown in [
        format!("{} per call", n(limits::FUEL)),
        format!("{} ms per call", limits::DEADLINE_MS),
        bytes(limits::MEMORY_BYTES),
        format!("| {} |", n(limits::TABLE_ELEMENTS as u64)),
        bytes(limits::MODULE_BYTES),
        bytes(limits::INPUT_BYTES),
        bytes(limits::OUTPUT_BYTES),
        format!("{} per call", bytes(limits::LOG_BYTES)),
    ] {
        assert!(page.contains(&shown), "ABI.md does not show `{shown}`");
    }
}
