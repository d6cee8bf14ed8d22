//! Order statuses and the stated limits of a cart.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Lines per cart: a large basket, and a bounded number of stock updates per checkout.
pub const MAX_LINES: u64 = 100;
/// Units per line: more than any shopper buys of one item; larger asks are wholesale.
pub const MAX_QUANTITY: i64 = 999;
/// Codes per cart: a few coupons and a referral, not a dictionary attack per request.
pub const MAX_CODES: u64 = 10;
/// Characters per code, enough for any printed coupon.
pub const MAX_CODE_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Placed; stock and claims are held.
    PendingPayment,
    Paid,
    Fulfilled,
    /// Stock and claims were given back.
    Cancelled,
    /// Money returned; stock is not restocked automatically.
    Refunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        OrderStatus::PendingPayment,
        OrderStatus::Paid,
        OrderStatus::Fulfilled,
        OrderStatus::Cancelled,
        OrderStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::PendingPayment => "pending_payment",
            OrderStatus::Paid => "paid",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.iter().copied().find(|x| x.as_str() == s)
    }
}

/// Checks the codes a shopper typed: printable, 1 to 64 characters each.
pub fn validate_codes(codes: &[String]) -> Result<(), validator::ValidationError> {
    let bad = codes.iter().position(|c| {
        let chars = c.trim().chars().count();
        chars == 0 || chars > MAX_CODE_CHARS || c.chars().any(char::is_control)
    });
    match bad {
        None => Ok(()),
        Some(i) => Err(validator::ValidationError::new("codes").with_message(
            format!("code {i} must be 1 to {MAX_CODE_CHARS} characters without control characters").into(),
        )),
    }
}

/// The current time as PostgreSQL keeps it (microseconds), so the answer
/// given when an order changes equals every later read of it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 6)
}
