//! Default limits of one plug-in call. The host enforces them, the local
//! runner enforces the same numbers, and a plan may raise them.

/// Instructions (wasmtime fuel units) per call. A 10-line cart costs ~70,000.
pub const FUEL: u64 = 10_000_000;
/// Wall-clock budget per call in milliseconds (epoch interruption).
pub const DEADLINE_MS: u64 = 50;
/// Linear memory a guest may grow to, in bytes (16 MiB).
pub const MEMORY_BYTES: usize = 16 << 20;
/// Largest module accepted at upload, in bytes (1 MiB).
pub const MODULE_BYTES: usize = 1 << 20;
/// Largest input envelope, in bytes (256 KiB).
pub const INPUT_BYTES: usize = 256 << 10;
/// Largest output document, in bytes (64 KiB).
pub const OUTPUT_BYTES: usize = 64 << 10;
/// Log bytes kept per call (4 KiB); later lines are dropped.
pub const LOG_BYTES: usize = 4 << 10;
/// Table elements a guest may have.
pub const TABLE_ELEMENTS: usize = 10_000;
