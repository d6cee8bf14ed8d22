//! Precompiled artifacts on disk, keyed by the module's sha256 and a
//! fingerprint of the engine (wasmtime version and every setting that
//! changes generated code), so a cache file is only ever read by an engine
//! that produced an identical one.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

/// Feeds `Hash` output into sha256, for a fingerprint stable across runs
/// (std's `DefaultHasher` is not).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0 // unused: the digest is read with `finalize`
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Fingerprint of the engine's code generation settings (hex, 16 chars).
pub(crate) fn engine_fingerprint(engine: &Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    // The compatibility hash already covers wasmtime's version; the prefix
    // makes our own key format versioned too.
    "livemall-artifact-v1".hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    let digest = hasher.0.finalize();
    hex::encode(&digest[..8])
}

/// A directory of `<module sha256>-<engine fingerprint>.cwasm` files.
#[derive(Debug, Clone)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
    fingerprint: String,
}

/// Distinguishes temporary files of concurrent writers in one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl ArtifactCache {
    pub(crate) fn new(dir: PathBuf, engine: &Engine) -> Self {
        ArtifactCache {
            dir,
            fingerprint: engine_fingerprint(engine),
        }
    }

    pub(crate) fn path(&self, module_sha256: &str) -> PathBuf {
        self.dir.join(format!("{module_sha256}-{}.cwasm", self.fingerprint))
    }

    /// The cached module, or `None` when absent or unusable (then it is recompiled).
    pub(crate) fn load(&self, engine: &Engine, module_sha256: &str) -> Option<Module> {
        let path = self.path(module_sha256);
        if !path.is_file() {
            return None;
        }
        // SAFETY: `deserialize_file` maps the file and runs its machine code,
        // so it must be an artifact wasmtime produced. Only this cache writes
        // into the directory, always via `Module::serialize` and an atomic
        // rename, so a reader never sees a partial file; the name binds the
        // module hash and the engine fingerprint, and wasmtime checks its own
        // header and config compatibility again. The directory must be
        // writable only by this service (as is its database).
        match unsafe { Module::deserialize_file(engine, &path) } {
            Ok(module) => Some(module),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "unusable plug-in artifact; recompiling");
                None
            }
        }
    }

    /// Writes the artifact via a temporary file and a rename, so readers see
    /// the whole file or none.
    pub(crate) fn store(&self, module: &Module, module_sha256: &str) -> anyhow::Result<PathBuf> {
        let bytes = module
            .serialize()
            .map_err(anyhow::Error::from)
            .context("serializing a compiled plug-in")?;
        std::fs::create_dir_all(&self.dir)
            .with_context(|| format!("creating the artifact cache {}", self.dir.display()))?;
        let path = self.path(module_sha256);
        let tmp = self.dir.join(format!(
            ".{module_sha256}.{}.{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        write_file(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).with_context(|| format!("renaming to {}", path.display()))?;
        Ok(path)
    }
}

fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let result = (|| {
        let mut file = std::fs::File::create(path)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}
