//! The one wasmtime `Engine` configuration, and the epoch ticker that drives
//! call deadlines. Every tuning number says why it is what it is.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

use livemall_abi::limits as abi;

/// Process-level settings of the plug-in host (not per call: see `Limits`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostConfig {
    /// Instances that can exist at once (pool slots). A call needs one slot.
    pub slots: u32,
    /// The most linear memory any plan may grant, in bytes; sizes each pool slot.
    pub max_memory_bytes: usize,
    /// The most table elements any plan may grant.
    pub max_table_elements: usize,
    /// Where precompiled artifacts are kept; `None` compiles on every load.
    pub cache_dir: Option<PathBuf>,
    /// Period of the epoch ticker; deadlines are counted in these ticks.
    pub epoch_tick: Duration,
}

impl HostConfig {
    /// Settings for a server process.
    pub fn production(cache_dir: Option<PathBuf>) -> Self {
        HostConfig {
            // Calls made through `call_async` wait for a slot, so this bounds
            // the calls in flight (and the memory they may take) at once.
            slots: 1_000,
            // Plans may raise the 16 MiB default up to 4x; each slot reserves
            // this much address space (1,000 slots: 64 GiB of 128 TiB).
            max_memory_bytes: 4 * abi::MEMORY_BYTES,
            max_table_elements: 4 * abi::TABLE_ELEMENTS,
            cache_dir,
            // 1 ms keeps a 50 ms deadline within ~2% and costs one wake-up per ms.
            epoch_tick: Duration::from_millis(1),
        }
    }

    /// A small pool for tests and the local runner, which may hold several
    /// hosts in one process.
    pub fn small(cache_dir: Option<PathBuf>) -> Self {
        HostConfig {
            // Enough for the tests' and benchmarks' concurrency (2 cores).
            slots: 16,
            ..HostConfig::production(cache_dir)
        }
    }
}

/// Builds the engine every plug-in runs on.
///
/// Measured on the hello plug-in (10-line cart, fresh instance per call): the
/// cost that matters is the kernel's, not the guest's. Virtual-memory tricks
/// (4 GiB reservations, guard pages, trap handlers) save ~20% of guest time
/// but make every instantiation re-protect the pages the last guest grew into,
/// and each `mprotect`/`madvise` flushes the TLB of every core running the
/// process; on 2 cores that halved throughput (30-38k vs 65k calls/s).
pub(crate) fn build_engine(config: &HostConfig) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(config.slots)
        .total_memories(config.slots)
        .total_tables(config.slots)
        // A plug-in is one core module: one memory, one table.
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .max_memory_size(config.max_memory_bytes)
        .table_elements(config.max_table_elements)
        // One stack per call in flight through `call_async` (see `async_stack_size`).
        .total_stacks(config.slots)
        // Reset up to 2 MiB of a reused slot with memset instead of madvise:
        // a typical guest touches well under that (measured 21.5 -> 12.7 us/call).
        .linear_memory_keep_resident(2 << 20)
        // Likewise for tables: 64 KiB is 8,192 entries, more than a Rust
        // guest has; madvise here cost 2x throughput on 2 threads.
        .table_keep_resident(64 << 10)
        // Only with pagemap_scan does keep_resident skip untouched pages
        // (without it: 34 us/call). Needs Linux 6.7+; elsewhere Auto falls back.
        .pagemap_scan(Enabled::Auto);

    let mut wasm = Config::new();
    wasm.strategy(wasmtime::Strategy::Cranelift)
        .cranelift_opt_level(OptLevel::Speed)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        // Explicit bounds and trap checks instead of guard pages and signal
        // handlers, so a reused slot keeps its pages read/write (see above).
        .signals_based_traps(false)
        .memory_guard_size(0)
        // Each slot reserves only what a plan may grant: 64 MiB, not 4 GiB,
        // so many slots (and test processes with several hosts) fit easily.
        .memory_reservation(config.max_memory_bytes as u64)
        // Instruction budget per call (Limits::fuel).
        .consume_fuel(true)
        // Wall-clock budget per call (Limits::deadline), driven by EpochTicker.
        .epoch_interruption(true)
        // 512 KiB of wasm stack: room for serde-heavy guests, and well inside
        // the stacks it runs on: 2 MiB for a call made as a future (its own
        // stack, reused from the pool without being cleared: stack zeroing
        // stays off) as for a synchronous call on a spawned thread.
        .max_wasm_stack(512 << 10)
        .async_stack_size(2 << 20)
        // A replayed price must be bit-identical on any CPU.
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        // No shared memory (threads) and 32-bit memories only: the ABI passes i32 pointers.
        .wasm_threads(false)
        .wasm_memory64(false)
        // We keep our own artifact cache (keyed by module hash and fingerprint).
        .cache(None);
    Engine::new(&wasm)
}

/// Advances the engine's epoch every tick until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.clone();
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("livemall-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(EpochTicker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and increments; it cannot panic.
            let _ = thread.join();
        }
    }
}

/// Epoch ticks that cover at least `deadline`: the current tick may be
/// almost over, so one more than the quotient.
pub(crate) fn deadline_ticks(deadline: Duration, tick: Duration) -> u64 {
    let tick_ns = tick.as_nanos().max(1);
    let ticks = deadline.as_nanos().div_ceil(tick_ns);
    u64::try_from(ticks).unwrap_or(u64::MAX).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_rounds_up_and_adds_the_partial_tick() {
        let ms = Duration::from_millis(1);
        assert_eq!(deadline_ticks(Duration::from_millis(50), ms), 51);
        assert_eq!(deadline_ticks(Duration::from_micros(1500), ms), 3);
        assert_eq!(deadline_ticks(Duration::ZERO, ms), 1);
    }
}
