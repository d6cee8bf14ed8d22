//! Billing periods and proration to the second.

use chrono::{DateTime, Duration, Months, Utc};

/// A half-open span of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Period {
        Period { start, end }
    }

    /// The month that starts at `start` (31 Jan + 1 month = 28/29 Feb).
    pub fn month_from(start: DateTime<Utc>) -> Period {
        Period::new(start, add_month(start))
    }

    pub fn seconds(&self) -> i64 {
        (self.end - self.start).num_seconds().max(0)
    }

    /// The part of `[from, to)` inside this period, in seconds.
    pub fn overlap(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let a = from.max(self.start);
        let b = to.min(self.end);
        (b - a).num_seconds().max(0)
    }
}

pub fn add_month(at: DateTime<Utc>) -> DateTime<Utc> {
    at.checked_add_months(Months::new(1)).unwrap_or(at + Duration::days(30))
}

/// `price * part / whole`, rounded half up, on whole seconds: the share of a
/// price that `part` seconds of a `whole`-second period cost.
pub fn prorate(price: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 || part <= 0 {
        return 0;
    }
    ratio(price, part.min(whole), whole)
}

/// `quantity * price_per_thousand / 1000`, rounded half up.
pub fn per_thousand(quantity: i64, price_per_thousand: i64) -> i64 {
    ratio(price_per_thousand, quantity.max(0), 1000)
}

/// `value * num / den` in 128 bits, rounded half away from zero.
fn ratio(value: i64, num: i64, den: i64) -> i64 {
    let n = i128::from(value) * i128::from(num);
    let d = i128::from(den);
    let rounded = if n >= 0 {
        (2 * n + d) / (2 * d)
    } else {
        -((-2 * n + d) / (2 * d))
    };
    i64::try_from(rounded).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_a_period_costs_half_the_price_rounded_half_up() {
        assert_eq!(prorate(1000, 50, 100), 500);
        assert_eq!(prorate(999, 50, 100), 500);
        assert_eq!(prorate(1000, 0, 100), 0);
        assert_eq!(prorate(1000, 200, 100), 1000);
    }

    #[test]
    fn calls_are_priced_per_thousand() {
        assert_eq!(per_thousand(1500, 200), 300);
        assert_eq!(per_thousand(1, 200), 0);
        assert_eq!(per_thousand(3, 200), 1);
        assert_eq!(per_thousand(2_000_000, 50), 100_000);
    }

    #[test]
    fn a_month_from_the_31st_ends_at_the_end_of_february() {
        let start: DateTime<Utc> = "2026-01-31T10:00:00Z".parse().unwrap_or_default();
        assert_eq!(
            add_month(start),
            "2026-02-28T10:00:00Z".parse::<DateTime<Utc>>().unwrap_or_default()
        );
    }
}
