//! Log lines, kept with the call for the merchant and the author to read.
//!
//! A call may log [`LOG_BYTES`](crate::abi::limits::LOG_BYTES) bytes in all;
//! past that the host keeps the part that fits and drops the rest, so logging
//! never fails a call. Each function reports whether the whole line was kept.
//!
//! ```
//! livemall_sdk::log::info("applying 10% off");
//! livemall_sdk::log::warn(&format!("unknown code {:?}", "SPRNG"));
//! ```

use crate::abi::LogLevel;
use crate::host;

/// Logs `text` at `level`; `false` when the per-call budget cut it short.
pub fn write(level: LogLevel, text: &str) -> bool {
    host::log(level, text).is_ok()
}

/// Logs at level debug.
pub fn debug(text: &str) -> bool {
    write(LogLevel::Debug, text)
}

/// Logs at level info.
pub fn info(text: &str) -> bool {
    write(LogLevel::Info, text)
}

/// Logs at level warn.
pub fn warn(text: &str) -> bool {
    write(LogLevel::Warn, text)
}

/// Logs at level error.
pub fn error(text: &str) -> bool {
    write(LogLevel::Error, text)
}
