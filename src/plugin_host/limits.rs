//! Per-call limits. The defaults are ABI v1's (`livemall_abi::limits`); a plan
//! may raise them, and the local runner enforces exactly the same numbers.

use std::time::Duration;

use livemall_abi::limits as abi;

/// What one plug-in call (and one module upload) may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Fuel units (roughly wasm instructions) per call.
    pub fuel: u64,
    /// Wall-clock budget per call, enforced by epoch interruption.
    pub deadline: Duration,
    /// Linear memory the guest may grow to, in bytes.
    pub memory_bytes: usize,
    /// Largest module accepted by `Host::load`, in bytes.
    pub module_bytes: usize,
    /// Largest input envelope, in bytes.
    pub input_bytes: usize,
    /// Largest output document, in bytes.
    pub output_bytes: usize,
    /// Log bytes kept per call; the rest is dropped.
    pub log_bytes: usize,
    /// Table elements the guest may have.
    pub table_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: abi::FUEL,
            deadline: Duration::from_millis(abi::DEADLINE_MS),
            memory_bytes: abi::MEMORY_BYTES,
            module_bytes: abi::MODULE_BYTES,
            input_bytes: abi::INPUT_BYTES,
            output_bytes: abi::OUTPUT_BYTES,
            log_bytes: abi::LOG_BYTES,
            table_elements: abi::TABLE_ELEMENTS,
        }
    }
}

impl Limits {
    /// Starts from the ABI defaults.
    pub fn builder() -> LimitsBuilder {
        LimitsBuilder(Limits::default())
    }
}

/// Builder for [`Limits`]; every setter replaces one number.
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct LimitsBuilder(Limits);

impl LimitsBuilder {
    /// Fuel units per call.
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.0.fuel = fuel;
        self
    }
    /// Wall-clock budget per call.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.0.deadline = deadline;
        self
    }
    /// Linear memory in bytes.
    pub fn memory_bytes(mut self, bytes: usize) -> Self {
        self.0.memory_bytes = bytes;
        self
    }
    /// Largest module in bytes.
    pub fn module_bytes(mut self, bytes: usize) -> Self {
        self.0.module_bytes = bytes;
        self
    }
    /// Largest input envelope in bytes.
    pub fn input_bytes(mut self, bytes: usize) -> Self {
        self.0.input_bytes = bytes;
        self
    }
    /// Largest output in bytes.
    pub fn output_bytes(mut self, bytes: usize) -> Self {
        self.0.output_bytes = bytes;
        self
    }
    /// Log bytes kept per call.
    pub fn log_bytes(mut self, bytes: usize) -> Self {
        self.0.log_bytes = bytes;
        self
    }
    /// Table elements.
    pub fn table_elements(mut self, elements: usize) -> Self {
        self.0.table_elements = elements;
        self
    }
    /// The finished limits.
    pub fn build(self) -> Limits {
        self.0
    }
}
