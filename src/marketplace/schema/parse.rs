//! From JSON to [`Schema`], refusing every keyword outside the subset.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use super::{Additional, Kind, Schema, SchemaError, MAX_DEPTH, MAX_PATTERN_LEN};

/// Accepted and ignored: they describe, they do not constrain.
const ANNOTATIONS: [&str; 10] = [
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "examples",
    "format",
    "deprecated",
    "readOnly",
    "writeOnly",
];

/// A compiled pattern may use at most this much memory; field patterns are
/// tiny, and the bound keeps a hostile manifest from costing much.
const PATTERN_SIZE_LIMIT: usize = 1 << 20;

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_string()
    } else {
        format!("{at}.{key}")
    }
}

fn fail<T>(at: &str, message: impl Into<String>) -> Result<T, SchemaError> {
    Err(SchemaError {
        at: at.to_string(),
        message: message.into(),
    })
}

pub(super) fn schema(value: &Value, at: &str, depth: usize) -> Result<Schema, SchemaError> {
    if depth > MAX_DEPTH {
        return fail(at, format!("schemas may nest at most {MAX_DEPTH} levels"));
    }
    let map = match value {
        Value::Object(map) => map,
        Value::Bool(true) => return Ok(Schema::default()),
        _ => return fail(at, "a schema must be an object"),
    };
    let mut s = Schema::default();
    for (key, v) in map {
        let here = join(at, key);
        match key.as_str() {
            "type" => s.types = types(v, &here)?,
            "enum" => match v {
                Value::Array(list) if !list.is_empty() => s.allowed = Some(list.clone()),
                _ => return fail(&here, "must be a non-empty array"),
            },
            "const" => s.allowed = Some(vec![v.clone()]),
            "properties" => {
                let Value::Object(props) = v else {
                    return fail(&here, "must be an object of schemas");
                };
                for (name, sub) in props {
                    s.properties
                        .insert(name.clone(), schema(sub, &join(&here, name), depth + 1)?);
                }
            }
            "required" => s.required = names(v, &here)?,
            "additionalProperties" => {
                s.additional = match v {
                    Value::Bool(true) => Additional::Allowed,
                    Value::Bool(false) => Additional::Denied,
                    other => Additional::Schema(Box::new(schema(other, &here, depth + 1)?)),
                }
            }
            "minimum" => s.minimum = Some(number(v, &here)?),
            "maximum" => s.maximum = Some(number(v, &here)?),
            "exclusiveMinimum" => s.exclusive_minimum = Some(number(v, &here)?),
            "exclusiveMaximum" => s.exclusive_maximum = Some(number(v, &here)?),
            "minLength" => s.min_length = Some(count(v, &here)?),
            "maxLength" => s.max_length = Some(count(v, &here)?),
            "minItems" => s.min_items = Some(count(v, &here)?),
            "maxItems" => s.max_items = Some(count(v, &here)?),
            "pattern" => s.pattern = Some(pattern(v, &here)?),
            "items" => match v {
                Value::Array(_) => return fail(&here, "must be one schema (tuple forms are not supported)"),
                other => s.items = Some(Box::new(schema(other, &here, depth + 1)?)),
            },
            "default" => s.default = Some(v.clone()),
            k if ANNOTATIONS.contains(&k) => {}
            other => return fail(&here, format!("the keyword `{other}` is not supported")),
        }
    }
    coherent(&s, map, at)?;
    Ok(s)
}

fn types(v: &Value, at: &str) -> Result<Vec<Kind>, SchemaError> {
    let names: Vec<&Value> = match v {
        Value::String(_) => vec![v],
        Value::Array(list) if !list.is_empty() => list.iter().collect(),
        _ => return fail(at, "must be a type name or a non-empty list of them"),
    };
    let mut kinds = Vec::with_capacity(names.len());
    for name in names {
        let kind = name.as_str().and_then(Kind::parse);
        match kind {
            Some(k) if !kinds.contains(&k) => kinds.push(k),
            Some(k) => return fail(at, format!("`{}` is listed twice", k.as_str())),
            None => return fail(at, format!("unknown type {name}")),
        }
    }
    Ok(kinds)
}

fn names(v: &Value, at: &str) -> Result<Vec<String>, SchemaError> {
    let Value::Array(list) = v else {
        return fail(at, "must be an array of property names");
    };
    list.iter()
        .map(|n| match n {
            Value::String(s) => Ok(s.clone()),
            _ => fail(at, "must be an array of property names"),
        })
        .collect()
}

fn number(v: &Value, at: &str) -> Result<Number, SchemaError> {
    match v {
        Value::Number(n) => Ok(n.clone()),
        _ => fail(at, "must be a number"),
    }
}

fn count(v: &Value, at: &str) -> Result<u64, SchemaError> {
    v.as_u64()
        .map_or_else(|| fail(at, "must be a non-negative integer"), Ok)
}

fn pattern(v: &Value, at: &str) -> Result<regex::Regex, SchemaError> {
    let Value::String(source) = v else {
        return fail(at, "must be a string");
    };
    if source.len() > MAX_PATTERN_LEN {
        return fail(at, format!("must be at most {MAX_PATTERN_LEN} characters"));
    }
    regex::RegexBuilder::new(source)
        .size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .or_else(|e| fail(at, format!("is not a valid pattern: {e}")))
}

/// Orders two JSON numbers; integers exactly, anything else as f64.
pub(super) fn compare(a: &Number, b: &Number) -> Ordering {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x.cmp(&y);
    }
    let (x, y) = (a.as_f64().unwrap_or(f64::NAN), b.as_f64().unwrap_or(f64::NAN));
    x.partial_cmp(&y).unwrap_or(Ordering::Equal)
}

/// Rules that make a schema impossible to satisfy or surely a mistake.
fn coherent(s: &Schema, raw: &Map<String, Value>, at: &str) -> Result<(), SchemaError> {
    for name in &s.required {
        if !s.properties.contains_key(name) {
            return fail(
                &join(at, "required"),
                format!("`{name}` is required but not among the properties"),
            );
        }
    }
    let pairs = [
        ("minimum", &s.minimum, "maximum", &s.maximum),
        (
            "exclusiveMinimum",
            &s.exclusive_minimum,
            "exclusiveMaximum",
            &s.exclusive_maximum,
        ),
    ];
    for (low_name, low, high_name, high) in pairs {
        if let (Some(l), Some(h)) = (low, high) {
            if compare(l, h) == Ordering::Greater {
                return fail(&join(at, low_name), format!("is greater than `{high_name}`"));
            }
        }
    }
    for (low_name, low, high) in [
        ("minLength", s.min_length, s.max_length),
        ("minItems", s.min_items, s.max_items),
    ] {
        if let (Some(l), Some(h)) = (low, high) {
            if l > h {
                return fail(&join(at, low_name), "is greater than its maximum");
            }
        }
    }
    if let Some(default) = raw.get("default") {
        if let Err(errors) = super::check::validate_at(s, default, "default") {
            let first = errors.0.into_iter().next();
            let detail = first.map(|(k, v)| format!("{k} {}", v.join("; "))).unwrap_or_default();
            return fail(&join(at, "default"), format!("does not match its own schema: {detail}"));
        }
    }
    Ok(())
}
