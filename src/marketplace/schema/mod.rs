//! Plug-in configuration schemas: a small, strict subset of JSON Schema.
//!
//! A schema is parsed once into [`Schema`] (at registration, refusing
//! anything outside the subset) and then checks merchants' configurations
//! with one message per field. Supported keywords: `type` (a name or a list
//! of names), `enum`, `const`, `properties`, `required`,
//! `additionalProperties` (boolean or schema), `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum`, `minLength`, `maxLength`,
//! `pattern`, `items` (one schema), `minItems`, `maxItems` and `default`
//! (filled in when a property is absent). Annotations are accepted and
//! ignored: `$schema`, `$id`, `$comment`, `title`, `description`,
//! `examples`, `format`, `deprecated`, `readOnly`, `writeOnly`. Anything
//! else (`$ref`, `oneOf`, ...) is refused, so an author never believes a
//! rule is enforced when it is not.

mod check;
mod parse;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use serde_json::{Number, Value};

pub use check::ConfigErrors;

/// A config form deeper than this is not a form; the bound also keeps
/// parsing and checking from recursing without end.
pub const MAX_DEPTH: usize = 16;

/// A pattern longer than this is not a field rule; it also bounds compile time.
pub const MAX_PATTERN_LEN: usize = 1_000;

/// The JSON types `type` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Object,
    Array,
    String,
    Integer,
    Number,
    Boolean,
    Null,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "object" => Kind::Object,
            "array" => Kind::Array,
            "string" => Kind::String,
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "null" => Kind::Null,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Object => "object",
            Kind::Array => "array",
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Boolean => "boolean",
            Kind::Null => "null",
        }
    }

    fn article(self) -> &'static str {
        match self {
            Kind::Object | Kind::Array | Kind::Integer => "an",
            _ => "a",
        }
    }
}

/// What an object allows beyond its `properties`.
#[derive(Debug, Clone)]
pub enum Additional {
    Allowed,
    Denied,
    Schema(Box<Schema>),
}

/// One parsed (sub)schema. Every constraint is optional; an empty schema
/// accepts any value.
#[derive(Debug, Clone)]
pub struct Schema {
    pub types: Vec<Kind>,
    pub allowed: Option<Vec<Value>>,
    pub properties: BTreeMap<String, Schema>,
    pub required: Vec<String>,
    pub additional: Additional,
    pub minimum: Option<Number>,
    pub maximum: Option<Number>,
    pub exclusive_minimum: Option<Number>,
    pub exclusive_maximum: Option<Number>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<regex::Regex>,
    pub items: Option<Box<Schema>>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub default: Option<Value>,
}

impl Default for Schema {
    fn default() -> Self {
        Schema {
            types: Vec::new(),
            allowed: None,
            properties: BTreeMap::new(),
            required: Vec::new(),
            additional: Additional::Allowed,
            minimum: None,
            maximum: None,
            exclusive_minimum: None,
            exclusive_maximum: None,
            min_length: None,
            max_length: None,
            pattern: None,
            items: None,
            min_items: None,
            max_items: None,
            default: None,
        }
    }
}

/// Why a schema is not one this platform can enforce; `at` is the path of
/// the offending keyword inside the schema, e.g. `properties.percent.minimum`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("config_schema{}: {message}", if at.is_empty() { String::new() } else { format!(" at `{at}`") })]
pub struct SchemaError {
    pub at: String,
    pub message: String,
}

impl Schema {
    /// Parses a plug-in's configuration schema. The root must describe an
    /// object, since a configuration is always one.
    pub fn parse(value: &Value) -> Result<Schema, SchemaError> {
        let schema = parse::schema(value, "", 0)?;
        if schema.types != [Kind::Object] {
            return Err(SchemaError {
                at: String::new(),
                message: "the root must have `\"type\": \"object\"`".into(),
            });
        }
        Ok(schema)
    }

    /// Checks `config`; on success returns it with the defaults of absent
    /// properties filled in. Errors are keyed like `config.percent`.
    pub fn validate(&self, config: &Value) -> Result<Value, ConfigErrors> {
        check::validate(self, config)
    }
}
