//! Write livemall plug-ins in Rust.
//!
//! A plug-in is a wasm32 module that handles hooks (`cart.price`,
//! `order.created`, `timer.fired`, ...). Each handler is a pure function of
//! its input envelope that returns [`Effects`]; the host validates and applies
//! them. This crate gives you:
//!
//! - [`hooks!`]: one line per hook, which emits the exports the ABI requires;
//! - the ABI types ([`abi`], also in the [`prelude`]) and builder methods such
//!   as [`Effects::adjust_line`] and [`Input::config`];
//! - [`money`]: integer minor-unit arithmetic with a documented rounding rule;
//! - [`log`]: log lines kept with the call;
//! - [`testing`] (native targets): run handlers with `cargo test` exactly as
//!   the host would, no wasm runtime needed.
//!
//! ```
//! use livemall_sdk::prelude::*;
//! use serde::Deserialize;
//!
//! #[derive(Deserialize)]
//! struct Config {
//!     #[serde(default = "ten")]
//!     percent: u32,
//! }
//! fn ten() -> u32 { 10 }
//!
//! /// 10% (configurable) off the whole order once it reaches 50.00.
//! fn price(input: &Input<Cart>) -> Result<Effects, Error> {
//!     let config: Config = input.config()?;
//!     let cart = &input.event;
//!     if cart.subtotal < 5000 {
//!         return Ok(Effects::new());
//!     }
//!     let amount = money::discount_percent(cart.subtotal, config.percent);
//!     Ok(Effects::new().adjust_order(amount, format!("{}% off", config.percent)))
//! }
//!
//! livemall_sdk::hooks! { cart_price => price }
//!
//! # fn main() {
//! let effects = livemall_sdk::testing::cart()
//!     .line("LAMP", 2, 3000)
//!     .config(serde_json::json!({"percent": 15}))
//!     .run(price)
//!     .unwrap();
//! assert_eq!(effects.adjustments[0].amount, -900);
//! # }
//! ```
//!
//! Build it with `cargo build --release --target wasm32-unknown-unknown` (crate
//! type `cdylib`); `sdk/ABI.md` in the livemall repository is the contract.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

/// The ABI v1 types and constants, shared with the host.
pub use livemall_abi as abi;

pub use abi::{
    Adjustment, Cart, CartLine, Claim, CommentEvent, ConfigError, CounterScope, Effects, Hook,
    Input, OrderEvent, PinEvent, StreamEvent, TimerEvent, ViewersEvent,
};
pub use error::Error;
pub use hook::Handler;

#[cfg(all(target_arch = "wasm32", feature = "call-allocator"))]
mod alloc;
mod error;
pub mod hook;
pub mod host;
pub mod log;
pub mod money;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

/// What most handlers need: `use livemall_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::abi::{
        Adjustment, Cart, CartLine, Claim, CommentEvent, CounterScope, Effects, Hook, Input, Order,
        OrderEvent, PinEvent, StreamEvent, TimerEvent, ViewersEvent,
    };
    pub use crate::{log, money, Error};
}
