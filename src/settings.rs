//! Settings: built-in defaults, then an optional TOML file, then `LIVEMALL_*`
//! environment variables (`__` separates sections), then `DATABASE_URL`.

use std::path::PathBuf;

use anyhow::Context;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub plugins: PluginSettings,
    pub live: LiveSettings,
    pub events: EventSettings,
    #[serde(default)]
    pub billing: crate::billing::BillingSettings,
    /// Where the embedded database, signing key and module cache live.
    pub data_dir: PathBuf,
    /// Seed a demo tenant and store on start; unset means "only on the
    /// embedded SQLite default".
    pub demo_data: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    /// Largest accepted JSON body in bytes.
    pub json_limit: usize,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish on shutdown.
    pub shutdown_timeout: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://...` or `postgres://...`; empty means `<data_dir>/livemall.db`.
    pub url: String,
    /// Pool size. On PostgreSQL, more connections than about two per core
    /// of the database server make checkouts slower, not faster: the
    /// backends contend for the cores and for the rows all checkouts lock.
    pub max_connections: u32,
    /// PostgreSQL role without BYPASSRLS that every transaction switches to.
    pub app_role: String,
    /// Apply pending migrations when the server starts.
    pub migrate_on_start: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSettings {
    pub issuer: String,
    pub audience: String,
    pub access_token_seconds: i64,
    pub refresh_token_days: i64,
    /// HS256 signing keys; the first signs, all verify (rotation). Empty:
    /// a random key is generated once and kept in `<data_dir>/signing.key`.
    pub signing_keys: Vec<SigningKey>,
    /// Failed logins for one email within `lockout_minutes` before it is locked.
    pub max_failed_logins: i32,
    pub lockout_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SigningKey {
    pub kid: String,
    pub secret: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PluginSettings {
    /// Plug-in instances that can run at once in this process (pool slots).
    pub pool_slots: u32,
    /// Bundled plug-ins registered at start-up: `<slug>.wasm` with `<slug>.json`.
    pub bundled_dir: PathBuf,
    /// Consecutive failures that switch an install off.
    pub breaker_threshold: u32,
    /// Calls kept per install for the merchant to read; older ones are pruned.
    pub calls_kept: u32,
    /// Pruning runs on about one recorded call in this many, per install.
    pub calls_prune_every: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LiveSettings {
    /// Products pinned in one stream at once.
    pub max_pins: usize,
    /// Feed events kept per stream for `Last-Event-ID` replay.
    pub feed_window: i64,
    /// How often a stream's fan-out task looks for events written by other processes.
    pub feed_poll_ms: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventSettings {
    /// Run the dispatcher and the timers in this process.
    pub dispatcher: bool,
    /// How often the dispatcher looks for work when nothing woke it.
    pub poll_ms: u64,
    /// After a round that was not full, how long events gather before the
    /// next, so that one transaction routes many under load.
    #[serde(default = "default_gather_ms")]
    pub gather_ms: u64,
    /// Deliveries handled per transaction.
    pub batch: u64,
    /// Tries before a delivery is dead.
    pub max_attempts: i32,
    /// Wait before the first retry; doubled for each later one.
    pub backoff_ms: u64,
}

fn default_gather_ms() -> u64 {
    5
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogSettings {
    /// `json` or `pretty`.
    pub format: String,
    /// An `EnvFilter` directive, e.g. `info,sqlx=warn`.
    pub filter: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            server: ServerSettings {
                host: "127.0.0.1".into(),
                port: 8080,
                json_limit: 256 * 1024,
                workers: 0,
                shutdown_timeout: 10,
            },
            database: DatabaseSettings {
                url: String::new(),
                max_connections: 4,
                app_role: "livemall_app".into(),
                migrate_on_start: true,
            },
            auth: AuthSettings {
                issuer: "livemall".into(),
                audience: "livemall-api".into(),
                access_token_seconds: 15 * 60,
                refresh_token_days: 30,
                signing_keys: Vec::new(),
                max_failed_logins: 5,
                lockout_minutes: 15,
            },
            log: LogSettings {
                format: "pretty".into(),
                filter: "info,sqlx=warn,sea_orm=warn,wasmtime=warn,cranelift=warn".into(),
            },
            plugins: PluginSettings {
                pool_slots: 1_000,
                bundled_dir: PathBuf::from("plugins/dist"),
                breaker_threshold: 5,
                // A few days of a busy install's calls; enough to see a pattern, bounded storage.
                calls_kept: 1_000,
                // Pruning reads ~calls_kept index entries; doing it on 1 call in 32 keeps that
                // off most checkouts while an install stays within a few dozen rows of the bound.
                calls_prune_every: 32,
            },
            live: LiveSettings {
                max_pins: 3,
                feed_window: 1_000,
                feed_poll_ms: 250,
            },
            events: EventSettings {
                dispatcher: true,
                poll_ms: 250,
                gather_ms: default_gather_ms(),
                batch: 64,
                max_attempts: 6,
                // 1 s, 2 s, 4 s, 8 s, 16 s: a plug-in gets about half a minute to recover.
                backoff_ms: 1_000,
            },
            billing: crate::billing::BillingSettings::default(),
            data_dir: PathBuf::from("data"),
            demo_data: None,
        }
    }
}

impl Settings {
    /// Loads settings from `LIVEMALL_CONFIG` (default `livemall.toml`, optional)
    /// and the environment.
    pub fn load() -> anyhow::Result<Settings> {
        let file = std::env::var("LIVEMALL_CONFIG").unwrap_or_else(|_| "livemall.toml".into());
        let mut settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(&file))
            .merge(Env::prefixed("LIVEMALL_").split("__"))
            .extract()
            .context("reading settings")?;
        if let Ok(url) = std::env::var("DATABASE_URL") {
            if !url.is_empty() {
                settings.database.url = url;
            }
        }
        Ok(settings)
    }

    pub fn seed_demo(&self) -> bool {
        self.demo_data.unwrap_or(self.database.url.is_empty())
    }

    /// The database URL with the embedded default filled in.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("livemall.db").display())
        } else {
            self.database.url.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::result_large_err)] // figment::Jail fixes the closure's error type.
    fn file_then_environment_override_the_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "livemall.toml",
                "[server]\nport = 9000\njson_limit = 1024\n[log]\nformat = \"json\"\n",
            )?;
            jail.set_env("LIVEMALL_SERVER__PORT", "9100");
            jail.set_env("DATABASE_URL", "postgres://db/livemall");
            let s = Settings::load().map_err(|e| e.to_string())?;
            assert_eq!(s.server.port, 9100, "environment beats the file");
            assert_eq!(s.server.json_limit, 1024, "file beats the default");
            assert_eq!(s.log.format, "json");
            assert_eq!(s.database_url(), "postgres://db/livemall");
            assert!(!s.seed_demo(), "no demo data on a real database");
            Ok(())
        });
    }

    #[test]
    fn the_default_is_embedded_sqlite_with_demo_data() {
        let s = Settings::default();
        assert!(s.database_url().starts_with("sqlite://data/livemall.db"));
        assert!(s.seed_demo());
        assert_eq!((s.server.host.as_str(), s.server.port), ("127.0.0.1", 8080));
    }
}
