//! The plug-in runtime: a narrow API over wasmtime.
//!
//! One [`Host`] per process owns the engine (pooling allocator, fuel, epoch
//! deadlines), the `livemall_v1` host functions and the artifact cache.
//! [`Host::load`] validates a module against ABI v1 and returns a [`Plugin`];
//! [`Host::call`] runs one hook on a fresh instance under [`Limits`] and
//! returns checked effects or a typed [`CallFailure`], with [`Usage`] either
//! way. [`CircuitBreaker`] switches off installs that keep failing.

mod breaker;
mod cache;
mod call;
pub mod cli;
mod effects;
mod engine;
mod failure;
mod host;
mod imports;
mod limits;
pub mod runner;
mod validate;

pub use breaker::{BreakerConfig, BreakerState, BreakerStatus, CircuitBreaker, FailureRecord};
pub use call::{CallOutcome, CallRequest, LogLine, Usage};
pub use effects::check_effects;
pub use engine::HostConfig;
pub use failure::{CallError, CallFailure, FailureDetail, LoadError};
pub use host::{ArtifactSource, Host, Plugin};
pub use limits::{Limits, LimitsBuilder};
