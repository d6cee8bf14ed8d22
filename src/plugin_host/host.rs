//! `Host`: the engine, the linker, the artifact cache and the epoch ticker,
//! created once per process. Plug-ins are loaded and called through it.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use livemall_abi::Hook;
use sha2::{Digest, Sha256};
use wasmtime::{Engine, InstancePre, Linker, Module, ModuleExport};

use super::cache::ArtifactCache;
use super::engine::{build_engine, EpochTicker, HostConfig};
use super::failure::LoadError;
use super::imports::{linker, CallState};
use super::limits::Limits;
use super::validate::{check_bytes, check_module};

/// The plug-in runtime of one process.
pub struct Host {
    pub(crate) engine: Engine,
    linker: Linker<CallState>,
    pub(crate) config: HostConfig,
    cache: Option<ArtifactCache>,
    /// One permit per pool slot: async callers wait for a free slot instead
    /// of failing when every instance is busy.
    pub(crate) slots: Arc<tokio::sync::Semaphore>,
    _ticker: EpochTicker,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("config", &self.config).finish()
    }
}

/// Where a loaded plug-in's machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactSource {
    /// Compiled now (and written to the cache if there is one).
    Compiled,
    /// Read from the artifact cache.
    Cache,
}

/// A validated, compiled plug-in module, ready to be instantiated per call.
pub struct Plugin {
    pub(crate) pre: InstancePre<CallState>,
    hooks: Vec<Hook>,
    /// Each hook's export, resolved once so a call skips the name lookup.
    exports: Vec<ModuleExport>,
    sha256: String,
    source: ArtifactSource,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("sha256", &self.sha256)
            .field("hooks", &self.hooks)
            .field("source", &self.source)
            .finish()
    }
}

impl Plugin {
    /// The hooks the module exports: its subscription list.
    pub fn hooks(&self) -> &[Hook] {
        &self.hooks
    }
    /// Whether the module exports `hook`.
    pub fn handles(&self, hook: Hook) -> bool {
        self.hooks.contains(&hook)
    }
    /// The export behind `hook`, if the module has it.
    pub(crate) fn export(&self, hook: Hook) -> Option<&ModuleExport> {
        let index = self.hooks.iter().position(|h| *h == hook)?;
        self.exports.get(index)
    }
    /// Hex sha256 of the module bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// Compiled now or read from the cache.
    pub fn source(&self) -> ArtifactSource {
        self.source
    }
}

/// The process-wide host made by [`Host::shared`].
static SHARED: Mutex<Option<Arc<Host>>> = Mutex::new(None);

impl Host {
    /// Builds the engine, the linker and the epoch ticker.
    pub fn new(config: HostConfig) -> anyhow::Result<Host> {
        let engine = build_engine(&config)
            .map_err(anyhow::Error::from)
            .context("configuring the wasm engine")?;
        let linker = linker(&engine)
            .map_err(anyhow::Error::from)
            .context("defining the host functions")?;
        let cache = config.cache_dir.clone().map(|dir| ArtifactCache::new(dir, &engine));
        let ticker = EpochTicker::start(&engine, config.epoch_tick).context("starting the epoch ticker")?;
        let slots = Arc::new(tokio::sync::Semaphore::new(config.slots as usize));
        Ok(Host {
            engine,
            linker,
            config,
            cache,
            slots,
            _ticker: ticker,
        })
    }

    /// The one host of this process, created with `config` on first use;
    /// later calls return it and ignore their `config`. Each host reserves
    /// address space for its whole pool, so a process (or test binary)
    /// should not make many.
    pub fn shared(config: HostConfig) -> anyhow::Result<Arc<Host>> {
        let mut shared = SHARED
            .lock()
            .map_err(|_| anyhow::anyhow!("the shared plug-in host lock is poisoned"))?;
        if let Some(host) = shared.as_ref() {
            return Ok(Arc::clone(host));
        }
        let host = Arc::new(Host::new(config)?);
        *shared = Some(Arc::clone(&host));
        Ok(host)
    }

    /// The settings this host was built with.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Validates and compiles a module (or reads its cached artifact).
    #[tracing::instrument(skip_all, fields(bytes = bytes.len()))]
    pub fn load(&self, bytes: &[u8], limits: &Limits) -> Result<Plugin, LoadError> {
        check_bytes(bytes, limits.module_bytes)?;
        let sha256 = hex::encode(Sha256::digest(bytes));
        let cached = self.cache.as_ref().and_then(|cache| cache.load(&self.engine, &sha256));
        let (module, source) = match cached {
            Some(module) => (module, ArtifactSource::Cache),
            None => (self.compile(bytes)?, ArtifactSource::Compiled),
        };
        let hooks = check_module(&module)?;
        if source == ArtifactSource::Compiled {
            if let Some(cache) = &self.cache {
                // A failed write only costs a recompile next time.
                if let Err(error) = cache.store(&module, &sha256) {
                    tracing::warn!(error = format!("{error:#}"), "caching a plug-in artifact");
                }
            }
        }
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| LoadError::Compile(format!("{e:#}")))?;
        let exports = hooks
            .iter()
            .map(|hook| module.get_export_index(hook.as_str()))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| LoadError::Compile("a hook export vanished after validation".into()))?;
        Ok(Plugin {
            pre,
            hooks,
            exports,
            sha256,
            source,
        })
    }

    fn compile(&self, bytes: &[u8]) -> Result<Module, LoadError> {
        Module::from_binary(&self.engine, bytes).map_err(|e| LoadError::Compile(format!("{e:#}")))
    }
}
