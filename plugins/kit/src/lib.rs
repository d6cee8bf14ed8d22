//! What the bundled plug-ins share: RFC 3339 times, time windows and the
//! products / variants / tags a rule is limited to. Plain functions of their
//! inputs, like the plug-ins themselves.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]

use livemall_sdk::prelude::*;

/// Unix milliseconds of an RFC 3339 time such as `2026-03-01T09:00:00Z` or
/// `2026-03-01T10:00:00+01:00` (seconds and fractions optional). `None` when
/// it does not parse.
pub fn parse_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        core::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: u8| b.get(at).copied() == Some(c);
    if !(sep(4, b'-')
        && sep(7, b'-')
        && (sep(10, b'T') || sep(10, b't') || sep(10, b' '))
        && sep(13, b':'))
    {
        return None;
    }
    let (year, month, day, hour, minute) =
        (num(0, 4)?, num(5, 2)?, num(8, 2)?, num(11, 2)?, num(14, 2)?);
    let mut at = 16;
    let mut second = 0;
    if sep(at, b':') {
        second = num(at + 1, 2)?;
        at += 3;
    }
    let mut millis = 0;
    if sep(at, b'.') {
        at += 1;
        let start = at;
        while b.get(at).map_or(false, u8::is_ascii_digit) {
            at += 1;
        }
        let digits = &text[start..at];
        if digits.is_empty() {
            return None;
        }
        let padded = format!("{:0<3}", &digits[..digits.len().min(3)]);
        millis = padded.parse::<i64>().ok()?;
    }
    let offset_minutes = match b.get(at).copied() {
        Some(b'Z') | Some(b'z') if at + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if at + 6 == b.len() && sep(at + 3, b':') => {
            let minutes = num(at + 1, 2)? * 60 + num(at + 4, 2)?;
            if sign == b'+' {
                minutes
            } else {
                -minutes
            }
        }
        _ => return None,
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1_000 + millis)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Minor units as the shopper reads them: `1250, "EUR"` is `12.50 EUR`,
/// `500, "JPY"` is `500 JPY` (ISO 4217 exponents; 2 for unlisted currencies).
pub fn format_money(amount: i64, currency: &str) -> String {
    let decimals: u32 = match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    };
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    if decimals == 0 {
        return format!("{sign}{abs} {currency}");
    }
    let unit = 10u64.pow(decimals);
    let width = decimals as usize;
    format!("{sign}{}.{:0width$} {currency}", abs / unit, abs % unit)
}

/// Where `now_ms` stands against an optional start and end (RFC 3339).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    /// Before `starts_at`.
    NotStarted,
    /// Between the two (the start included, the end excluded).
    Open,
    /// At or after `ends_at`.
    Ended,
}

/// A time window from the configuration; either bound may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Window {
    /// Start, RFC 3339; absent = already started.
    pub starts_at: Option<String>,
    /// End, RFC 3339; absent = never ends.
    pub ends_at: Option<String>,
}

impl Window {
    /// The end in Unix milliseconds, when there is one and it parses.
    pub fn end_ms(&self) -> Option<i64> {
        self.ends_at.as_deref().and_then(parse_time)
    }

    /// The window's state at `now_ms`; a bound that does not parse is an error.
    pub fn at(&self, now_ms: i64) -> Result<WindowState, Error> {
        let bound = |b: &Option<String>, field: &str| -> Result<Option<i64>, Error> {
            match b {
                None => Ok(None),
                Some(t) => parse_time(t).map(Some).ok_or_else(|| {
                    Error::new(format!(
                        "invalid configuration: {field} `{t}` is not an RFC 3339 time"
                    ))
                }),
            }
        };
        let (start, end) = (
            bound(&self.starts_at, "starts_at")?,
            bound(&self.ends_at, "ends_at")?,
        );
        Ok(match (start, end) {
            (Some(s), _) if now_ms < s => WindowState::NotStarted,
            (_, Some(e)) if now_ms >= e => WindowState::Ended,
            _ => WindowState::Open,
        })
    }
}

/// The products, variants (by id or SKU) and tags a rule is limited to. An
/// empty scope matches every line; otherwise a line matches when any list
/// names it. Tags compare case-insensitively (the catalogue stores them in
/// lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Product ids.
    pub products: Vec<String>,
    /// Variant ids or SKUs.
    pub variants: Vec<String>,
    /// Product tags.
    pub tags: Vec<String>,
}

impl Scope {
    /// `true` when nothing limits the scope.
    pub fn is_everything(&self) -> bool {
        self.products.is_empty() && self.variants.is_empty() && self.tags.is_empty()
    }

    /// Whether `line` is in scope.
    pub fn matches(&self, line: &CartLine) -> bool {
        self.is_everything()
            || self
                .products
                .iter()
                .any(|p| p.eq_ignore_ascii_case(&line.product_id))
            || self
                .variants
                .iter()
                .any(|v| v.eq_ignore_ascii_case(&line.variant_id) || *v == line.sku)
            || self
                .tags
                .iter()
                .any(|t| line.tags.iter().any(|lt| lt.eq_ignore_ascii_case(t.trim())))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_rfc3339_times_with_offsets_and_fractions() {
        assert_eq!(parse_time("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Some(1_767_225_600_000));
        assert_eq!(
            parse_time("2026-01-01T01:00:00+01:00"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_time("2025-12-31T19:00-05:00"),
            Some(1_767_225_600_000)
        );
        assert_eq!(
            parse_time("2026-01-01T00:00:00.25Z"),
            Some(1_767_225_600_250)
        );
        assert_eq!(parse_time("2024-02-29T12:00:00Z"), Some(1_709_208_000_000));
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-01-01T00:00:00",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:00:00Zjunk",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn money_is_formatted_with_the_currency_exponent() {
        assert_eq!(format_money(1250, "EUR"), "12.50 EUR");
        assert_eq!(format_money(-5, "USD"), "-0.05 USD");
        assert_eq!(format_money(500, "JPY"), "500 JPY");
        assert_eq!(format_money(1234, "KWD"), "1.234 KWD");
    }

    #[test]
    fn a_window_includes_its_start_and_excludes_its_end() {
        let w = Window {
            starts_at: Some("2026-01-01T00:00:00Z".into()),
            ends_at: Some("2026-01-02T00:00:00Z".into()),
        };
        let start = 1_767_225_600_000;
        assert_eq!(w.at(start - 1).unwrap(), WindowState::NotStarted);
        assert_eq!(w.at(start).unwrap(), WindowState::Open);
        assert_eq!(w.at(start + 86_400_000 - 1).unwrap(), WindowState::Open);
        assert_eq!(w.at(start + 86_400_000).unwrap(), WindowState::Ended);
        assert_eq!(Window::default().at(0).unwrap(), WindowState::Open);
        let bad = Window {
            starts_at: Some("soon".into()),
            ends_at: None,
        };
        assert!(bad.at(0).unwrap_err().message().contains("starts_at"));
    }

    #[test]
    fn a_scope_matches_products_variants_skus_and_tags() {
        let line = CartLine {
            product_id: "p-1".into(),
            variant_id: "v-1".into(),
            sku: "TEE-M".into(),
            title: "Tee".into(),
            quantity: 1,
            unit_price: 100,
            tags: vec!["summer".into()],
        };
        assert!(Scope::default().matches(&line));
        let by = |products: &[&str], variants: &[&str], tags: &[&str]| Scope {
            products: products.iter().map(|s| s.to_string()).collect(),
            variants: variants.iter().map(|s| s.to_string()).collect(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
        };
        assert!(by(&["p-1"], &[], &[]).matches(&line));
        assert!(by(&[], &["TEE-M"], &[]).matches(&line));
        assert!(by(&[], &["v-1"], &[]).matches(&line));
        assert!(by(&[], &[], &["Summer"]).matches(&line));
        assert!(!by(&["p-2"], &["tee-m"], &["winter"]).matches(&line));
    }
}
