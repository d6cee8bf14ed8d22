//! One hook call: a fresh `Store` with fuel, deadline and limiter, the
//! guest's output parsed into `Effects` and checked for the hook, and the
//! resources it used, recorded on success and on failure alike.

use std::sync::Arc;
use std::time::{Duration, Instant};

use livemall_abi::{Effects, GuestError, Hook, LogLevel};
use wasmtime::{Instance, PoolConcurrencyLimitError, Store, Trap, TypedFunc, UpdateDeadline, WasmBacktrace};

use super::effects::check_effects;
use super::engine::deadline_ticks;
use super::failure::{CallError, CallFailure};
use super::host::{Host, Plugin};
use super::imports::CallState;
use super::limits::Limits;

/// What to call and how to check the answer.
#[derive(Debug, Clone)]
pub struct CallRequest<I = Vec<u8>> {
    /// The hook to call.
    pub hook: Hook,
    /// The input envelope (`livemall_abi::Input<E>` as JSON).
    pub input: I,
    /// Lines in the cart for `cart.price`, so adjustments can be checked
    /// against it; `None` skips that check.
    pub cart_lines: Option<u32>,
}

impl<I: AsRef<[u8]>> CallRequest<I> {
    /// A request without a cart to check adjustments against.
    pub fn new(hook: Hook, input: I) -> Self {
        CallRequest {
            hook,
            input,
            cart_lines: None,
        }
    }

    /// Checks adjustments against a cart of `lines` lines.
    #[must_use]
    pub fn with_cart_lines(mut self, lines: usize) -> Self {
        self.cart_lines = Some(u32::try_from(lines).unwrap_or(u32::MAX));
        self
    }
}

/// One line the guest logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// Its text (invalid UTF-8 replaced).
    pub message: String,
}

/// What a call used; recorded for every call, failed or not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Fuel units consumed (instantiation included). After a trap it can
    /// miss the last few instructions: wasmtime flushes the count at calls.
    pub fuel_used: u64,
    /// Wall-clock time of the call, instantiation included.
    pub duration: Duration,
    /// Largest linear memory the guest had, in bytes.
    pub peak_memory_bytes: usize,
    /// Size of the input envelope.
    pub input_bytes: usize,
    /// Size of the output the guest wrote (or tried to write, if refused).
    pub output_bytes: usize,
    /// Log lines kept.
    pub log_lines: usize,
    /// Log bytes kept.
    pub log_bytes: usize,
}

/// A successful call.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    /// The effects, already checked for the hook.
    pub effects: Effects,
    /// What the call used.
    pub usage: Usage,
    /// What the guest logged.
    pub logs: Vec<LogLine>,
}

impl Host {
    /// Calls `request.hook` on a fresh instance of `plugin`. Synchronous CPU
    /// work bounded by `limits`, the deadline enforced by a trap; from async
    /// code use [`Host::call_async`].
    pub fn call<I: AsRef<[u8]>>(
        &self,
        plugin: &Plugin,
        request: &CallRequest<I>,
        limits: &Limits,
    ) -> Result<CallOutcome, CallFailure> {
        let started = Instant::now();
        let (mut store, limits) = self.store_for(plugin, request, limits, started)?;
        store.set_epoch_deadline(deadline_ticks(limits.deadline, self.config.epoch_tick));
        store.epoch_deadline_trap();
        let status = run(plugin, request.hook, &mut store);
        outcome(store, status, request, &limits, started)
    }

    /// [`Host::call`] as a future, run on the caller's own thread: the
    /// guest gives its thread back to the runtime at every epoch tick and is
    /// interrupted at the first tick past its deadline, so a call never
    /// stalls the async workers for more than a tick, and a short call (most
    /// take tens of microseconds) costs no hand-off to another thread. When
    /// every pool slot is busy it waits for one rather than failing the call.
    pub async fn call_async(
        self: Arc<Self>,
        plugin: Arc<Plugin>,
        request: CallRequest<Vec<u8>>,
        limits: Limits,
    ) -> Result<CallOutcome, CallFailure> {
        let Ok(_slot) = Arc::clone(&self.slots).acquire_owned().await else {
            let usage = Usage {
                input_bytes: request.input.len(),
                ..Usage::default()
            };
            return Err(CallFailure::new(
                CallError::Host("the plug-in host is shut down".into()),
                usage,
                Vec::new(),
            ));
        };
        let started = Instant::now();
        let (mut store, limits) = self.store_for(&plugin, &request, &limits, started)?;
        let deadline = started + limits.deadline;
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        store.set_epoch_deadline(1);
        let status = run_async(&plugin, request.hook, &mut store).await;
        outcome(store, status, &request, &limits, started)
    }

    /// A fresh store for one call, with its fuel and limiter, and the limits
    /// it runs under; refuses an input over its limit and a hook the module
    /// does not export.
    fn store_for<I: AsRef<[u8]>>(
        &self,
        plugin: &Plugin,
        request: &CallRequest<I>,
        limits: &Limits,
        started: Instant,
    ) -> Result<(Store<CallState>, Limits), CallFailure> {
        let input = request.input.as_ref();
        let refuse = |error| {
            let usage = Usage {
                input_bytes: input.len(),
                duration: started.elapsed(),
                ..Usage::default()
            };
            CallFailure::new(error, usage, Vec::new())
        };
        if input.len() > limits.input_bytes {
            return Err(refuse(CallError::InputTooLarge {
                bytes: input.len(),
                limit: limits.input_bytes,
            }));
        }
        if !plugin.handles(request.hook) {
            return Err(refuse(CallError::HookNotExported(request.hook.to_string())));
        }
        // A plan cannot grant more than the pool's slots hold.
        let limits = Limits {
            memory_bytes: limits.memory_bytes.min(self.config.max_memory_bytes),
            table_elements: limits.table_elements.min(self.config.max_table_elements),
            ..*limits
        };
        let mut store = Store::new(&self.engine, CallState::new(input, &limits));
        store.limiter(|state| &mut state.limiter);
        if let Err(e) = store.set_fuel(limits.fuel) {
            return Err(refuse(CallError::Host(format!("setting fuel: {e}"))));
        }
        Ok((store, limits))
    }
}

/// The call's effects or its typed failure, with what it used.
fn outcome<I>(
    store: Store<CallState>,
    status: wasmtime::Result<i32>,
    request: &CallRequest<I>,
    limits: &Limits,
    started: Instant,
) -> Result<CallOutcome, CallFailure> {
    let usage = usage(&store, limits, started);
    let state = store.into_data();
    let result = match status {
        Ok(status) => finish(status, &state, request, limits),
        Err(error) => Err(classify(&error, &state, limits)),
    };
    let logs = state.logs;
    match result {
        Ok(effects) => Ok(CallOutcome { effects, usage, logs }),
        Err(error) => Err(CallFailure::new(error, usage, logs)),
    }
}

/// Instantiates (running any start function) and calls the hook.
fn run(plugin: &Plugin, hook: Hook, store: &mut Store<CallState>) -> wasmtime::Result<i32> {
    let instance = plugin.pre.instantiate(&mut *store)?;
    hook_func(plugin, hook, instance, store)?.call(&mut *store, ())
}

/// [`run`] as a future: the guest runs on a stack of its own, from which it
/// gives the thread back at an epoch tick.
async fn run_async(plugin: &Plugin, hook: Hook, store: &mut Store<CallState>) -> wasmtime::Result<i32> {
    let instance = plugin.pre.instantiate_async(&mut *store).await?;
    hook_func(plugin, hook, instance, store)?
        .call_async(&mut *store, ())
        .await
}

fn hook_func(
    plugin: &Plugin,
    hook: Hook,
    instance: Instance,
    store: &mut Store<CallState>,
) -> wasmtime::Result<TypedFunc<(), i32>> {
    plugin
        .export(hook)
        .and_then(|export| instance.get_module_export(&mut *store, export))
        .and_then(wasmtime::Extern::into_func)
        .ok_or_else(|| wasmtime::format_err!("hook `{hook}` is not an exported function"))?
        .typed::<(), i32>(&*store)
}

fn usage(store: &Store<CallState>, limits: &Limits, started: Instant) -> Usage {
    let state = store.data();
    let fuel_left = store.get_fuel().unwrap_or(0);
    Usage {
        fuel_used: limits.fuel.saturating_sub(fuel_left),
        duration: started.elapsed(),
        peak_memory_bytes: state.limiter.peak_memory,
        input_bytes: state.input.len(),
        output_bytes: state.output_refused.unwrap_or(state.output.len()),
        log_lines: state.logs.len(),
        log_bytes: state.log_used,
    }
}

/// Turns the hook's status and output into effects or a typed failure.
fn finish<I>(status: i32, state: &CallState, request: &CallRequest<I>, limits: &Limits) -> Result<Effects, CallError> {
    if status != 0 {
        let message = serde_json::from_slice::<GuestError>(&state.output)
            .map(|e| e.message)
            .unwrap_or_else(|_| format!("the hook returned status {status} without a message"));
        return Err(CallError::GuestError { status, message });
    }
    if let Some(bytes) = state.output_refused {
        return Err(CallError::OutputTooLarge {
            bytes,
            limit: limits.output_bytes,
        });
    }
    if state.output.is_empty() {
        return Ok(Effects::default());
    }
    let effects: Effects = serde_json::from_slice(&state.output).map_err(|e| {
        CallError::BadOutput(if e.is_data() {
            format!("output does not match the effects schema: {e}")
        } else {
            format!("output is not JSON: {e}")
        })
    })?;
    check_effects(&effects, request.hook, request.cart_lines).map_err(CallError::BadOutput)?;
    Ok(effects)
}

fn classify(error: &wasmtime::Error, state: &CallState, limits: &Limits) -> CallError {
    if let Some(exceeded) = &state.limiter.exceeded {
        return exceeded.clone();
    }
    if let Some(pool) = error.downcast_ref::<PoolConcurrencyLimitError>() {
        return CallError::Host(format!("no free instance slot: {pool}"));
    }
    let backtrace = error.downcast_ref::<WasmBacktrace>().map(|b| b.to_string());
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => CallError::OutOfFuel { limit: limits.fuel },
        Some(Trap::Interrupt) => CallError::Deadline {
            limit_ms: u64::try_from(limits.deadline.as_millis()).unwrap_or(u64::MAX),
        },
        Some(trap) => CallError::Trap {
            message: trap.to_string(),
            backtrace,
        },
        None => CallError::Trap {
            message: format!("{error:#}"),
            backtrace,
        },
    }
}
