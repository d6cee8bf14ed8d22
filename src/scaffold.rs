//! `livemall plugin new`: creates a plug-in crate that builds and passes its
//! tests as generated.
//!
//! The crate depends on the SDK by path. The SDK is the `sdk/guest` folder of
//! the livemall checkout this binary was built from, unless the environment
//! variable `LIVEMALL_SDK_PATH` names another one. The SDK workspace's
//! `Cargo.lock` is copied too, so the new crate starts with the versions known
//! to build with the guest toolchain (Rust 1.63).

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

/// Environment variable naming the SDK (`sdk/guest`) a new plug-in depends on.
pub const SDK_PATH_ENV: &str = "LIVEMALL_SDK_PATH";

/// Longest plug-in name; it becomes a crate and a file name.
const MAX_NAME_LEN: usize = 64;

/// Template files, embedded so the binary can scaffold from anywhere.
const TEMPLATES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("scaffold/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("scaffold/lib.rs.tmpl")),
    ("README.md", include_str!("scaffold/README.md.tmpl")),
    ("event.json", include_str!("scaffold/event.json")),
    ("config.json", include_str!("scaffold/config.json")),
    (".gitignore", include_str!("scaffold/gitignore.tmpl")),
    (".cargo/config.toml", include_str!("scaffold/cargo-config.toml")),
];

/// Creates the plug-in `name` in `dir/name` and returns that folder.
///
/// `name` is lowercase ASCII letters, digits and single `-` between them,
/// starting with a letter. The folder must not exist or be empty.
pub fn new_plugin(name: &str, dir: &Path) -> anyhow::Result<PathBuf> {
    validate_name(name)?;
    let sdk = sdk_path()?;
    let root = dir.join(name);
    if root.exists() {
        let mut entries = fs::read_dir(&root).with_context(|| format!("reading {}", root.display()))?;
        if entries.next().is_some() {
            bail!("{} already exists and is not empty", root.display());
        }
    }
    let sdk_text = sdk
        .to_str()
        .with_context(|| format!("the SDK path {} is not UTF-8", sdk.display()))?;
    for (file, template) in TEMPLATES {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{sdk_path}}", &toml_escape(sdk_text));
        write(&root.join(file), &text)?;
    }
    // The lockfile pins versions that build with Rust 1.63; cargo drops the
    // entries the new crate does not use and adds the crate itself.
    if let Some(lock) = sdk.parent().map(|workspace| workspace.join("Cargo.lock")) {
        if lock.is_file() {
            fs::copy(&lock, root.join("Cargo.lock")).with_context(|| format!("copying {}", lock.display()))?;
        }
    }
    Ok(root)
}

/// Checks a plug-in name, saying what is wrong.
pub fn validate_name(name: &str) -> anyhow::Result<()> {
    let rule = "use lowercase letters, digits and single dashes, starting with a letter";
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        bail!("plug-in name must be 1 to {MAX_NAME_LEN} characters long; {rule}");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        bail!("plug-in name `{name}` contains {c:?}; {rule}");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        bail!("plug-in name `{name}` must start with a letter; {rule}");
    }
    if name.ends_with('-') || name.contains("--") {
        bail!("plug-in name `{name}` has a dash at the end or two in a row; {rule}");
    }
    Ok(())
}

/// The SDK a new plug-in depends on: `LIVEMALL_SDK_PATH`, else this checkout's.
pub fn sdk_path() -> anyhow::Result<PathBuf> {
    let (path, origin) = match std::env::var_os(SDK_PATH_ENV) {
        Some(path) => (PathBuf::from(path), SDK_PATH_ENV),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("sdk/guest"),
            "the livemall checkout this binary was built from",
        ),
    };
    if !path.join("Cargo.toml").is_file() {
        bail!(
            "no livemall SDK at {} (from {origin}); set {SDK_PATH_ENV} to the sdk/guest \
             folder of a livemall checkout",
            path.display()
        );
    }
    path.canonicalize()
        .with_context(|| format!("resolving {}", path.display()))
}

fn toml_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

#[cfg(test)]
mod tests;
