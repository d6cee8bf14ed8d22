//! Checkout under load: the real application in this process, three real
//! plug-ins on the store, 8/32/64 concurrent shoppers against one hot
//! variant and against 10,000 variants; beside each HTTP cell the same
//! checkout transaction without HTTP or plug-ins (the baseline). Prints a
//! markdown table with an oversell check after every cell.
//!
//! `nice cargo bench --bench checkout_load` (SQLite), or with
//! `LOAD_ENGINE=postgres` (a fresh database on the local server, dropped at
//! the end; the application connects over TCP to 127.0.0.1:5432 without
//! TLS, or with `LOAD_PG_CONNECT=tls` with it, `socket` through the
//! server's Unix socket in /var/run/postgresql). `LOAD_PLUGINS=0..3` (default 3),
//! `LOAD_SECONDS` per cell (default 10), `LOAD_SHOPPERS` (default 8,32,64),
//! `LOAD_BASELINE=0` skips the baseline, `LOAD_POOL` sets the database pool size,
//! `LOAD_WORKERS` the server's HTTP worker threads, `LOAD_PLAN=1` subscribes the
//! tenant to a plan without limits first (every order then counts towards
//! its usage, as a paying merchant's do).
//! Each cell starts once the dispatcher has routed the events of the cells
//! before it (the time that took goes to standard error).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "checkout_load/check.rs"]
mod check;
#[path = "checkout_load/drive.rs"]
mod drive;
#[path = "checkout_load/mall.rs"]
mod mall;

use std::sync::Arc;
use std::time::Duration;

use drive::{Run, Target};
use mall::Mall;

/// What the store runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plugins {
    /// The first n of the SDK example, the WAT example and a fixed-discount guest.
    Examples(usize),
    /// The bundled coupons, countdown and flash deals, orders from a live stream.
    Bundled,
}

impl std::fmt::Display for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Plugins::Examples(n) => write!(f, "{n}"),
            Plugins::Bundled => f.write_str("bundled"),
        }
    }
}

/// How the application reaches PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgConnect {
    Socket,
    Tcp,
    Tls,
}

impl PgConnect {
    fn name(self) -> &'static str {
        match self {
            PgConnect::Socket => "socket",
            PgConnect::Tcp => "tcp",
            PgConnect::Tls => "tls",
        }
    }
}

pub struct Config {
    pub postgres: bool,
    pub pg_connect: PgConnect,
    pub plugins: Plugins,
    pub seconds: u64,
    pub shoppers: Vec<usize>,
    pub baseline: bool,
    /// Database pool size; `None` keeps the application's default.
    pub pool: Option<u32>,
    /// HTTP worker threads; `None` keeps the application's default.
    pub workers: Option<usize>,
    /// The tenant subscribes to a plan without limits.
    pub plan: bool,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

impl Config {
    fn from_env() -> anyhow::Result<Config> {
        Ok(Config {
            postgres: matches!(env_or("LOAD_ENGINE", "sqlite").as_str(), "postgres" | "pg"),
            pg_connect: match env_or("LOAD_PG_CONNECT", "tcp").as_str() {
                "socket" => PgConnect::Socket,
                "tcp" => PgConnect::Tcp,
                "tls" => PgConnect::Tls,
                other => anyhow::bail!("LOAD_PG_CONNECT is socket, tcp or tls, not {other}"),
            },
            plugins: match env_or("LOAD_PLUGINS", "3").as_str() {
                "bundled" => Plugins::Bundled,
                n => Plugins::Examples(n.parse::<usize>()?.min(3)),
            },
            seconds: env_or("LOAD_SECONDS", "10").parse()?,
            shoppers: env_or("LOAD_SHOPPERS", "8,32,64")
                .split(',')
                .map(|s| s.trim().parse())
                .collect::<Result<_, _>>()?,
            baseline: env_or("LOAD_BASELINE", "1") != "0",
            pool: std::env::var("LOAD_POOL").ok().map(|p| p.parse()).transpose()?,
            workers: std::env::var("LOAD_WORKERS").ok().map(|w| w.parse()).transpose()?,
            plan: env_or("LOAD_PLAN", "0") != "0",
        })
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

fn row(
    engine: &str,
    config: &Config,
    target: Target,
    shoppers: usize,
    http: &Run,
    base: Option<&Run>,
    check: &str,
) -> String {
    let (b_rate, b_p50, b_p99, ratio) = match base {
        Some(b) => (
            format!("{:.0}", b.rate()),
            format!("{:.1}", b.ms(0.50)),
            format!("{:.1}", b.ms(0.99)),
            format!("{:.0}%", 100.0 * http.rate() / b.rate().max(1e-9)),
        ),
        None => ("-".into(), "-".into(), "-".into(), "-".into()),
    };
    format!(
        "| {engine} | {} | {} | {shoppers} | {:.0} | {:.1} | {:.1} | {} | {b_rate} | {b_p50} | {b_p99} | {ratio} | {check} |",
        config.plugins,
        target.name(),
        http.rate(),
        http.ms(0.50),
        http.ms(0.99),
        http.failures_text(),
    )
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    let engine = if config.postgres { "PostgreSQL" } else { "SQLite" };
    let load_before = load_average();
    eprintln!("setting up ({engine}, {} plug-ins)...", config.plugins);
    let mall = Arc::new(Mall::open(&config).await?);
    let time = Duration::from_secs(config.seconds);
    // Warm-up: module caches, connection pools, the first order number row.
    let warm = drive::http(&mall, 8, Target::Spread, Duration::from_secs(1)).await;
    eprintln!("warm-up: {} checkouts, failures: {}", warm.ok, warm.failures_text());
    let template = drive::template(&mall).await?;

    let mut rows = Vec::new();
    for target in [Target::Hot, Target::Spread] {
        for &shoppers in &config.shoppers {
            settle(&mall).await?;
            let http = drive::http(&mall, shoppers, target, time).await;
            let base = if config.baseline {
                settle(&mall).await?;
                Some(drive::baseline(&mall, shoppers, target, time, template.clone()).await)
            } else {
                None
            };
            let check = check::oversell(&mall).await?;
            let line = row(engine, &config, target, shoppers, &http, base.as_ref(), &check.text());
            eprintln!("{line}");
            rows.push(line);
        }
    }
    let calls = check::calls_by_outcome(&mall).await?;
    let load_after = load_average();
    if let Some(name) = &mall.pg_database {
        mall::drop_pg_database(name).await?;
    }

    println!();
    let mut knobs = config.pool.map(|p| format!(" LOAD_POOL={p}")).unwrap_or_default();
    if let Some(workers) = config.workers {
        knobs.push_str(&format!(" LOAD_WORKERS={workers}"));
    }
    if config.postgres && config.pg_connect != PgConnect::Tcp {
        knobs.push_str(&format!(" LOAD_PG_CONNECT={}", config.pg_connect.name()));
    }
    println!(
        "`LOAD_ENGINE={} LOAD_PLUGINS={} LOAD_SECONDS={}{knobs} nice cargo bench --bench checkout_load`",
        if config.postgres { "postgres" } else { "sqlite" },
        config.plugins,
        config.seconds
    );
    println!();
    println!(
        "Load average (1/5/15 min) before: {load_before}; after: {load_after}. Cores: {}.",
        num_cores()
    );
    println!();
    println!("| engine | plug-ins | target | shoppers | HTTP checkouts/s | p50 ms | p99 ms | non-201 | baseline/s | p50 ms | p99 ms | HTTP / baseline | oversell check |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for line in rows {
        println!("{line}");
    }
    println!();
    let calls: Vec<String> = calls.iter().map(|(o, n)| format!("{o}: {n}")).collect();
    println!(
        "Plug-in calls kept, by outcome: {}",
        if calls.is_empty() {
            "none".into()
        } else {
            calls.join(", ")
        }
    );
    Ok(())
}

/// Lets the dispatcher route the events of the cells before (see
/// [`check::drained`]); says how long it took.
async fn settle(mall: &Mall) -> anyhow::Result<()> {
    let (took, waiting) = check::drained(mall, Duration::from_secs(180)).await?;
    if waiting > 0 {
        eprintln!("routed {waiting} waiting events in {:.1} s", took.as_secs_f64());
    }
    Ok(())
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
