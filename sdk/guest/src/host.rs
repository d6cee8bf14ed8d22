//! The `livemall_v1` host functions behind a safe API.
//!
//! On wasm32 these are the real imports. Everywhere else they are a per-thread
//! stand-in that [`crate::testing`] fills and reads, so a handler runs through
//! exactly the same glue in a native test as in production.

use crate::abi::LogLevel;

/// A host function answered with a status other than 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status(pub i32);

impl Status {
    /// `output_write`: the output is larger than the output limit.
    pub const OUTPUT_TOO_LARGE: Status = Status(crate::abi::STATUS_OUTPUT_TOO_LARGE);
    /// `log`: the per-call log budget is spent.
    pub const LOG_FULL: Status = Status(crate::abi::STATUS_LOG_FULL);
    /// A pointer/length pair lay outside the guest's memory.
    pub const OUT_OF_BOUNDS: Status = Status(crate::abi::STATUS_OUT_OF_BOUNDS);
}

fn status(code: i32) -> Result<(), Status> {
    if code == crate::abi::STATUS_OK {
        Ok(())
    } else {
        Err(Status(code))
    }
}

/// The call's input envelope, as JSON bytes.
pub fn input() -> Vec<u8> {
    let len = usize::try_from(imports::input_len()).unwrap_or(0);
    let mut buf = vec![0u8; len];
    let copied = imports::input_read(buf.as_mut_ptr(), buf.len());
    buf.truncate(usize::try_from(copied).unwrap_or(0));
    buf
}

/// Sets the call's output; a later call replaces it.
pub fn write_output(bytes: &[u8]) -> Result<(), Status> {
    status(imports::output_write(bytes.as_ptr(), bytes.len()))
}

/// Writes one log line. [`Status::LOG_FULL`] means the per-call budget is spent.
pub fn log(level: LogLevel, text: &str) -> Result<(), Status> {
    let level = match level {
        LogLevel::Debug => 0,
        LogLevel::Info => 1,
        LogLevel::Warn => 2,
        LogLevel::Error => 3,
    };
    status(imports::log(level, text.as_ptr(), text.len()))
}

#[cfg(target_arch = "wasm32")]
mod imports {
    #[link(wasm_import_module = "livemall_v1")]
    extern "C" {
        #[link_name = "input_len"]
        fn raw_input_len() -> i32;
        #[link_name = "input_read"]
        fn raw_input_read(ptr: i32, len: i32) -> i32;
        #[link_name = "output_write"]
        fn raw_output_write(ptr: i32, len: i32) -> i32;
        #[link_name = "log"]
        fn raw_log(level: i32, ptr: i32, len: i32) -> i32;
    }

    // wasm32 pointers and lengths are 32 bits, so these casts are lossless there.
    pub fn input_len() -> i32 {
        // SAFETY: takes no arguments and touches no guest memory.
        unsafe { raw_input_len() }
    }

    pub fn input_read(ptr: *mut u8, len: usize) -> i32 {
        // SAFETY: the host writes at most `len` bytes at `ptr`, a live buffer of that size.
        unsafe { raw_input_read(ptr as i32, len as i32) }
    }

    pub fn output_write(ptr: *const u8, len: usize) -> i32 {
        // SAFETY: the host only reads `len` bytes at `ptr`.
        unsafe { raw_output_write(ptr as i32, len as i32) }
    }

    pub fn log(level: i32, ptr: *const u8, len: usize) -> i32 {
        // SAFETY: the host only reads `len` bytes at `ptr`.
        unsafe { raw_log(level, ptr as i32, len as i32) }
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod imports {
    //! The native stand-in: one simulated host per thread, enforcing the same
    //! output and log limits as the real one.
    use crate::abi::limits;
    use std::cell::RefCell;

    #[derive(Default)]
    pub(crate) struct Sim {
        pub input: Vec<u8>,
        pub output: Option<Vec<u8>>,
        pub logs: Vec<(i32, String)>,
        pub log_bytes: usize,
    }

    thread_local! {
        pub(crate) static SIM: RefCell<Sim> = RefCell::new(Sim::default());
    }

    pub fn input_len() -> i32 {
        SIM.with(|s| i32::try_from(s.borrow().input.len()).unwrap_or(i32::MAX))
    }

    pub fn input_read(ptr: *mut u8, len: usize) -> i32 {
        SIM.with(|s| {
            let sim = s.borrow();
            let n = len.min(sim.input.len());
            // SAFETY: callers pass a live buffer of at least `len` bytes.
            unsafe { core::ptr::copy_nonoverlapping(sim.input.as_ptr(), ptr, n) };
            i32::try_from(n).unwrap_or(i32::MAX)
        })
    }

    pub fn output_write(ptr: *const u8, len: usize) -> i32 {
        if len > limits::OUTPUT_BYTES {
            return crate::abi::STATUS_OUTPUT_TOO_LARGE;
        }
        // SAFETY: callers pass a live buffer of `len` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(ptr, len) }.to_vec();
        SIM.with(|s| s.borrow_mut().output = Some(bytes));
        crate::abi::STATUS_OK
    }

    pub fn log(level: i32, ptr: *const u8, len: usize) -> i32 {
        // SAFETY: callers pass a live buffer of `len` bytes.
        let bytes = unsafe { core::slice::from_raw_parts(ptr, len) };
        SIM.with(|s| {
            let mut sim = s.borrow_mut();
            let room = limits::LOG_BYTES.saturating_sub(sim.log_bytes);
            let kept = &bytes[..bytes.len().min(room)];
            if !kept.is_empty() {
                sim.log_bytes += kept.len();
                sim.logs
                    .push((level, String::from_utf8_lossy(kept).into_owned()));
            }
            if kept.len() < bytes.len() {
                crate::abi::STATUS_LOG_FULL
            } else {
                crate::abi::STATUS_OK
            }
        })
    }
}
