//! livemall: a multi-tenant backend for live-streaming malls.
