//! Money is integer minor units plus an ISO 4217 currency, never a float.

pub mod currency;

pub use currency::Currency;

use serde::Serialize;
use utoipa::ToSchema;

/// An amount as the API shows it: `{"amount": 1999, "currency": "EUR"}` is 19.99 EUR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Money {
    /// Minor units of `currency` (cents for EUR, yen for JPY).
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
}

impl Money {
    pub fn new(amount: i64, currency: &str) -> Money {
        Money {
            amount,
            currency: currency.to_string(),
        }
    }
}
