//! livemall: a multi-tenant backend for live-streaming malls.

pub mod plugin_host;
pub mod scaffold;
