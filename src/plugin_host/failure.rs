//! Typed failures of loading a module and of calling a hook. Each has a
//! stable `code()` that is stored, shown to merchants and authors, and matched on.

use super::call::{LogLine, Usage};

/// Why a module was refused at load (upload) time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a WebAssembly core module.
    #[error("not a WebAssembly module: {0}")]
    NotWasm(String),
    /// Larger than the module size limit.
    #[error("module is {bytes} bytes, the limit is {limit}")]
    TooLarge {
        /// Size of the module.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// An import the host does not provide.
    #[error("forbidden import {module}::{name}: {reason}")]
    ForbiddenImport {
        /// Import module.
        module: String,
        /// Import field.
        name: String,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No `livemall_abi_v1: () -> ()` export.
    #[error("missing the `livemall_abi_v1` marker export (a function `() -> ()`){0}")]
    MissingMarker(String),
    /// No `memory` export.
    #[error("missing the `memory` export{0}")]
    MissingMemory(String),
    /// A hook export with the wrong type.
    #[error("hook export `{name}` must have type () -> i32, found {found}")]
    BadHookExport {
        /// Export name.
        name: String,
        /// What it is instead.
        found: String,
    },
    /// Exports no hook at all, so it would never be called.
    #[error("the module exports no hook (e.g. a function named `cart.price`)")]
    NoHooks,
    /// wasmtime refused to compile it.
    #[error("the module does not compile: {0}")]
    Compile(String),
}

impl LoadError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            LoadError::NotWasm(_) => "not_wasm",
            LoadError::TooLarge { .. } => "too_large",
            LoadError::ForbiddenImport { .. } => "forbidden_import",
            LoadError::MissingMarker(_) => "missing_marker",
            LoadError::MissingMemory(_) => "missing_memory",
            LoadError::BadHookExport { .. } => "bad_hook_export",
            LoadError::NoHooks => "no_hooks",
            LoadError::Compile(_) => "compile_error",
        }
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The guest trapped (unreachable, out-of-bounds access, stack overflow...).
    #[error("{message}")]
    Trap {
        /// The trap, e.g. "wasm trap: call stack exhausted".
        message: String,
        /// The guest's stack at the trap, when wasmtime captured it.
        backtrace: Option<String>,
    },
    /// The fuel (instruction) budget ran out.
    #[error("out of fuel: the call used its {limit} units")]
    OutOfFuel {
        /// The budget.
        limit: u64,
    },
    /// The wall-clock deadline passed.
    #[error("deadline of {limit_ms} ms exceeded")]
    Deadline {
        /// The deadline in milliseconds.
        limit_ms: u64,
    },
    /// The guest asked for more linear memory or table than allowed.
    #[error("memory limit: the guest asked for {requested} {resource}, the limit is {limit}")]
    MemoryLimit {
        /// `"bytes"` of linear memory or `"table elements"`.
        resource: &'static str,
        /// Amount asked for.
        requested: usize,
        /// The limit.
        limit: usize,
    },
    /// `output_write` was refused for size and no smaller output followed.
    #[error("output of {bytes} bytes is over the {limit}-byte limit")]
    OutputTooLarge {
        /// Size the guest tried to write.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The output is not JSON, not the effect schema, or not allowed for the hook.
    #[error("bad output: {0}")]
    BadOutput(String),
    /// The hook returned a non-zero status.
    #[error("plug-in error (status {status}): {message}")]
    GuestError {
        /// The status the hook returned.
        status: i32,
        /// The plug-in's `{"message": ...}`, or a generic text.
        message: String,
    },
    /// The input envelope is over the input limit; the guest was not run.
    #[error("input of {bytes} bytes is over the {limit}-byte limit")]
    InputTooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The plug-in does not export the hook it was called for.
    #[error("the plug-in does not handle hook `{0}`")]
    HookNotExported(String),
    /// The host failed (e.g. no free instance slot); not the plug-in's fault.
    #[error("host error: {0}")]
    Host(String),
}

impl CallError {
    /// Stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Trap { .. } => "trap",
            CallError::OutOfFuel { .. } => "out_of_fuel",
            CallError::Deadline { .. } => "deadline",
            CallError::MemoryLimit { .. } => "memory_limit",
            CallError::OutputTooLarge { .. } => "output_too_large",
            CallError::BadOutput(_) => "bad_output",
            CallError::GuestError { .. } => "guest_error",
            CallError::InputTooLarge { .. } => "input_too_large",
            CallError::HookNotExported(_) => "hook_not_exported",
            CallError::Host(_) => "host_error",
        }
    }

    /// `true` when the plug-in is to blame, so the failure counts towards its
    /// circuit breaker. Host errors and the host's own mistakes do not.
    pub fn is_plugin_fault(&self) -> bool {
        !matches!(
            self,
            CallError::Host(_) | CallError::HookNotExported(_) | CallError::InputTooLarge { .. }
        )
    }
}

/// A failed call: what went wrong and what it used up to then. Boxed so
/// that a `Result` carrying it stays as small as a success.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.error)]
pub struct CallFailure(Box<FailureDetail>);

/// The parts of a [`CallFailure`].
#[derive(Debug, Clone)]
pub struct FailureDetail {
    /// What went wrong.
    pub error: CallError,
    /// Resources used until the failure.
    pub usage: Usage,
    /// Log lines the guest wrote before failing.
    pub logs: Vec<LogLine>,
}

impl CallFailure {
    /// A failure with what the call used and logged.
    pub fn new(error: CallError, usage: Usage, logs: Vec<LogLine>) -> Self {
        CallFailure(Box::new(FailureDetail { error, usage, logs }))
    }
    /// Stable machine-readable code of the error.
    pub fn code(&self) -> &'static str {
        self.0.error.code()
    }
    /// What went wrong.
    pub fn error(&self) -> &CallError {
        &self.0.error
    }
    /// Resources used until the failure.
    pub fn usage(&self) -> &Usage {
        &self.0.usage
    }
    /// Log lines the guest wrote before failing.
    pub fn logs(&self) -> &[LogLine] {
        &self.0.logs
    }
    /// The parts, by value.
    pub fn into_detail(self) -> FailureDetail {
        *self.0
    }
}
