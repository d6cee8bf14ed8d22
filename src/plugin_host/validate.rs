//! Load-time checks: the module is a wasm core module within the size limit,
//! imports only `livemall_v1`'s four functions, and exports the marker,
//! memory and at least one well-typed hook.

use livemall_abi::{Hook, HOST_FUNCTIONS, IMPORT_MODULE, MARKER_EXPORT, MEMORY_EXPORT};
use wasmtime::{ExternType, FuncType, Module, ValType};

use super::failure::LoadError;

const WASM_MAGIC: &[u8; 4] = b"\0asm";
const CORE_VERSION: [u8; 4] = [1, 0, 0, 0];

/// Checks that need no compilation: size and header.
pub(crate) fn check_bytes(bytes: &[u8], limit: usize) -> Result<(), LoadError> {
    if bytes.len() > limit {
        return Err(LoadError::TooLarge {
            bytes: bytes.len(),
            limit,
        });
    }
    if bytes.len() < 8 || &bytes[..4] != WASM_MAGIC {
        // Text modules usually open with comments, so look past the first line.
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        let hint = if text.contains("(module") {
            "this is WebAssembly text; convert it to binary (the local runner accepts .wat)"
        } else {
            "it does not start with the \\0asm header"
        };
        return Err(LoadError::NotWasm(hint.to_string()));
    }
    if bytes[4..8] != CORE_VERSION {
        return Err(LoadError::NotWasm(
            "this is a component or an unknown version; ABI v1 takes a wasm32 core module".into(),
        ));
    }
    Ok(())
}

/// Checks imports and exports of a compiled module; returns the hooks it exports.
pub(crate) fn check_module(module: &Module) -> Result<Vec<Hook>, LoadError> {
    for import in module.imports() {
        check_import(import.module(), import.name(), &import.ty())?;
    }
    let mut marker = None;
    let mut memory = None;
    let mut hooks = Vec::new();
    for export in module.exports() {
        let ty = export.ty();
        match export.name() {
            MARKER_EXPORT => marker = Some(ty),
            MEMORY_EXPORT => memory = Some(ty),
            name => {
                if let Some(hook) = Hook::parse(name) {
                    if !matches!(&ty, ExternType::Func(f) if signature(f) == "() -> (i32)") {
                        return Err(LoadError::BadHookExport {
                            name: name.to_string(),
                            found: describe(&ty),
                        });
                    }
                    hooks.push(hook);
                }
            }
        }
    }
    match marker {
        Some(ExternType::Func(f)) if signature(&f) == "() -> ()" => {}
        Some(other) => return Err(LoadError::MissingMarker(format!("; found {}", describe(&other)))),
        None => return Err(LoadError::MissingMarker(String::new())),
    }
    match memory {
        Some(ExternType::Memory(_)) => {}
        Some(other) => return Err(LoadError::MissingMemory(format!("; `memory` is {}", describe(&other)))),
        None => return Err(LoadError::MissingMemory(String::new())),
    }
    if hooks.is_empty() {
        return Err(LoadError::NoHooks);
    }
    Ok(hooks)
}

fn check_import(module: &str, name: &str, ty: &ExternType) -> Result<(), LoadError> {
    let refuse = |reason: String| LoadError::ForbiddenImport {
        module: module.to_string(),
        name: name.to_string(),
        reason,
    };
    if module != IMPORT_MODULE {
        let reason = if module.starts_with("wasi") {
            "WASI is not available to plug-ins; build for wasm32-unknown-unknown and use only livemall_v1".to_string()
        } else {
            format!("plug-ins may import only from `{IMPORT_MODULE}`")
        };
        return Err(refuse(reason));
    }
    let Some((_, params, results)) = HOST_FUNCTIONS.iter().find(|(n, _, _)| *n == name) else {
        let known: Vec<&str> = HOST_FUNCTIONS.iter().map(|(n, _, _)| *n).collect();
        return Err(refuse(format!(
            "`{IMPORT_MODULE}` has no `{name}`; it has {}",
            known.join(", ")
        )));
    };
    let expected = format!("({}) -> ({})", params.join(", "), results.join(", "));
    match ty {
        ExternType::Func(f) if signature(f) == expected => Ok(()),
        other => Err(refuse(format!(
            "must be a function {expected}, found {}",
            describe(other)
        ))),
    }
}

fn valtype(ty: &ValType) -> String {
    match ty {
        ValType::I32 => "i32".into(),
        ValType::I64 => "i64".into(),
        ValType::F32 => "f32".into(),
        ValType::F64 => "f64".into(),
        ValType::V128 => "v128".into(),
        ValType::Ref(r) => r.to_string(),
    }
}

/// A function type written like `HOST_FUNCTIONS`: `(i32, i32) -> (i32)`.
fn signature(f: &FuncType) -> String {
    let params: Vec<String> = f.params().map(|t| valtype(&t)).collect();
    let results: Vec<String> = f.results().map(|t| valtype(&t)).collect();
    format!("({}) -> ({})", params.join(", "), results.join(", "))
}

fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => format!("a function {}", signature(f)),
        ExternType::Global(_) => "a global".into(),
        ExternType::Table(_) => "a table".into(),
        ExternType::Memory(_) => "a memory".into(),
        ExternType::Tag(_) => "a tag".into(),
    }
}
