//! The glue between a hook export and a handler, and the `hooks!` macro.

use crate::abi::{Effects, GuestError, Input};
use crate::{host, Error};
use serde::de::DeserializeOwned;

/// A hook handler: reads the input envelope, returns effects or an error.
pub type Handler<E> = fn(&Input<E>) -> Result<Effects, Error>;

/// Status a hook export returns when the handler returned an error.
pub const STATUS_HANDLER_ERROR: i32 = 1;
/// Status a hook export returns when the input did not parse as the hook's event.
pub const STATUS_BAD_INPUT: i32 = 2;
/// Status a hook export returns when the effects could not be written (too large).
pub const STATUS_OUTPUT_FAILED: i32 = 3;

/// Runs `handler` for the current call: reads and parses the input, calls the
/// handler, writes the output and returns the export's status.
/// The [`hooks!`](crate::hooks) macro calls this; plug-ins rarely need it.
pub fn run<E: DeserializeOwned>(handler: Handler<E>) -> i32 {
    let bytes = host::input();
    // One UTF-8 check of the whole input: serde_json then trusts its strings,
    // instead of checking each one again (a tenth of a call's instructions).
    let text = match core::str::from_utf8(&bytes) {
        Ok(text) => text,
        Err(e) => return fail(STATUS_BAD_INPUT, &format!("input is not UTF-8: {e}")),
    };
    let input: Input<E> = match serde_json::from_str(text) {
        Ok(input) => input,
        Err(e) => return fail(STATUS_BAD_INPUT, &format!("input does not parse: {e}")),
    };
    let status = match handler(&input) {
        Ok(effects) => {
            let status = write_effects(&effects);
            discard(effects);
            status
        }
        Err(error) => fail(STATUS_HANDLER_ERROR, error.message()),
    };
    discard(input);
    status
}

/// Lets go of a value at the end of a call. On wasm32 the instance and its
/// memory are discarded when the call returns, so walking the value to free
/// it would be wasted work; in native tests it is dropped as usual.
fn discard<T>(value: T) {
    if cfg!(target_arch = "wasm32") {
        core::mem::forget(value);
    } else {
        drop(value);
    }
}

fn write_effects(effects: &Effects) -> i32 {
    let json = match serde_json::to_vec(effects) {
        Ok(json) => json,
        Err(e) => {
            return fail(
                STATUS_OUTPUT_FAILED,
                &format!("effects do not serialize: {e}"),
            )
        }
    };
    match host::write_output(&json) {
        Ok(()) => crate::abi::STATUS_OK,
        Err(status) => fail(
            STATUS_OUTPUT_FAILED,
            &format!(
                "effects ({} bytes) refused by the host: status {}",
                json.len(),
                status.0
            ),
        ),
    }
}

fn fail(status: i32, message: &str) -> i32 {
    let body = GuestError {
        message: message.to_string(),
    };
    // If even the error cannot be written, the status alone reports the failure.
    if let Ok(json) = serde_json::to_vec(&body) {
        let _ = host::write_output(&json);
    }
    status
}

/// Declares the plug-in's hook handlers: one line per hook, `hook => handler`.
///
/// It emits the `livemall_abi_v1` marker export and, for each hook, an export
/// named as the hook (e.g. `cart.price`) that parses the input as the hook's
/// event, calls the handler and writes its effects (or `{"message": ...}` with
/// a non-zero status when it fails). The exports exist only on wasm32; on
/// other targets the macro just checks the handlers' types, and
/// [`testing`](crate::testing) calls them.
///
/// | key | export | event type |
/// | --- | --- | --- |
/// | `cart_price` | `cart.price` | [`Cart`](crate::abi::Cart) |
/// | `order_created`, `order_paid`, `order_cancelled`, `order_refunded` | `order.*` | [`OrderEvent`](crate::abi::OrderEvent) |
/// | `stream_started`, `stream_ended` | `stream.started`, `stream.ended` | [`StreamEvent`](crate::abi::StreamEvent) |
/// | `stream_product_pinned`, `stream_product_unpinned` | `stream.product_*` | [`PinEvent`](crate::abi::PinEvent) |
/// | `stream_viewers` | `stream.viewers` | [`ViewersEvent`](crate::abi::ViewersEvent) |
/// | `stream_comment` | `stream.comment` | [`CommentEvent`](crate::abi::CommentEvent) |
/// | `timer_fired` | `timer.fired` | [`TimerEvent`](crate::abi::TimerEvent) |
///
/// ```
/// use livemall_sdk::prelude::*;
///
/// fn price(input: &Input<Cart>) -> Result<Effects, Error> {
///     Ok(Effects::new().adjust_order(-100, "1.00 off"))
/// }
///
/// fn created(input: &Input<OrderEvent>) -> Result<Effects, Error> {
///     log::info(&format!("order {}", input.event.order.id));
///     Ok(Effects::new())
/// }
///
/// livemall_sdk::hooks! {
///     cart_price => price,
///     order_created => created,
/// }
/// # fn main() {}
/// ```
///
/// A plug-in declares its hooks once: the marker export may only exist once.
#[macro_export]
macro_rules! hooks {
    ($($hook:ident => $handler:path),+ $(,)?) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        #[export_name = "livemall_abi_v1"]
        pub extern "C" fn __livemall_abi_v1() {}

        $( $crate::__hook!($hook, $handler); )+
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __hook {
    (cart_price, $h:path) => { $crate::__export!("cart.price", $crate::abi::Cart, $h); };
    (order_created, $h:path) => { $crate::__export!("order.created", $crate::abi::OrderEvent, $h); };
    (order_paid, $h:path) => { $crate::__export!("order.paid", $crate::abi::OrderEvent, $h); };
    (order_cancelled, $h:path) => { $crate::__export!("order.cancelled", $crate::abi::OrderEvent, $h); };
    (order_refunded, $h:path) => { $crate::__export!("order.refunded", $crate::abi::OrderEvent, $h); };
    (stream_started, $h:path) => { $crate::__export!("stream.started", $crate::abi::StreamEvent, $h); };
    (stream_ended, $h:path) => { $crate::__export!("stream.ended", $crate::abi::StreamEvent, $h); };
    (stream_product_pinned, $h:path) => { $crate::__export!("stream.product_pinned", $crate::abi::PinEvent, $h); };
    (stream_product_unpinned, $h:path) => { $crate::__export!("stream.product_unpinned", $crate::abi::PinEvent, $h); };
    (stream_viewers, $h:path) => { $crate::__export!("stream.viewers", $crate::abi::ViewersEvent, $h); };
    (stream_comment, $h:path) => { $crate::__export!("stream.comment", $crate::abi::CommentEvent, $h); };
    (timer_fired, $h:path) => { $crate::__export!("timer.fired", $crate::abi::TimerEvent, $h); };
    ($other:ident, $h:path) => {
        compile_error!(concat!(
            "unknown hook `", stringify!($other), "`; expected one of cart_price, order_created, ",
            "order_paid, order_cancelled, order_refunded, stream_started, stream_ended, ",
            "stream_product_pinned, stream_product_unpinned, stream_viewers, stream_comment, timer_fired"
        ));
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export {
    ($name:literal, $event:ty, $h:path) => {
        const _: () = {
            // Checks the handler's type on every target, and keeps it "used" off wasm32.
            #[allow(dead_code)]
            const HANDLER: $crate::Handler<$event> = $h;

            #[cfg(target_arch = "wasm32")]
            #[export_name = $name]
            extern "C" fn hook() -> i32 {
                $crate::hook::run::<$event>(HANDLER)
            }
        };
    };
}
