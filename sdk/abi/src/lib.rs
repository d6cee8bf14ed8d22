//! livemall plug-in ABI, version 1: the JSON documents that cross the sandbox
//! boundary, shared by the host and every Rust guest so the two cannot drift.
//!
//! `sdk/ABI.md` is the language-neutral description of the same contract.
//! This crate builds with Rust 1.63 (the guest toolchain) and with the host's.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};
use serde_json::Value;

mod builders;
mod check;
pub use builders::ConfigError;
pub mod limits;

/// ABI version carried in every input envelope.
pub const ABI_VERSION: u32 = 1;
/// The only import module a plug-in may use.
pub const IMPORT_MODULE: &str = "livemall_v1";
/// Export every plug-in must have (a function taking and returning nothing).
pub const MARKER_EXPORT: &str = "livemall_abi_v1";
/// Export holding the plug-in's linear memory.
pub const MEMORY_EXPORT: &str = "memory";

/// Host functions in [`IMPORT_MODULE`]: name and (params, results) as wasm types.
pub const HOST_FUNCTIONS: &[(&str, &[&str], &[&str])] = &[
    ("input_len", &[], &["i32"]),
    ("input_read", &["i32", "i32"], &["i32"]),
    ("output_write", &["i32", "i32"], &["i32"]),
    ("log", &["i32", "i32", "i32"], &["i32"]),
];

/// Status a host function returns when it succeeded.
pub const STATUS_OK: i32 = 0;
/// `output_write`: the output is larger than the output limit.
pub const STATUS_OUTPUT_TOO_LARGE: i32 = -1;
/// `log`: the per-call log budget is spent; the line was dropped.
pub const STATUS_LOG_FULL: i32 = -2;
/// A pointer/length pair lies outside the guest's memory.
pub const STATUS_OUT_OF_BOUNDS: i32 = -3;

/// Every hook of ABI v1. A plug-in handles a hook by exporting a function
/// with the hook's name, type `() -> i32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Hook {
    /// Synchronous, during pricing and checkout.
    #[serde(rename = "cart.price")]
    CartPrice,
    /// An order was committed.
    #[serde(rename = "order.created")]
    OrderCreated,
    /// An order was paid.
    #[serde(rename = "order.paid")]
    OrderPaid,
    /// An order was cancelled (its claims are already released).
    #[serde(rename = "order.cancelled")]
    OrderCancelled,
    /// An order was refunded.
    #[serde(rename = "order.refunded")]
    OrderRefunded,
    /// A stream went live.
    #[serde(rename = "stream.started")]
    StreamStarted,
    /// A stream ended.
    #[serde(rename = "stream.ended")]
    StreamEnded,
    /// A product was pinned in a live stream.
    #[serde(rename = "stream.product_pinned")]
    StreamProductPinned,
    /// A product was unpinned.
    #[serde(rename = "stream.product_unpinned")]
    StreamProductUnpinned,
    /// The viewer count of a stream changed.
    #[serde(rename = "stream.viewers")]
    StreamViewers,
    /// A viewer commented.
    #[serde(rename = "stream.comment")]
    StreamComment,
    /// A timer the plug-in set came due.
    #[serde(rename = "timer.fired")]
    TimerFired,
}

impl Hook {
    /// All hooks, in documentation order.
    pub const ALL: [Hook; 12] = [
        Hook::CartPrice,
        Hook::OrderCreated,
        Hook::OrderPaid,
        Hook::OrderCancelled,
        Hook::OrderRefunded,
        Hook::StreamStarted,
        Hook::StreamEnded,
        Hook::StreamProductPinned,
        Hook::StreamProductUnpinned,
        Hook::StreamViewers,
        Hook::StreamComment,
        Hook::TimerFired,
    ];

    /// The hook's name, which is also its export name.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::CartPrice => "cart.price",
            Hook::OrderCreated => "order.created",
            Hook::OrderPaid => "order.paid",
            Hook::OrderCancelled => "order.cancelled",
            Hook::OrderRefunded => "order.refunded",
            Hook::StreamStarted => "stream.started",
            Hook::StreamEnded => "stream.ended",
            Hook::StreamProductPinned => "stream.product_pinned",
            Hook::StreamProductUnpinned => "stream.product_unpinned",
            Hook::StreamViewers => "stream.viewers",
            Hook::StreamComment => "stream.comment",
            Hook::TimerFired => "timer.fired",
        }
    }

    /// Parses a hook name.
    pub fn parse(name: &str) -> Option<Hook> {
        Hook::ALL.iter().copied().find(|h| h.as_str() == name)
    }

    /// Synchronous hooks run inside a request and may not broadcast or set timers.
    pub fn is_sync(self) -> bool {
        matches!(self, Hook::CartPrice)
    }
}

impl core::fmt::Display for Hook {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The input envelope: everything a call may depend on. `E` is the hook's event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Input<E> {
    /// Always [`ABI_VERSION`].
    pub abi: u32,
    /// The hook being called.
    pub hook: Hook,
    /// Unique id of an async event, stable across retries (absent for `cart.price`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Current time, Unix milliseconds. The only clock a plug-in has.
    pub now_ms: i64,
    /// The store the install belongs to.
    pub store: StoreInfo,
    /// The install being called and its configuration.
    pub install: InstallInfo,
    /// The install's counters: every install-wide counter, and the current
    /// customer's per-customer counters.
    #[serde(default)]
    pub counters: Vec<Counter>,
    /// The hook's event.
    pub event: E,
}

/// The store a call runs for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Store id (UUID).
    pub id: String,
    /// ISO 4217 currency of the store's prices.
    pub currency: String,
    /// IANA time zone, for plug-ins that show local times.
    pub time_zone: String,
}

/// The install a call runs for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallInfo {
    /// Install id (UUID).
    pub id: String,
    /// The merchant's configuration, already validated against the plug-in's schema.
    #[serde(default)]
    pub config: Value,
}

/// Who a counter is kept for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CounterScope {
    /// One counter for the whole install.
    Install,
    /// One counter per customer identity.
    Customer,
}

/// The current value of a bounded counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// The plug-in's key, e.g. `coupon:SPRING`.
    pub key: String,
    /// Install-wide or per customer.
    pub scope: CounterScope,
    /// Units claimed by orders that were not cancelled.
    pub used: u64,
}

/// A shopper's stable identity: the customer id, else the normalised email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// Customer id when the shopper is a customer of the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Stable key used for per-customer counters.
    pub key: String,
}

/// A stream as plug-ins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Stream id (UUID).
    pub id: String,
    /// `scheduled`, `live` or `ended`.
    pub status: String,
    /// Products pinned right now, in order.
    #[serde(default)]
    pub pinned_product_ids: Vec<String>,
    /// When each pinned product was last pinned, in the same order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pins: Vec<StreamPin>,
}

/// A pinned product and since when it is pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPin {
    /// Product id (UUID).
    pub product_id: String,
    /// When it was last pinned, Unix milliseconds.
    pub pinned_at_ms: i64,
}

impl StreamInfo {
    /// When `product_id` was last pinned, if it is pinned now.
    pub fn pinned_at_ms(&self, product_id: &str) -> Option<i64> {
        self.pins
            .iter()
            .find(|p| p.product_id == product_id)
            .map(|p| p.pinned_at_ms)
    }
}

/// One cart line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// Product id (UUID).
    pub product_id: String,
    /// Variant id (UUID).
    pub variant_id: String,
    /// Variant SKU.
    pub sku: String,
    /// Product title.
    pub title: String,
    /// Units, at least 1.
    pub quantity: u32,
    /// Catalogue price of one unit, minor units.
    pub unit_price: i64,
    /// Product tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

impl CartLine {
    /// `unit_price * quantity`.
    pub fn total(&self) -> i64 {
        self.unit_price.saturating_mul(i64::from(self.quantity))
    }
}

/// The `cart.price` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines in the shopper's order; adjustments refer to them by index.
    pub lines: Vec<CartLine>,
    /// Sum of the line totals before adjustments.
    pub subtotal: i64,
    /// Codes the shopper entered, as typed.
    #[serde(default)]
    pub codes: Vec<String>,
    /// The shopper, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The stream the shopper orders from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamInfo>,
    /// `true` at checkout (claims will be applied), `false` for a price quote.
    #[serde(default)]
    pub checkout: bool,
}

/// An adjustment as it was applied to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedAdjustment {
    /// Install that made it.
    pub install_id: String,
    /// Line index, or none for the order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Signed amount in minor units (negative is a discount).
    pub amount: i64,
    /// Label shown to the shopper.
    pub label: String,
    /// Code that produced it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// An order as plug-ins see it in `order.*` events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Order id (UUID).
    pub id: String,
    /// `pending_payment`, `paid`, `fulfilled`, `cancelled` or `refunded`.
    pub status: String,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines as ordered.
    pub lines: Vec<CartLine>,
    /// Sum of line totals before adjustments.
    pub subtotal: i64,
    /// Sum of adjustments (zero or negative).
    pub adjustments_total: i64,
    /// What the shopper pays.
    pub total: i64,
    /// The shopper.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Stream the order was placed from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    /// Codes entered at checkout.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Adjustments applied, from every install.
    #[serde(default)]
    pub adjustments: Vec<AppliedAdjustment>,
}

/// `order.created`, `order.paid`, `order.cancelled`, `order.refunded`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// The order after the change.
    pub order: Order,
}

/// `stream.started`, `stream.ended`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEvent {
    /// The stream after the change.
    pub stream: StreamInfo,
}

/// `stream.product_pinned`, `stream.product_unpinned`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinEvent {
    /// The stream after the change.
    pub stream: StreamInfo,
    /// The product pinned or unpinned.
    pub product_id: String,
}

/// `stream.viewers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewersEvent {
    /// The stream.
    pub stream: StreamInfo,
    /// Viewers right now.
    pub viewers: u64,
}

/// `stream.comment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentEvent {
    /// The stream.
    pub stream: StreamInfo,
    /// The commenter's handle.
    pub author: String,
    /// The comment.
    pub text: String,
}

/// `timer.fired`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimerEvent {
    /// The key the plug-in gave the timer.
    pub key: String,
    /// When it was due, Unix milliseconds.
    pub at_ms: i64,
    /// The payload the plug-in stored with it.
    #[serde(default)]
    pub payload: Value,
}

/// What a plug-in returns. Every field may be omitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Effects {
    /// Price adjustments (`cart.price` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<Adjustment>,
    /// Refuse the order (`cart.price` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject: Option<Rejection>,
    /// Claims on bounded counters, applied with the order (`cart.price` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
    /// Give back units of counters (async hooks only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<Release>,
    /// Messages to a stream's live feed (async hooks only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub broadcasts: Vec<Broadcast>,
    /// Timers to set or replace (async hooks only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timers: Vec<Timer>,
    /// Keys of timers to cancel (async hooks only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cancel_timers: Vec<String>,
}

impl Effects {
    /// `true` when the plug-in asks for nothing.
    pub fn is_empty(&self) -> bool {
        self == &Effects::default()
    }
}

/// A price adjustment on one line or on the whole order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// Index into `cart.lines`; absent for an order-level adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Signed amount in minor units; a discount is negative.
    pub amount: i64,
    /// Shown to the shopper, e.g. "SPRING: 10% off".
    pub label: String,
    /// The code that produced it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Discount class used by the stacking rules, e.g. `coupon`, `flash_deal`, `live_price`.
    #[serde(default = "default_class", skip_serializing_if = "is_default_class")]
    pub class: String,
    /// Lower runs first (default 100).
    #[serde(default = "default_priority", skip_serializing_if = "is_default_priority")]
    pub priority: i32,
    /// When applied, no other adjustment applies to the same target.
    #[serde(default, skip_serializing_if = "is_false")]
    pub exclusive: bool,
    /// Classes this adjustment may stack with; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub combines_with: Vec<String>,
    /// The price holds for orders placed before this instant (Unix
    /// milliseconds): checkout does not commit it at or after that time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until_ms: Option<i64>,
}

fn default_class() -> String {
    "discount".to_string()
}

fn default_priority() -> i32 {
    100
}

// Defaults are left out of the JSON: less for the guest to write and the host to read.
fn is_default_class(class: &str) -> bool {
    class == "discount"
}

fn is_default_priority(priority: &i32) -> bool {
    *priority == 100
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// The order is refused with this message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Stable code, e.g. `coupon_expired`.
    pub code: String,
    /// Shown to the shopper.
    pub message: String,
}

/// Take `amount` units of a bounded counter with the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Counter key, e.g. `coupon:SPRING`.
    pub key: String,
    /// Install-wide or per customer.
    #[serde(default = "default_scope")]
    pub scope: CounterScope,
    /// Units to take, at least 1.
    pub amount: u64,
    /// The counter may never exceed this.
    pub limit: u64,
    /// Shown to the shopper when the limit would be passed.
    pub message: String,
}

fn default_scope() -> CounterScope {
    CounterScope::Install
}

/// Give back units of a counter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Release {
    /// Counter key.
    pub key: String,
    /// Install-wide or per customer (the event's customer).
    #[serde(default = "default_scope")]
    pub scope: CounterScope,
    /// Units to give back.
    pub amount: u64,
}

/// A message to the viewers of a stream's live feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Broadcast {
    /// Target stream; defaults to the event's stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    /// Event type on the feed, e.g. `countdown`.
    pub kind: String,
    /// Free-form JSON for the viewers' player.
    #[serde(default)]
    pub data: Value,
}

/// A timer that comes back as `timer.fired`; the same key replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Timer {
    /// The plug-in's key.
    pub key: String,
    /// When to fire, Unix milliseconds.
    pub at_ms: i64,
    /// Returned unchanged in `timer.fired`.
    #[serde(default)]
    pub payload: Value,
}

/// What a hook that returned a non-zero status may write as output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuestError {
    /// Why the plug-in failed.
    pub message: String,
}

/// Log levels for the `log` host function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    /// 0
    Debug,
    /// 1
    Info,
    /// 2
    Warn,
    /// 3
    Error,
}

impl LogLevel {
    /// Maps the wasm `level` argument; unknown values are `Info`.
    pub fn from_i32(level: i32) -> LogLevel {
        match level {
            0 => LogLevel::Debug,
            2 => LogLevel::Warn,
            3 => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}
