//! The platform bills its tenants: plans with limits, subscriptions with
//! prorated changes, plug-in rentals and metered usage, invoices made by a
//! billing run, payments through a gateway (manual or Stripe), dunning.

pub mod account;
pub mod admin_api;
pub mod calc;
pub mod cli;
pub mod dunning;
pub mod gateway;
pub mod invoices;
pub mod ledger;
pub mod lifecycle;
pub mod limits;
pub mod period;
pub mod plans;
pub mod rentals;
pub mod reports;
pub mod run;
pub mod subscription_api;
pub mod usage;
pub mod webhook;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use gateway::Gateway;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct BillingSettings {
    /// The plug-in author's share of a rental or usage line, in percent.
    pub author_share_percent: u32,
    /// Days after the first failed payment on which it is tried again.
    pub retry_days: Vec<i64>,
    /// Days a subscription may stay past due before the tenant is suspended.
    pub grace_days: i64,
    pub stripe: StripeSettings,
}

/// Stripe is used when `secret_key` is set; otherwise invoices are paid by hand.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct StripeSettings {
    pub secret_key: String,
    /// Empty means Stripe's own API.
    pub api_base: String,
    /// The endpoint secret (`whsec_...`) that signs webhook calls.
    pub webhook_secret: String,
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            author_share_percent: 80,
            retry_days: vec![1, 3, 5],
            grace_days: 7,
            stripe: StripeSettings::default(),
        }
    }
}

/// The payment gateway this process uses, chosen once from the settings.
#[derive(Clone)]
pub struct Billing {
    pub gateway: Arc<dyn Gateway>,
}

impl Billing {
    pub fn from_settings(settings: &BillingSettings) -> anyhow::Result<Billing> {
        let gateway: Arc<dyn Gateway> = if settings.stripe.secret_key.is_empty() {
            Arc::new(gateway::manual::Manual)
        } else {
            Arc::new(gateway::stripe::StripeGateway::new(&settings.stripe)?)
        };
        Ok(Billing { gateway })
    }
}

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(plans::create)
        .service(plans::list)
        .service(plans::get)
        .service(plans::update)
        .service(plans::archive)
        .service(plans::public_list)
        .service(rentals::set_price)
        .service(subscription_api::get)
        .service(subscription_api::choose)
        .service(subscription_api::cancel)
        .service(subscription_api::resume)
        .service(subscription_api::payment_method)
        .service(usage::current)
        .service(usage::record_external)
        .service(invoices::list)
        .service(invoices::get)
        .service(admin_api::run_billing)
        .service(admin_api::list_invoices)
        .service(admin_api::get_invoice)
        .service(admin_api::pay)
        .service(admin_api::void)
        .service(reports::summary)
        .service(ledger::list)
        .service(webhook::receive);
}
