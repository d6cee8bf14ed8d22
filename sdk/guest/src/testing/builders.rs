//! Realistic inputs in a line or two.

use super::{run_hook, Failure};
use crate::abi::{
    Cart, CartLine, Counter, CounterScope, Customer, Effects, Hook, Input, InstallInfo, Order,
    OrderEvent, StoreInfo, StreamInfo, StreamPin, ABI_VERSION,
};
use crate::hook::Handler;
use serde_json::Value;

/// 2026-01-01T00:00:00Z, the clock every test input starts with.
pub const TEST_NOW_MS: i64 = 1_767_225_600_000;

fn test_id(kind: u32, n: usize) -> String {
    format!("00000000-0000-4000-8{kind:03}-{n:012}")
}

/// An input envelope for `hook` around `event`, with a test store (EUR,
/// Europe/Berlin), an install without configuration, the clock at
/// [`TEST_NOW_MS`] and, for async hooks, an event id.
///
/// ```
/// use livemall_sdk::abi::{Hook, StreamEvent, StreamInfo};
/// use livemall_sdk::testing;
///
/// let stream = StreamInfo { id: "s-1".into(), status: "live".into(), pinned_product_ids: vec![], pins: vec![] };
/// let input = testing::envelope(Hook::StreamStarted, StreamEvent { stream });
/// assert_eq!(input.event_id.as_deref(), Some("evt-1"));
/// ```
pub fn envelope<E>(hook: Hook, event: E) -> Input<E> {
    Input {
        abi: ABI_VERSION,
        hook,
        event_id: if hook.is_sync() {
            None
        } else {
            Some("evt-1".to_string())
        },
        now_ms: TEST_NOW_MS,
        store: StoreInfo {
            id: test_id(1, 1),
            currency: "EUR".to_string(),
            time_zone: "Europe/Berlin".to_string(),
        },
        install: InstallInfo {
            id: test_id(2, 1),
            config: Value::Null,
        },
        counters: Vec::new(),
        event,
    }
}

/// Starts a `cart.price` input: an empty EUR cart, a price quote (not checkout).
pub fn cart() -> CartBuilder {
    CartBuilder {
        input: envelope(
            Hook::CartPrice,
            Cart {
                currency: "EUR".to_string(),
                lines: Vec::new(),
                subtotal: 0,
                codes: Vec::new(),
                customer: None,
                stream: None,
                checkout: false,
            },
        ),
    }
}

/// Builds an `Input<Cart>`; the subtotal is computed from the lines.
#[derive(Debug, Clone)]
pub struct CartBuilder {
    input: Input<Cart>,
}

impl CartBuilder {
    /// Adds a line of `quantity` units of `sku` at `unit_price` minor units.
    pub fn line(self, sku: &str, quantity: u32, unit_price: i64) -> CartBuilder {
        self.tagged_line(sku, quantity, unit_price, &[])
    }

    /// Adds a line with product tags.
    pub fn tagged_line(mut self, sku: &str, quantity: u32, unit_price: i64, tags: &[&str]) -> Self {
        let n = self.input.event.lines.len() + 1;
        self.input.event.lines.push(CartLine {
            product_id: test_id(3, n),
            variant_id: test_id(4, n),
            sku: sku.to_string(),
            title: sku.to_string(),
            quantity,
            unit_price,
            tags: tags.iter().map(|t| (*t).to_string()).collect(),
        });
        self
    }

    /// Adds a code the shopper entered.
    pub fn code(mut self, code: &str) -> CartBuilder {
        self.input.event.codes.push(code.to_string());
        self
    }

    /// Sets the shopper's stable key (and customer id).
    pub fn customer(mut self, key: &str) -> CartBuilder {
        self.input.event.customer = Some(Customer {
            id: Some(key.to_string()),
            key: key.to_string(),
        });
        self
    }

    /// Orders from a live stream with these pinned products.
    pub fn stream(mut self, id: &str, pinned_product_ids: &[&str]) -> CartBuilder {
        self.input.event.stream = Some(StreamInfo {
            id: id.to_string(),
            status: "live".to_string(),
            pinned_product_ids: pinned_product_ids
                .iter()
                .map(|p| (*p).to_string())
                .collect(),
            pins: Vec::new(),
        });
        self
    }

    /// Says when a pinned product of the cart's stream was pinned (call
    /// after [`CartBuilder::stream`]).
    pub fn pinned_at(mut self, product_id: &str, at_ms: i64) -> CartBuilder {
        if let Some(stream) = &mut self.input.event.stream {
            stream.pins.retain(|p| p.product_id != product_id);
            stream.pins.push(StreamPin {
                product_id: product_id.to_string(),
                pinned_at_ms: at_ms,
            });
        }
        self
    }

    /// At checkout (claims apply) rather than a price quote.
    pub fn checkout(mut self) -> CartBuilder {
        self.input.event.checkout = true;
        self
    }

    /// Sets the install's configuration.
    pub fn config(mut self, config: Value) -> CartBuilder {
        self.input.install.config = config;
        self
    }

    /// Reports `used` units of counter `key`.
    pub fn counter(mut self, key: &str, scope: CounterScope, used: u64) -> CartBuilder {
        self.input.counters.push(Counter {
            key: key.to_string(),
            scope,
            used,
        });
        self
    }

    /// Sets the clock (Unix milliseconds).
    pub fn now_ms(mut self, now_ms: i64) -> CartBuilder {
        self.input.now_ms = now_ms;
        self
    }

    /// Sets the currency of the store and the cart.
    pub fn currency(mut self, currency: &str) -> CartBuilder {
        self.input.store.currency = currency.to_string();
        self.input.event.currency = currency.to_string();
        self
    }

    /// The finished input.
    pub fn build(mut self) -> Input<Cart> {
        let cart = &mut self.input.event;
        cart.subtotal = cart
            .lines
            .iter()
            .fold(0i64, |sum, line| sum.saturating_add(line.total()));
        self.input
    }

    /// Builds the input and runs `handler` on it (see [`run_hook`]).
    pub fn run(self, handler: Handler<Cart>) -> Result<Effects, Failure> {
        run_hook(handler, &self.build())
    }

    /// An `order.*` input for an order made of this cart with no adjustments,
    /// for `hook` (e.g. `Hook::OrderPaid`).
    pub fn order_event(self, hook: Hook, order_id: &str) -> Input<OrderEvent> {
        let input = self.build();
        let cart = input.event;
        let order = Order {
            id: order_id.to_string(),
            status: match hook {
                Hook::OrderPaid => "paid",
                Hook::OrderCancelled => "cancelled",
                Hook::OrderRefunded => "refunded",
                _ => "pending_payment",
            }
            .to_string(),
            currency: cart.currency,
            subtotal: cart.subtotal,
            adjustments_total: 0,
            total: cart.subtotal,
            lines: cart.lines,
            customer: cart.customer,
            stream_id: cart.stream.map(|s| s.id),
            codes: cart.codes,
            adjustments: Vec::new(),
        };
        Input {
            hook,
            event_id: Some("evt-1".to_string()),
            event: OrderEvent { order },
            abi: input.abi,
            now_ms: input.now_ms,
            store: input.store,
            install: input.install,
            counters: input.counters,
        }
    }
}
