//! `livemall plugin run|new`: the command line of the local runner and the
//! plug-in scaffold.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use super::call::{LogLine, Usage};
use super::limits::Limits;
use super::runner::{run_local, RunArgs, RunReport};

/// Plug-in commands for authors.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PluginCommand {
    /// Call one hook of a module locally, under the production limits.
    Run {
        /// The module: a `.wasm` file, or WebAssembly text ending in `.wat`.
        module: PathBuf,
        /// The hook to call, e.g. `cart.price`.
        #[arg(long)]
        hook: String,
        /// The hook's event as JSON (e.g. a cart for `cart.price`), or a
        /// whole input envelope (a document with `"abi"`).
        #[arg(long)]
        input: PathBuf,
        /// The install's configuration (JSON file); default `{}`.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The time given to the plug-in, Unix milliseconds; default now.
        #[arg(long)]
        now_ms: Option<i64>,
        /// Fuel per call instead of the production limit.
        #[arg(long)]
        fuel: Option<u64>,
        /// Deadline per call in milliseconds instead of the production limit.
        #[arg(long)]
        deadline_ms: Option<u64>,
    },
    /// Create a new plug-in project from the template.
    New {
        /// The plug-in's name.
        name: String,
        /// Parent directory (default: the current one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// Runs a plug-in command. A failed call is an error, so the process exits non-zero.
pub fn run_cli(cmd: PluginCommand) -> anyhow::Result<()> {
    match cmd {
        PluginCommand::Run {
            module,
            hook,
            input,
            config,
            now_ms,
            fuel,
            deadline_ms,
        } => {
            let mut limits = Limits::builder();
            if let Some(fuel) = fuel {
                limits = limits.fuel(fuel);
            }
            if let Some(ms) = deadline_ms {
                limits = limits.deadline(Duration::from_millis(ms));
            }
            let report = run_local(&RunArgs {
                module,
                hook,
                input,
                config,
                now_ms,
                limits: limits.build(),
            })?;
            print!("{}", render(&report)?);
            if let Err(failure) = report.result {
                anyhow::bail!("plug-in call failed: {}: {}", failure.code(), failure.error());
            }
            Ok(())
        }
        PluginCommand::New { name, dir } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("."));
            let path = crate::scaffold::new_plugin(&name, &dir)?;
            println!("created {}", path.display());
            Ok(())
        }
    }
}

/// The runner's report: logs, effects or failure, and usage against each limit.
pub fn render(report: &RunReport) -> anyhow::Result<String> {
    let mut out = String::new();
    let (usage, logs) = match &report.result {
        Ok(outcome) => (&outcome.usage, outcome.logs.as_slice()),
        Err(failure) => (failure.usage(), failure.logs()),
    };
    writeln!(out, "now_ms: {}", report.now_ms)?;
    render_logs(&mut out, logs)?;
    match &report.result {
        Ok(outcome) => {
            writeln!(out, "effects:")?;
            writeln!(out, "{}", serde_json::to_string_pretty(&outcome.effects)?)?;
        }
        Err(failure) => {
            writeln!(out, "failed: {}: {}", failure.code(), failure.error())?;
            if let super::failure::CallError::Trap {
                backtrace: Some(bt), ..
            } = failure.error()
            {
                writeln!(out, "{bt}")?;
            }
        }
    }
    render_usage(&mut out, usage, &report.limits)?;
    Ok(out)
}

fn render_logs(out: &mut String, logs: &[LogLine]) -> std::fmt::Result {
    for line in logs {
        let level = format!("{:?}", line.level).to_lowercase();
        writeln!(out, "log [{level}] {}", line.message)?;
    }
    Ok(())
}

fn render_usage(out: &mut String, usage: &Usage, limits: &Limits) -> std::fmt::Result {
    let rows = [
        (
            "fuel",
            count(usage.fuel_used),
            count(limits.fuel),
            ratio(usage.fuel_used as f64, limits.fuel as f64),
        ),
        (
            "time",
            format!("{:.3} ms", usage.duration.as_secs_f64() * 1e3),
            format!("{} ms", limits.deadline.as_millis()),
            ratio(usage.duration.as_secs_f64(), limits.deadline.as_secs_f64()),
        ),
        (
            "memory (peak)",
            bytes(usage.peak_memory_bytes),
            bytes(limits.memory_bytes),
            ratio(usage.peak_memory_bytes as f64, limits.memory_bytes as f64),
        ),
        (
            "input",
            bytes(usage.input_bytes),
            bytes(limits.input_bytes),
            ratio(usage.input_bytes as f64, limits.input_bytes as f64),
        ),
        (
            "output",
            bytes(usage.output_bytes),
            bytes(limits.output_bytes),
            ratio(usage.output_bytes as f64, limits.output_bytes as f64),
        ),
        (
            "log",
            format!("{} ({} lines)", bytes(usage.log_bytes), usage.log_lines),
            bytes(limits.log_bytes),
            ratio(usage.log_bytes as f64, limits.log_bytes as f64),
        ),
    ];
    writeln!(out, "{:<14} {:>18} {:>12} {:>7}", "usage", "used", "limit", "share")?;
    for (name, used, limit, share) in rows {
        writeln!(out, "{name:<14} {used:>18} {limit:>12} {share:>7}")?;
    }
    Ok(())
}

fn ratio(used: f64, limit: f64) -> String {
    if limit <= 0.0 {
        return "-".into();
    }
    format!("{:.1}%", used / limit * 100.0)
}

/// 10000000 -> "10,000,000".
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: usize) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f >= KIB * KIB {
        format!("{:.1} MiB", f / KIB / KIB)
    } else if f >= KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{n} B")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        plugin: PluginCommand,
    }

    #[test]
    fn run_parses_the_documented_command_line() {
        let cli = Cli::try_parse_from([
            "plugin",
            "run",
            "p.wasm",
            "--hook",
            "cart.price",
            "--input",
            "cart.json",
            "--config",
            "config.json",
            "--now-ms",
            "5",
            "--fuel",
            "100",
            "--deadline-ms",
            "7",
        ])
        .unwrap();
        let PluginCommand::Run {
            module,
            hook,
            config,
            now_ms,
            fuel,
            deadline_ms,
            ..
        } = cli.plugin
        else {
            panic!("not run");
        };
        assert_eq!(module, PathBuf::from("p.wasm"));
        assert_eq!(hook, "cart.price");
        assert_eq!(config, Some(PathBuf::from("config.json")));
        assert_eq!((now_ms, fuel, deadline_ms), (Some(5), Some(100), Some(7)));
        assert!(Cli::try_parse_from(["plugin", "new", "coupons", "--dir", "plugins"]).is_ok());
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(count(10_000_000), "10,000,000");
        assert_eq!(count(999), "999");
        assert_eq!(bytes(16 << 20), "16.0 MiB");
        assert_eq!(bytes(4096), "4.0 KiB");
        assert_eq!(bytes(12), "12 B");
        assert_eq!(ratio(1.0, 4.0), "25.0%");
    }
}
