//! The local runner: one hook call under the production engine settings and
//! limits, with the input envelope built the way the server builds it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use livemall_abi::{Hook, Input, InstallInfo, StoreInfo, ABI_VERSION};
use serde_json::Value;

use super::call::{CallOutcome, CallRequest};
use super::engine::HostConfig;
use super::failure::CallFailure;
use super::host::Host;
use super::limits::Limits;

/// Store id the runner puts in the envelope.
pub const DEMO_STORE_ID: &str = "00000000-0000-7000-8000-000000000001";
/// Install id the runner puts in the envelope.
pub const DEMO_INSTALL_ID: &str = "00000000-0000-7000-8000-000000000002";

/// What to run.
#[derive(Debug, Clone)]
pub struct RunArgs {
    /// `.wasm` module, or `.wat` text.
    pub module: PathBuf,
    /// Hook name.
    pub hook: String,
    /// The hook's event JSON, or a whole envelope (has `"abi"`).
    pub input: PathBuf,
    /// Install configuration JSON (default `{}`).
    pub config: Option<PathBuf>,
    /// Time given to the plug-in (default: now).
    pub now_ms: Option<i64>,
    /// Limits (production defaults unless overridden).
    pub limits: Limits,
}

/// The result of a local run.
#[derive(Debug)]
pub struct RunReport {
    /// The call's result.
    pub result: Result<CallOutcome, CallFailure>,
    /// The limits it ran under.
    pub limits: Limits,
    /// The time it was given, to reproduce the run with `--now-ms`.
    pub now_ms: i64,
}

/// Reads a module file, converting WebAssembly text when it ends in `.wat`.
pub fn read_module(path: &Path) -> anyhow::Result<Vec<u8>> {
    if path.extension().is_some_and(|ext| ext == "wat") {
        return wat::parse_file(path).with_context(|| format!("parsing {}", path.display()));
    }
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

/// Builds the input envelope for `hook` around `document` (an event, or an
/// envelope already) and returns it with the cart's line count for `cart.price`.
pub fn envelope(hook: Hook, document: Value, config: Value, now_ms: i64) -> anyhow::Result<(Vec<u8>, Option<usize>)> {
    let input: Input<Value> = if document.get("abi").is_some() {
        let input: Input<Value> =
            serde_json::from_value(document).context("the input file is not an input envelope")?;
        if input.hook != hook {
            bail!("the envelope is for hook {}, not {hook}", input.hook);
        }
        input
    } else {
        let currency = document
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or("EUR")
            .to_string();
        Input {
            abi: ABI_VERSION,
            hook,
            event_id: (!hook.is_sync()).then(|| format!("local-{now_ms}")),
            now_ms,
            store: StoreInfo {
                id: DEMO_STORE_ID.into(),
                currency,
                time_zone: "UTC".into(),
            },
            install: InstallInfo {
                id: DEMO_INSTALL_ID.into(),
                config,
            },
            counters: Vec::new(),
            event: document,
        }
    };
    let lines = (hook == Hook::CartPrice)
        .then(|| input.event.get("lines").and_then(Value::as_array).map(Vec::len))
        .flatten();
    Ok((serde_json::to_vec(&input)?, lines))
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// Loads the module and calls the hook once.
pub fn run_local(args: &RunArgs) -> anyhow::Result<RunReport> {
    let Some(hook) = Hook::parse(&args.hook) else {
        let names: Vec<&str> = Hook::ALL.iter().map(|h| h.as_str()).collect();
        bail!("unknown hook `{}`; hooks are {}", args.hook, names.join(", "));
    };
    let config = match &args.config {
        Some(path) => read_json(path)?,
        None => Value::Object(Default::default()),
    };
    let now_ms = match args.now_ms {
        Some(ms) => ms,
        None => i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis(),
        )?,
    };
    let (input, lines) = envelope(hook, read_json(&args.input)?, config, now_ms)?;
    let host = Host::new(HostConfig::small(None))?;
    let plugin = host
        .load(&read_module(&args.module)?, &args.limits)
        .map_err(|e| anyhow::anyhow!("{}: {e}", e.code()))
        .with_context(|| format!("loading {}", args.module.display()))?;
    let mut request = CallRequest::new(hook, input);
    if let Some(lines) = lines {
        request = request.with_cart_lines(lines);
    }
    Ok(RunReport {
        result: host.call(&plugin, &request, &args.limits),
        limits: args.limits,
        now_ms,
    })
}
