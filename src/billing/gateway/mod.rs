//! How invoices get paid. The manual gateway (the default, no keys) leaves
//! them for the platform owner to mark paid; the Stripe gateway charges the
//! tenant's saved card.

pub mod manual;
pub mod stripe;

use futures_util::future::BoxFuture;
use uuid::Uuid;

/// One attempt to collect an open invoice.
#[derive(Debug, Clone)]
pub struct Charge {
    pub tenant_id: Uuid,
    pub invoice_id: Uuid,
    pub number: String,
    pub amount: i64,
    pub currency: String,
    /// 1 for the first attempt; part of the gateway's idempotency key.
    pub attempt: i32,
    pub customer: Option<String>,
    pub payment_method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Collection {
    Paid {
        reference: String,
    },
    /// Nothing to do now: paid by hand, or the gateway will call back.
    Pending,
    Failed {
        reason: String,
    },
}

pub trait Gateway: Send + Sync {
    fn name(&self) -> &'static str;
    /// Whether tenants save a card with this gateway.
    fn takes_cards(&self) -> bool;
    /// The gateway's customer for a tenant.
    fn create_customer<'a>(&'a self, tenant_id: Uuid, name: &'a str) -> BoxFuture<'a, anyhow::Result<String>>;
    /// Saves a payment method on the customer; `Err` is the gateway's reason.
    fn attach<'a>(&'a self, customer: &'a str, payment_method: &'a str) -> BoxFuture<'a, Result<(), String>>;
    /// Tries to collect; `Err` is a failure to reach the gateway (try again later).
    fn collect<'a>(&'a self, charge: &'a Charge) -> BoxFuture<'a, anyhow::Result<Collection>>;
}
