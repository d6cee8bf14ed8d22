//! Structured logs: JSON lines (or human-readable) with the request id of the
//! enclosing request span on every line.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::settings::LogSettings;

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if settings.format == "json" {
        registry
            .with(fmt::layer().json().with_current_span(true).with_span_list(false))
            .try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
}
