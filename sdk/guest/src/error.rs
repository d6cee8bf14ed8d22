//! The error a handler returns to fail a call.

use core::fmt;

/// Why a handler failed. The host records the call as `guest_error` with this
/// message, and for `cart.price` skips the plug-in (checkout goes on).
///
/// Any standard error converts into it, so `?` works on serde, parsing and
/// configuration errors:
///
/// ```
/// use livemall_sdk::Error;
///
/// fn parse_percent(text: &str) -> Result<u32, Error> {
///     let percent: u32 = text.parse()?;
///     if percent > 100 {
///         return Err(Error::new(format!("percent {percent} is above 100")));
///     }
///     Ok(percent)
/// }
///
/// assert_eq!(parse_percent("15").unwrap(), 15);
/// assert_eq!(parse_percent("150").unwrap_err().message(), "percent 150 is above 100");
/// assert!(parse_percent("x").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Error {
        Error {
            message: message.into(),
        }
    }

    /// The message the host will record.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// `Error` deliberately does not implement `std::error::Error`: that keeps this
// blanket conversion coherent (the same trick as `anyhow::Error`).
impl<E: std::error::Error> From<E> for Error {
    fn from(error: E) -> Error {
        Error::new(error.to_string())
    }
}
