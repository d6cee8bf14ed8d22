//! Run handlers natively, with plain `cargo test`, the way the host runs them.
//!
//! [`run_hook`] serializes the input to JSON, passes it through the same glue
//! as the wasm export (a simulated host stands in for the imports), parses the
//! output as the host does (unknown fields refused) and checks which effects
//! the hook may return. What a test sees is what production would see, except
//! for fuel, memory and time limits, which only the real runner
//! (`livemall plugin run`) enforces.
//!
//! ```
//! use livemall_sdk::prelude::*;
//! use livemall_sdk::testing;
//!
//! fn price(input: &Input<Cart>) -> Result<Effects, Error> {
//!     let mut effects = Effects::new();
//!     for (i, line) in input.event.lines.iter().enumerate() {
//!         if line.quantity >= 2 {
//!             effects = effects.adjust_line(i, money::discount_percent(line.total(), 10), "10% off");
//!         }
//!     }
//!     Ok(effects)
//! }
//!
//! let effects = testing::cart()
//!     .line("TEE-M", 2, 1999)
//!     .line("MUG", 1, 1200)
//!     .run(price)
//!     .unwrap();
//! assert_eq!(effects.adjustments.len(), 1);
//! assert_eq!(effects.adjustments[0].line, Some(0));
//! assert_eq!(effects.adjustments[0].amount, -400); // 10% of 39.98, rounded
//! ```

mod builders;
mod check;

pub use builders::{cart, envelope, CartBuilder, TEST_NOW_MS};
pub use check::check_effects;

use crate::abi::{limits, Effects, GuestError, Input, LogLevel};
use crate::hook::{self, Handler};
use crate::host::imports::{Sim, SIM};
use core::fmt;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Everything one call left behind, before the output is interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// What the hook export returned (0 is success).
    pub status: i32,
    /// The output the handler wrote, if any.
    pub output: Option<String>,
    /// Log lines, as the host kept them.
    pub logs: Vec<(LogLevel, String)>,
}

/// A call the host would record as failed; `code` is the host's failure code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `guest_error`, `bad_output` or `input_too_large`.
    pub code: &'static str,
    /// The hook export's status, for `guest_error`.
    pub status: Option<i32>,
    /// The plug-in's message, or what is wrong with its output.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(status) => write!(f, "{} (status {}): {}", self.code, status, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

impl std::error::Error for Failure {}

/// Runs `handler` on `input` through the hook glue and returns the raw call.
/// Panics if `input` does not serialize (a bug in the test, not the plug-in).
pub fn call<E: Serialize + DeserializeOwned>(handler: Handler<E>, input: &Input<E>) -> Call {
    #[allow(clippy::expect_used)]
    let json = serde_json::to_vec(input).expect("test input serializes");
    call_json(handler, json)
}

/// Runs `handler` on raw input bytes (e.g. a JSON file), as the export would.
pub fn call_json<E: DeserializeOwned>(handler: Handler<E>, json: Vec<u8>) -> Call {
    SIM.with(|s| {
        *s.borrow_mut() = Sim {
            input: json,
            ..Sim::default()
        }
    });
    let status = hook::run(handler);
    let sim = SIM.with(|s| core::mem::take(&mut *s.borrow_mut()));
    Call {
        status,
        output: sim
            .output
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        logs: sim
            .logs
            .into_iter()
            .map(|(level, text)| (LogLevel::from_i32(level), text))
            .collect(),
    }
}

/// Runs `handler` on `input` and returns the effects as the host would accept
/// them, or the failure the host would record.
pub fn run_hook<E: Serialize + DeserializeOwned>(
    handler: Handler<E>,
    input: &Input<E>,
) -> Result<Effects, Failure> {
    #[allow(clippy::expect_used)]
    let value = serde_json::to_value(input).expect("test input serializes");
    #[allow(clippy::expect_used)]
    let json = serde_json::to_vec(&value).expect("test input serializes");
    if json.len() > limits::INPUT_BYTES {
        return Err(failure(
            "input_too_large",
            None,
            format!("{} bytes", json.len()),
        ));
    }
    let call = call_json(handler, json);
    interpret(&call, &value)
}

/// Reads a finished call the way the host does: a non-zero status is
/// `guest_error`; otherwise the output must be `Effects` allowed for the hook.
pub fn interpret(call: &Call, input: &serde_json::Value) -> Result<Effects, Failure> {
    if call.status != 0 {
        let message = call
            .output
            .as_deref()
            .and_then(|out| serde_json::from_str::<GuestError>(out).ok())
            .map_or_else(String::new, |e| e.message);
        return Err(failure("guest_error", Some(call.status), message));
    }
    let effects = match &call.output {
        None => Effects::default(),
        Some(out) => serde_json::from_str::<Effects>(out)
            .map_err(|e| failure("bad_output", None, e.to_string()))?,
    };
    check_effects(input, &effects).map_err(|m| failure("bad_output", None, m))?;
    Ok(effects)
}

fn failure(code: &'static str, status: Option<i32>, message: String) -> Failure {
    Failure {
        code,
        status,
        message,
    }
}
