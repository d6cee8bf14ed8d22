//! Checking a configuration against a [`Schema`]: every field's problems
//! are collected (not just the first), keyed by their path.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::parse::compare;
use super::{Additional, Kind, Schema};
use crate::error::FieldErrors;

/// Per-field messages, keyed like `config.percent` or `config.codes[1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub FieldErrors);

pub(super) fn validate(schema: &Schema, config: &Value) -> Result<Value, ConfigErrors> {
    validate_at(schema, config, "config")
}

pub(super) fn validate_at(schema: &Schema, value: &Value, root: &str) -> Result<Value, ConfigErrors> {
    let mut errors = FieldErrors::new();
    let filled = visit(schema, value, root, &mut errors);
    if errors.is_empty() {
        Ok(filled)
    } else {
        Err(ConfigErrors(errors))
    }
}

fn push(out: &mut FieldErrors, path: &str, message: String) {
    out.entry(path.to_string()).or_default().push(message);
}

fn is_kind(kind: Kind, v: &Value) -> bool {
    match (kind, v) {
        (Kind::Object, Value::Object(_))
        | (Kind::Array, Value::Array(_))
        | (Kind::String, Value::String(_))
        | (Kind::Number, Value::Number(_))
        | (Kind::Boolean, Value::Bool(_))
        | (Kind::Null, Value::Null) => true,
        // JSON Schema counts 10.0 as an integer.
        (Kind::Integer, Value::Number(n)) => n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}

fn type_message(types: &[Kind]) -> String {
    let names: Vec<String> = types
        .iter()
        .enumerate()
        .map(|(i, k)| {
            if i == 0 {
                format!("{} {}", k.article(), k.as_str())
            } else {
                k.as_str().to_string()
            }
        })
        .collect();
    format!("must be {}", names.join(" or "))
}

/// Checks one value and returns it with defaults filled in.
fn visit(s: &Schema, v: &Value, path: &str, out: &mut FieldErrors) -> Value {
    if !s.types.is_empty() && !s.types.iter().any(|k| is_kind(*k, v)) {
        push(out, path, type_message(&s.types));
        return v.clone();
    }
    if let Some(allowed) = &s.allowed {
        if !allowed.contains(v) {
            let list: Vec<String> = allowed.iter().map(Value::to_string).collect();
            let message = match list.as_slice() {
                [one] => format!("must be {one}"),
                _ => format!("must be one of {}", list.join(", ")),
            };
            push(out, path, message);
        }
    }
    match v {
        Value::Number(n) => numeric(s, n, path, out),
        Value::String(text) => string(s, text, path, out),
        Value::Array(list) => return Value::Array(array(s, list, path, out)),
        Value::Object(map) => return Value::Object(object(s, map, path, out)),
        _ => {}
    }
    v.clone()
}

fn numeric(s: &Schema, n: &Number, path: &str, out: &mut FieldErrors) {
    let rules = [
        (&s.minimum, Ordering::Less, "at least"),
        (&s.maximum, Ordering::Greater, "at most"),
    ];
    for (bound, refused, words) in rules {
        if let Some(b) = bound {
            if compare(n, b) == refused {
                push(out, path, format!("must be {words} {b}"));
            }
        }
    }
    let strict = [
        (&s.exclusive_minimum, Ordering::Greater, "greater than"),
        (&s.exclusive_maximum, Ordering::Less, "less than"),
    ];
    for (bound, wanted, words) in strict {
        if let Some(b) = bound {
            if compare(n, b) != wanted {
                push(out, path, format!("must be {words} {b}"));
            }
        }
    }
}

fn string(s: &Schema, text: &str, path: &str, out: &mut FieldErrors) {
    // JSON Schema counts characters (code points), not bytes.
    let len = text.chars().count() as u64;
    if let Some(min) = s.min_length.filter(|m| len < *m) {
        push(out, path, format!("must be at least {min} characters"));
    }
    if let Some(max) = s.max_length.filter(|m| len > *m) {
        push(out, path, format!("must be at most {max} characters"));
    }
    if let Some(re) = s.pattern.as_ref().filter(|re| !re.is_match(text)) {
        push(out, path, format!("must match the pattern `{}`", re.as_str()));
    }
}

fn array(s: &Schema, list: &[Value], path: &str, out: &mut FieldErrors) -> Vec<Value> {
    let len = list.len() as u64;
    if let Some(min) = s.min_items.filter(|m| len < *m) {
        push(out, path, format!("must have at least {min} items"));
    }
    if let Some(max) = s.max_items.filter(|m| len > *m) {
        push(out, path, format!("must have at most {max} items"));
    }
    match &s.items {
        Some(item) => list
            .iter()
            .enumerate()
            .map(|(i, v)| visit(item, v, &format!("{path}[{i}]"), out))
            .collect(),
        None => list.to_vec(),
    }
}

fn object(s: &Schema, map: &Map<String, Value>, path: &str, out: &mut FieldErrors) -> Map<String, Value> {
    let mut filled = Map::new();
    for (key, v) in map {
        let here = format!("{path}.{key}");
        let checked = match (s.properties.get(key), &s.additional) {
            (Some(prop), _) => visit(prop, v, &here, out),
            (None, Additional::Allowed) => v.clone(),
            (None, Additional::Denied) => {
                push(out, &here, "is not a known field".into());
                continue;
            }
            (None, Additional::Schema(extra)) => visit(extra, v, &here, out),
        };
        filled.insert(key.clone(), checked);
    }
    // A property left out takes its default; a required one with a default is therefore never missing.
    for (key, prop) in &s.properties {
        if let (false, Some(default)) = (filled.contains_key(key), &prop.default) {
            filled.insert(key.clone(), default.clone());
        }
    }
    for name in &s.required {
        if !filled.contains_key(name) {
            push(out, &format!("{path}.{name}"), "is required".into());
        }
    }
    filled
}
