#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};

use super::Schema;

fn hello() -> Schema {
    Schema::parse(&json!({
        "type": "object",
        "title": "Quantity discount",
        "properties": {
            "percent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 10},
            "min_quantity": {"type": "integer", "minimum": 1},
            "label": {"type": "string", "minLength": 1, "maxLength": 5},
            "code": {"type": ["string", "null"], "pattern": "^[A-Z0-9]+$"},
            "mode": {"enum": ["line", "order"]},
            "codes": {"type": "array", "items": {"type": "string", "maxLength": 3}, "maxItems": 2},
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}
        },
        "required": ["min_quantity"],
        "additionalProperties": false
    }))
    .unwrap()
}

fn errors(schema: &Schema, config: Value) -> Vec<(String, String)> {
    let err = schema.validate(&config).unwrap_err();
    err.0
        .into_iter()
        .flat_map(|(k, v)| v.into_iter().map(move |m| (k.clone(), m)))
        .collect()
}

#[test]
fn a_valid_config_gets_its_defaults_filled_in() {
    let filled = hello().validate(&json!({"min_quantity": 3, "code": null})).unwrap();
    assert_eq!(filled, json!({"min_quantity": 3, "code": null, "percent": 10}));
    let kept = hello().validate(&json!({"min_quantity": 3.0, "percent": 0})).unwrap();
    assert_eq!(kept["percent"], 0, "a given value is never replaced by the default");
}

#[test]
fn every_bad_field_gets_its_own_message() {
    let found = errors(
        &hello(),
        json!({
            "percent": 150, "label": "", "code": "ab", "mode": "x", "codes": ["abcd", 1, "a"],
            "ratio": 1, "extra": true
        }),
    );
    let expected = [
        ("config.code", "must match the pattern `^[A-Z0-9]+$`"),
        ("config.codes", "must have at most 2 items"),
        ("config.codes[0]", "must be at most 3 characters"),
        ("config.codes[1]", "must be a string"),
        ("config.extra", "is not a known field"),
        ("config.label", "must be at least 1 characters"),
        ("config.min_quantity", "is required"),
        ("config.mode", "must be one of \"line\", \"order\""),
        ("config.percent", "must be at most 100"),
        ("config.ratio", "must be less than 1"),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(k, m)| (k.to_string(), m.to_string())).collect();
    assert_eq!(found, expected);
}

#[test]
fn types_are_named_in_the_message() {
    assert_eq!(
        errors(&hello(), json!({"min_quantity": 2.5})),
        vec![("config.min_quantity".to_string(), "must be an integer".to_string())]
    );
    assert_eq!(
        errors(&hello(), json!({"min_quantity": 1, "code": 7})),
        vec![("config.code".to_string(), "must be a string or null".to_string())]
    );
    assert_eq!(
        errors(&hello(), json!([1])),
        vec![("config".to_string(), "must be an object".to_string())]
    );
}

#[test]
fn schemas_outside_the_subset_are_refused_with_where_and_why() {
    let cases = [
        (json!({"type": "array"}), "the root must have"),
        (
            json!({"type": "object", "properties": {"a": {"$ref": "#/x"}}}),
            "at `properties.a.$ref`: the keyword `$ref` is not supported",
        ),
        (json!({"type": "object", "oneOf": []}), "`oneOf` is not supported"),
        (
            json!({"type": "object", "properties": {"a": {"type": "integr"}}}),
            "unknown type \"integr\"",
        ),
        (
            json!({"type": "object", "required": ["a"]}),
            "`a` is required but not among the properties",
        ),
        (
            json!({"type": "object", "properties": {"a": {"minimum": 5, "maximum": 1}}}),
            "is greater than `maximum`",
        ),
        (
            json!({"type": "object", "properties": {"a": {"pattern": "("}}}),
            "is not a valid pattern",
        ),
        (
            json!({"type": "object", "properties": {"a": {"type": "integer", "default": "x"}}}),
            "does not match its own schema",
        ),
        (
            json!({"type": "object", "properties": {"a": {"items": [{}]}}}),
            "tuple forms",
        ),
        (
            json!({"type": "object", "properties": {"a": {"minLength": -1}}}),
            "non-negative integer",
        ),
        (json!("object"), "a schema must be an object"),
    ];
    for (schema, expected) in cases {
        let err = Schema::parse(&schema).unwrap_err().to_string();
        assert!(err.contains(expected), "{schema}: {err}");
    }
}

#[test]
fn nesting_is_bounded() {
    let mut schema = json!({"type": "object"});
    for _ in 0..=super::MAX_DEPTH {
        schema = json!({"type": "object", "properties": {"a": schema}});
    }
    assert!(Schema::parse(&schema).unwrap_err().to_string().contains("nest at most"));
}

#[test]
fn nested_objects_and_additional_schemas_are_checked() {
    let schema = Schema::parse(&json!({
        "type": "object",
        "properties": {"limits": {"type": "object", "properties": {"max": {"type": "integer", "default": 5}}}},
        "additionalProperties": {"type": "boolean"}
    }))
    .unwrap();
    assert_eq!(
        schema.validate(&json!({"limits": {}, "flag": true})).unwrap(),
        json!({"limits": {"max": 5}, "flag": true})
    );
    assert_eq!(
        errors(&schema, json!({"limits": {"max": "x"}, "flag": 1})),
        vec![
            ("config.flag".to_string(), "must be a boolean".to_string()),
            ("config.limits.max".to_string(), "must be an integer".to_string())
        ]
    );
    assert!(Schema::parse(&json!({"type": "object"}))
        .unwrap()
        .validate(&json!({"any": [1]}))
        .is_ok());
}
