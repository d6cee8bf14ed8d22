#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn a_new_plugin_has_a_crate_a_handler_a_test_and_an_event() {
    let tmp = tempfile::tempdir().unwrap();
    let root = new_plugin("spring-sale", tmp.path()).unwrap();
    assert_eq!(root, tmp.path().join("spring-sale"));

    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"spring-sale\""));
    assert!(manifest.contains("crate-type = [\"cdylib\"]"));
    let sdk = sdk_path().unwrap();
    let dependency = format!("livemall-sdk = {{ path = \"{}\" }}", sdk.display());
    assert!(manifest.contains(&dependency), "{manifest}");

    let lib = fs::read_to_string(root.join("src/lib.rs")).unwrap();
    assert!(lib.contains("cart_price => price"));
    assert!(lib.contains("#[test]"));
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    assert!(readme.contains("release/spring_sale.wasm"));
    assert!(!readme.contains("{{"));

    let event: serde_json::Value = serde_json::from_str(&fs::read_to_string(root.join("event.json")).unwrap()).unwrap();
    assert_eq!(event["codes"][0], "WELCOME");
    let config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(root.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["percent"], 5);
    let lock = fs::read_to_string(root.join("Cargo.lock")).unwrap();
    assert!(lock.contains("version = 3"));
}

#[test]
fn names_are_checked_with_a_clear_reason() {
    for good in ["a", "coupons", "flash-deals-2", "x9"] {
        validate_name(good).unwrap();
    }
    let cases = [
        ("", "1 to 64 characters"),
        ("Coupons", "contains 'C'"),
        ("my_plugin", "contains '_'"),
        ("2fast", "must start with a letter"),
        ("-x", "must start with a letter"),
        ("x-", "dash at the end"),
        ("a--b", "two in a row"),
        ("ünï", "contains 'ü'"),
    ];
    for (bad, reason) in cases {
        let err = validate_name(bad).unwrap_err().to_string();
        assert!(err.contains(reason), "{bad:?}: {err}");
    }
    assert!(validate_name(&"a".repeat(65)).is_err());
}

#[test]
fn an_existing_folder_with_files_is_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("taken")).unwrap();
    fs::write(tmp.path().join("taken/notes.txt"), "mine").unwrap();
    let err = new_plugin("taken", tmp.path()).unwrap_err().to_string();
    assert!(err.contains("already exists and is not empty"), "{err}");
    assert_eq!(fs::read_to_string(tmp.path().join("taken/notes.txt")).unwrap(), "mine");

    fs::create_dir(tmp.path().join("empty")).unwrap();
    new_plugin("empty", tmp.path()).unwrap();
}

#[test]
fn a_bad_name_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(new_plugin("Bad Name", tmp.path()).is_err());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}
