//! Loading: refusals that name the problem, and the artifact cache.

use livemall::plugin_host::{ArtifactSource, Host, HostConfig, Limits, LoadError};

use super::*;

fn refusal(bytes: &[u8]) -> LoadError {
    host().load(bytes, &Limits::default()).unwrap_err()
}

fn refusal_of(name: &str) -> LoadError {
    refusal(&guest(name))
}

#[test]
fn a_wasi_import_is_refused_saying_wasi_is_not_available() {
    let error = refusal_of("wasi_import");
    assert_eq!(error.code(), "forbidden_import");
    let text = error.to_string();
    assert!(
        text.contains("wasi_snapshot_preview1::fd_write") && text.contains("WASI is not available"),
        "{text}"
    );
    assert_host_still_serves();
}

#[test]
fn an_unknown_import_is_refused_by_name() {
    let error = refusal_of("unknown_import");
    assert_eq!(error.code(), "forbidden_import");
    assert!(error.to_string().contains("livemall_v1::now"), "{error}");
    assert_host_still_serves();
}

#[test]
fn a_host_function_imported_with_the_wrong_type_is_refused() {
    let error = refusal_of("wrong_import_type");
    assert_eq!(error.code(), "forbidden_import");
    assert!(error.to_string().contains("(i32, i32, i32) -> (i32)"), "{error}");
}

#[test]
fn a_module_without_the_marker_is_refused() {
    assert_eq!(refusal_of("no_marker").code(), "missing_marker");
    assert_host_still_serves();
}

#[test]
fn a_module_without_memory_is_refused() {
    assert_eq!(refusal_of("no_memory").code(), "missing_memory");
    assert_host_still_serves();
}

#[test]
fn a_module_without_a_hook_is_refused() {
    assert_eq!(refusal_of("no_hook").code(), "no_hooks");
    assert_host_still_serves();
}

#[test]
fn a_hook_export_with_the_wrong_type_is_refused() {
    let error = refusal_of("bad_hook_type");
    assert_eq!(error.code(), "bad_hook_export");
    assert!(error.to_string().contains("cart.price"), "{error}");
    assert_host_still_serves();
}

#[test]
fn bytes_that_are_not_wasm_are_refused() {
    assert_eq!(refusal(b"MZ\x90\x00 definitely not wasm").code(), "not_wasm");
    let text = std::fs::read(guest_path("echo_lines")).unwrap();
    let error = refusal(&text);
    assert_eq!(error.code(), "not_wasm");
    assert!(error.to_string().contains("WebAssembly text"), "{error}");
    assert_host_still_serves();
}

#[test]
fn a_module_over_the_size_limit_is_refused() {
    // A valid module padded with a custom section to one byte over 1 MiB.
    let mut bytes = guest("echo_lines");
    let limit = Limits::default().module_bytes;
    let payload = limit + 1 - bytes.len() - 1 - 5 - 1 - 3;
    bytes.push(0); // custom section id
    let size = (1 + 3 + payload) as u32; // name length + name + payload
    for i in 0..5 {
        let more = if i < 4 { 0x80 } else { 0 };
        bytes.push(((size >> (7 * i)) & 0x7f) as u8 | more);
    }
    bytes.push(3);
    bytes.extend_from_slice(b"pad");
    bytes.resize(bytes.len() + payload, 0);
    assert_eq!(bytes.len(), limit + 1);
    let error = refusal(&bytes);
    assert_eq!(error.code(), "too_large");
    // The same bytes load under a raised limit: the size was the only problem.
    let raised = Limits::builder().module_bytes(2 * limit).build();
    assert!(host().load(&bytes, &raised).is_ok());
    assert_host_still_serves();
}

#[test]
fn a_second_load_reads_the_precompiled_artifact_from_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cached = Host::new(HostConfig::small(Some(dir.path().to_path_buf()))).unwrap();
    let bytes = guest("echo_lines");
    let first = cached.load(&bytes, &Limits::default()).unwrap();
    assert_eq!(first.source(), ArtifactSource::Compiled);
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].to_string_lossy().starts_with(first.sha256()));

    let second = cached.load(&bytes, &Limits::default()).unwrap();
    assert_eq!(second.source(), ArtifactSource::Cache);
    let request = livemall::plugin_host::CallRequest::new(
        livemall_abi::Hook::CartPrice,
        envelope(livemall_abi::Hook::CartPrice, cart(4)),
    );
    let outcome = cached.call(&second, &request, &Limits::default()).unwrap();
    assert_eq!(outcome.effects.adjustments[0].amount, 4);
}

#[test]
fn a_corrupt_cache_file_is_recompiled_and_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let cached = Host::new(HostConfig::small(Some(dir.path().to_path_buf()))).unwrap();
    let bytes = guest("echo_lines");
    cached.load(&bytes, &Limits::default()).unwrap();
    let file = std::fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
    std::fs::write(&file, b"garbage").unwrap();
    let plugin = cached.load(&bytes, &Limits::default()).unwrap();
    assert_eq!(plugin.source(), ArtifactSource::Compiled);
    let again = cached.load(&bytes, &Limits::default()).unwrap();
    assert_eq!(again.source(), ArtifactSource::Cache);
}
