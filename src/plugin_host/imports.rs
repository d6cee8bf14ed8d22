//! The four host functions of `livemall_v1`, the per-call state they work on,
//! and the resource limiter. Guest mistakes get a status code back; only a
//! host-internal failure traps.

use std::ops::Range;

use livemall_abi::{
    LogLevel, IMPORT_MODULE, MEMORY_EXPORT, STATUS_LOG_FULL, STATUS_OK, STATUS_OUTPUT_TOO_LARGE, STATUS_OUT_OF_BOUNDS,
};
use wasmtime::{Caller, Engine, Extern, Linker, ResourceLimiter};

use super::call::LogLine;
use super::failure::CallError;
use super::limits::Limits;

/// Everything one call's `Store` holds.
pub(crate) struct CallState {
    pub(crate) input: Vec<u8>,
    pub(crate) output: Vec<u8>,
    /// Size of the last `output_write` refused for size, until a write succeeds.
    pub(crate) output_refused: Option<usize>,
    output_limit: usize,
    log_budget: usize,
    pub(crate) log_used: usize,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) limiter: CallLimiter,
}

impl CallState {
    pub(crate) fn new(input: &[u8], limits: &Limits) -> Self {
        CallState {
            input: input.to_vec(),
            output: Vec::new(),
            output_refused: None,
            output_limit: limits.output_bytes,
            log_budget: limits.log_bytes,
            log_used: 0,
            logs: Vec::new(),
            limiter: CallLimiter {
                memory_limit: limits.memory_bytes,
                table_limit: limits.table_elements,
                peak_memory: 0,
                exceeded: None,
            },
        }
    }
}

/// Enforces `Limits::memory_bytes` and `Limits::table_elements`.
pub(crate) struct CallLimiter {
    memory_limit: usize,
    table_limit: usize,
    pub(crate) peak_memory: usize,
    /// Set when a limit was hit; the call then fails with it.
    pub(crate) exceeded: Option<CallError>,
}

/// The error a limiter raises; it ends the call like a trap.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct LimitExceeded(pub(crate) CallError);

impl CallLimiter {
    fn refuse(&mut self, resource: &'static str, requested: usize, limit: usize) -> wasmtime::Error {
        let error = CallError::MemoryLimit {
            resource,
            requested,
            limit,
        };
        self.exceeded = Some(error.clone());
        wasmtime::Error::new(LimitExceeded(error))
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            // Trap rather than return -1: a guest that ignores a failed grow
            // would fail later with a far less useful message.
            return Err(self.refuse("bytes", desired, self.memory_limit));
        }
        if maximum.is_some_and(|max| desired > max) {
            // The module's own declared maximum: plain wasm semantics (-1).
            return Ok(false);
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_limit {
            return Err(self.refuse("table elements", desired, self.table_limit));
        }
        Ok(maximum.is_none_or(|max| desired <= max))
    }
}

/// A guest `(ptr, len)` as a range of its memory, if it lies inside.
fn guest_range(ptr: i32, len: i32, memory_len: usize) -> Option<Range<usize>> {
    // Wasm addresses are unsigned 32-bit.
    let start = ptr as u32 as usize;
    let end = start.checked_add(len as u32 as usize)?;
    (end <= memory_len).then_some(start..end)
}

/// The guest's exported memory and the call state, borrowed together.
fn memory<'a>(caller: &'a mut Caller<'_, CallState>) -> wasmtime::Result<(&'a mut [u8], &'a mut CallState)> {
    match caller.get_export(MEMORY_EXPORT) {
        Some(Extern::Memory(memory)) => Ok(memory.data_and_store_mut(caller)),
        // Load-time validation guarantees the export; reaching this is a host bug.
        _ => Err(wasmtime::Error::msg("plug-in has no memory export")),
    }
}

fn status(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn input_len(caller: Caller<'_, CallState>) -> i32 {
    status(caller.data().input.len())
}

fn input_read(mut caller: Caller<'_, CallState>, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let (data, state) = memory(&mut caller)?;
    let Some(range) = guest_range(ptr, len, data.len()) else {
        return Ok(STATUS_OUT_OF_BOUNDS);
    };
    let n = range.len().min(state.input.len());
    data[range.start..range.start + n].copy_from_slice(&state.input[..n]);
    Ok(status(n))
}

fn output_write(mut caller: Caller<'_, CallState>, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let (data, state) = memory(&mut caller)?;
    let wanted = len as u32 as usize;
    if wanted > state.output_limit {
        state.output_refused = Some(wanted);
        return Ok(STATUS_OUTPUT_TOO_LARGE);
    }
    let Some(range) = guest_range(ptr, len, data.len()) else {
        return Ok(STATUS_OUT_OF_BOUNDS);
    };
    state.output.clear();
    state.output.extend_from_slice(&data[range]);
    state.output_refused = None;
    Ok(STATUS_OK)
}

fn log(mut caller: Caller<'_, CallState>, level: i32, ptr: i32, len: i32) -> wasmtime::Result<i32> {
    let (data, state) = memory(&mut caller)?;
    let Some(range) = guest_range(ptr, len, data.len()) else {
        return Ok(STATUS_OUT_OF_BOUNDS);
    };
    let room = state.log_budget.saturating_sub(state.log_used);
    if room == 0 {
        return Ok(STATUS_LOG_FULL);
    }
    let kept = range.len().min(room);
    let message = String::from_utf8_lossy(&data[range.start..range.start + kept]).into_owned();
    state.log_used += kept;
    state.logs.push(LogLine {
        level: LogLevel::from_i32(level),
        message,
    });
    Ok(if kept < range.len() { STATUS_LOG_FULL } else { STATUS_OK })
}

/// The linker every plug-in is instantiated through: `livemall_v1` and nothing else.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<CallState>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(IMPORT_MODULE, "input_len", input_len)?;
    linker.func_wrap(IMPORT_MODULE, "input_read", input_read)?;
    linker.func_wrap(IMPORT_MODULE, "output_write", output_write)?;
    linker.func_wrap(IMPORT_MODULE, "log", log)?;
    Ok(linker)
}

#[cfg(test)]
mod tests {
    use super::guest_range;

    #[test]
    fn guest_ranges_outside_memory_are_refused() {
        assert_eq!(guest_range(0, 10, 10), Some(0..10));
        assert_eq!(guest_range(5, 6, 10), None);
        assert_eq!(guest_range(-1, 1, 10), None);
        assert_eq!(guest_range(1, -1, 10), None);
        assert_eq!(guest_range(10, 0, 10), Some(10..10));
    }
}
