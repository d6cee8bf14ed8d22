//! Stripe through async-stripe. Each invoice is collected with a
//! PaymentIntent confirmed off-session on the tenant's saved card: our
//! invoice (lines, proration, number) stays the one record, Stripe only
//! moves the money. Answers are read raw where the typed models are
//! stricter than what some Stripe-compatible servers send.

use std::collections::BTreeMap;

use anyhow::Context;
use futures_util::future::{BoxFuture, FutureExt};
use miniserde::json::Value;
use serde::Serialize;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError};
use stripe_client_core::{RequestBuilder, StripeMethod};
use stripe_core::customer::CreateCustomer;
use stripe_payment::payment_method::AttachPaymentMethod;
use uuid::Uuid;

use super::{Charge, Collection, Gateway};
use crate::billing::StripeSettings;

pub struct StripeGateway {
    client: Client,
}

impl StripeGateway {
    pub fn new(settings: &StripeSettings) -> anyhow::Result<StripeGateway> {
        let mut builder = ClientBuilder::new(settings.secret_key.clone());
        if !settings.api_base.is_empty() {
            // The client appends `v1/...` to the base.
            let base = format!("{}/", settings.api_base.trim_end_matches('/'));
            builder = builder.url(base);
        }
        let client = builder
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .context("building the Stripe client")?;
        Ok(StripeGateway { client })
    }
}

/// The form of `POST /v1/payment_intents` (no `description`: localstripe refuses it;
/// the invoice number goes in the metadata).
#[derive(Serialize)]
struct IntentForm<'a> {
    amount: i64,
    currency: String,
    customer: &'a str,
    payment_method: &'a str,
    confirm: bool,
    off_session: bool,
    metadata: BTreeMap<&'static str, String>,
}

fn field<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
    match value {
        Value::Object(map) => match map.get(name) {
            Some(Value::String(s)) => Some(s.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn reason(err: &StripeError) -> Option<String> {
    match err {
        StripeError::Stripe(api, status) if (400..500).contains(status) => Some(
            api.message
                .clone()
                .or_else(|| api.decline_code.clone())
                .unwrap_or_else(|| format!("refused by Stripe ({status})")),
        ),
        _ => None,
    }
}

impl StripeGateway {
    async fn charge(&self, charge: &Charge) -> anyhow::Result<Collection> {
        let (Some(customer), Some(method)) = (&charge.customer, &charge.payment_method) else {
            return Ok(Collection::Failed {
                reason: "no payment method saved".into(),
            });
        };
        let metadata = BTreeMap::from([
            ("invoice_id", charge.invoice_id.to_string()),
            ("tenant_id", charge.tenant_id.to_string()),
            ("number", charge.number.clone()),
        ]);
        let form = IntentForm {
            amount: charge.amount,
            currency: charge.currency.to_lowercase(),
            customer,
            payment_method: method,
            confirm: true,
            off_session: true,
            metadata,
        };
        let key = IdempotencyKey::new(format!("{}-{}", charge.invoice_id, charge.attempt))
            .map_err(|e| anyhow::anyhow!("idempotency key: {e:?}"))?;
        let answer = RequestBuilder::new(StripeMethod::Post, "/payment_intents")
            .form(&form)
            .customize::<Value>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(&self.client)
            .await;
        match answer {
            Ok(intent) => {
                let id = field(&intent, "id").unwrap_or_default().to_string();
                Ok(match field(&intent, "status") {
                    Some("succeeded") => Collection::Paid { reference: id },
                    Some("processing") => Collection::Pending,
                    other => Collection::Failed {
                        reason: format!("payment {}", other.unwrap_or("not confirmed")),
                    },
                })
            }
            Err(err) => match reason(&err) {
                Some(reason) => Ok(Collection::Failed { reason }),
                None => Err(anyhow::Error::new(err).context("creating a PaymentIntent")),
            },
        }
    }
}

impl Gateway for StripeGateway {
    fn name(&self) -> &'static str {
        "stripe"
    }
    fn takes_cards(&self) -> bool {
        true
    }
    fn create_customer<'a>(&'a self, tenant_id: Uuid, name: &'a str) -> BoxFuture<'a, anyhow::Result<String>> {
        async move {
            let customer = CreateCustomer::new()
                .name(name)
                .metadata(std::collections::HashMap::from([(
                    "tenant_id".to_string(),
                    tenant_id.to_string(),
                )]))
                .send(&self.client)
                .await
                .context("creating a Stripe customer")?;
            Ok(customer.id.as_str().to_string())
        }
        .boxed()
    }
    fn attach<'a>(&'a self, customer: &'a str, payment_method: &'a str) -> BoxFuture<'a, Result<(), String>> {
        async move {
            AttachPaymentMethod::new(payment_method)
                .customer(customer)
                .send(&self.client)
                .await
                .map(|_| ())
                .map_err(|e| reason(&e).unwrap_or_else(|| "the payment gateway could not be reached".into()))
        }
        .boxed()
    }
    fn collect<'a>(&'a self, charge: &'a Charge) -> BoxFuture<'a, anyhow::Result<Collection>> {
        self.charge(charge).boxed()
    }
}
