//! Money is integer minor units plus an ISO 4217 currency, never a float.

pub mod currency;

pub use currency::Currency;
