//! livemall: a multi-tenant backend for live-streaming malls, with merchant
//! plug-ins that run as sandboxed WebAssembly.

pub mod admin;
pub mod auth;
pub mod billing;
pub mod catalog;
pub mod db;
pub mod demo;
pub mod entities;
pub mod error;
pub mod events;
pub mod health;
pub mod http;
pub mod live;
pub mod marketplace;
pub mod money;
pub mod openapi;
pub mod orders;
pub mod plugin_host;
pub mod scaffold;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tenancy;

/// The server's allocator. Requests allocate and free many small buffers
/// (JSON, SQL text, rows) on several threads; see "Another allocator" under
/// Benchmarks in the README for what it changed.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
