//! Money arithmetic in integer minor units (cents for EUR, yen for JPY).
//! Never floats: every result is exact and the same on every machine.
//!
//! Rounding rule: results are rounded to the nearest minor unit, halves away
//! from zero (so 12.5 cents becomes 13 and -12.5 becomes -13). Results that do
//! not fit in an `i64` saturate.
//!
//! ```
//! use livemall_sdk::money;
//!
//! assert_eq!(money::percent_of(1999, 10), 200);      // 199.9 -> 200
//! assert_eq!(money::percent_of(1005, 50), 503);      // 502.5 -> 503
//! assert_eq!(money::basis_points_of(10_000, 125), 125); // 1.25%
//! assert_eq!(money::discount_percent(1999, 10), -200);
//! ```

/// `percent`% of `amount`, rounded half away from zero.
pub fn percent_of(amount: i64, percent: u32) -> i64 {
    ratio(amount, i128::from(percent), 100)
}

/// `bps` basis points (hundredths of a percent) of `amount`, rounded half away from zero.
pub fn basis_points_of(amount: i64, bps: u32) -> i64 {
    ratio(amount, i128::from(bps), 10_000)
}

/// A discount of `percent`% on `amount`, as a (negative) adjustment amount.
pub fn discount_percent(amount: i64, percent: u32) -> i64 {
    percent_of(amount, percent).saturating_neg()
}

/// `amount * numerator / denominator`, rounded half away from zero.
/// `denominator` must not be zero (the result is 0 if it is).
pub fn ratio(amount: i64, numerator: i128, denominator: i128) -> i64 {
    if denominator == 0 {
        return 0;
    }
    // i128 holds any i64 times any u32 without overflow.
    let product = i128::from(amount) * numerator;
    let (q, r) = (product / denominator, product % denominator);
    let rounded = if 2 * r.abs() >= denominator.abs() {
        if (product < 0) != (denominator < 0) {
            q - 1
        } else {
            q + 1
        }
    } else {
        q
    };
    i64::try_from(rounded).unwrap_or(if rounded < 0 { i64::MIN } else { i64::MAX })
}

/// The smaller of `discount` (negative) and what is left of `total`, so a
/// discount never makes a price negative: `cap_discount(-700, 500) == -500`.
pub fn cap_discount(discount: i64, total: i64) -> i64 {
    discount.max(total.saturating_neg().min(0))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(percent_of(5, 50), 3);
        assert_eq!(percent_of(-5, 50), -3);
        assert_eq!(percent_of(4, 50), 2);
        assert_eq!(percent_of(1, 49), 0);
        assert_eq!(percent_of(-1, 50), -1);
        assert_eq!(ratio(7, 1, -2), -4);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        assert_eq!(percent_of(i64::MAX, 200), i64::MAX);
        assert_eq!(percent_of(i64::MIN, 200), i64::MIN);
        assert_eq!(discount_percent(i64::MIN, 100), i64::MAX);
    }

    #[test]
    fn caps_discounts_at_the_total() {
        assert_eq!(cap_discount(-700, 500), -500);
        assert_eq!(cap_discount(-300, 500), -300);
        assert_eq!(cap_discount(-300, 0), 0);
    }
}
