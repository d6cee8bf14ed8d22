//! Reading the configuration field by field rather than with serde's
//! derive, which made the module a third larger. A field of the wrong type
//! (the install's schema normally prevents it) fails the call naming it.

use livemall_sdk::Error;
use plugin_kit::Scope;
use serde_json::{Map, Value};

use crate::config::{Buy, Campaign, Config, Generated, Get, Kind, Per};

/// A JSON object and where it is in the configuration (`campaigns[2].`).
pub struct Fields<'a> {
    object: &'a Map<String, Value>,
    at: String,
}

impl<'a> Fields<'a> {
    /// `value`, which must be an object.
    pub fn of(value: &'a Value, at: String) -> Result<Fields<'a>, Error> {
        match value.as_object() {
            Some(object) => Ok(Fields { object, at }),
            None => Err(Error::new(format!(
                "invalid configuration: {}must be an object",
                at
            ))),
        }
    }

    /// The field, unless absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|v| !v.is_null())
    }

    /// The error for a field that is not `what`.
    pub fn wrong(&self, key: &str, what: &str) -> Error {
        Error::new(format!(
            "invalid configuration: {}{key} must be {what}",
            self.at
        ))
    }

    /// A string field.
    pub fn string(&self, key: &str) -> Result<Option<String>, Error> {
        self.get(key)
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.wrong(key, "a string"))
            })
            .transpose()
    }

    /// An integer field that fits `T`.
    pub fn number<T: TryFrom<i64>>(&self, key: &str) -> Result<Option<T>, Error> {
        self.get(key)
            .map(|v| {
                v.as_i64()
                    .and_then(|n| T::try_from(n).ok())
                    .ok_or_else(|| self.wrong(key, "an integer in range"))
            })
            .transpose()
    }

    /// A boolean field; absent is `false`.
    pub fn flag(&self, key: &str) -> Result<bool, Error> {
        self.get(key).map_or(Ok(false), |v| {
            v.as_bool().ok_or_else(|| self.wrong(key, "true or false"))
        })
    }

    /// An array field; absent is empty.
    pub fn list(&self, key: &str) -> Result<&'a [Value], Error> {
        self.get(key).map_or(Ok(&[][..]), |v| {
            v.as_array()
                .map(Vec::as_slice)
                .ok_or_else(|| self.wrong(key, "a list"))
        })
    }

    /// An array of strings; absent is empty.
    pub fn strings(&self, key: &str) -> Result<Vec<String>, Error> {
        self.list(key)?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.wrong(key, "a list of strings"))
            })
            .collect()
    }

    /// An object field.
    pub fn object(&self, key: &str) -> Result<Option<Fields<'a>>, Error> {
        self.get(key)
            .map(|v| Fields::of(v, format!("{}{key}.", self.at)))
            .transpose()
    }
}

fn scope(f: &Fields, key: &str) -> Result<Scope, Error> {
    Ok(match f.object(key)? {
        None => Scope::default(),
        Some(s) => Scope {
            products: s.strings("products")?,
            variants: s.strings("variants")?,
            tags: s.strings("tags")?,
        },
    })
}

fn kind(f: &Fields) -> Result<Kind, Error> {
    match f.string("discount")?.as_deref() {
        Some("percentage") => Ok(Kind::Percentage),
        Some("fixed_amount") => Ok(Kind::FixedAmount),
        Some("buy_x_get_y") => Ok(Kind::BuyXGetY),
        _ => Err(f.wrong("discount", "`percentage`, `fixed_amount` or `buy_x_get_y`")),
    }
}

fn per(f: &Fields) -> Result<Option<Per>, Error> {
    match f.string("per")?.as_deref() {
        None => Ok(None),
        Some("order") => Ok(Some(Per::Order)),
        Some("item") => Ok(Some(Per::Item)),
        Some(_) => Err(f.wrong("per", "`order` or `item`")),
    }
}

impl Campaign {
    fn read(f: &Fields) -> Result<Campaign, Error> {
        let generated = match f.object("generated")? {
            None => None,
            Some(g) => Some(Generated {
                prefix: g.string("prefix")?.unwrap_or_default(),
                secret: g.string("secret")?.unwrap_or_default(),
                count: g.number("count")?.unwrap_or(0),
            }),
        };
        let buy = match f.object("buy")? {
            None => None,
            Some(b) => Some(Buy {
                quantity: b.number("quantity")?.unwrap_or(0),
                scope: scope(&b, "scope")?,
            }),
        };
        let get = match f.object("get")? {
            None => None,
            Some(g) => Some(Get {
                quantity: g.number("quantity")?.unwrap_or(0),
                percent: g.number("percent")?.unwrap_or(100),
                scope: scope(&g, "scope")?,
            }),
        };
        Ok(Campaign {
            id: f.string("id")?.ok_or_else(|| f.wrong("id", "given"))?,
            title: f.string("title")?,
            codes: f.strings("codes")?,
            generated,
            automatic: f.flag("automatic")?,
            discount: kind(f)?,
            percent: f.number("percent")?,
            amount: f.number("amount")?,
            per: per(f)?,
            buy,
            get,
            max_applications: f.number("max_applications")?,
            applies_to: scope(f, "applies_to")?,
            min_subtotal: f.number("min_subtotal")?.unwrap_or(0),
            min_quantity: f.number("min_quantity")?.unwrap_or(0),
            starts_at: f.string("starts_at")?,
            ends_at: f.string("ends_at")?,
            usage_limit: f.number("usage_limit")?,
            per_customer_limit: f.number("per_customer_limit")?,
            per_code_limit: f.number("per_code_limit")?,
            exclusive: f.flag("exclusive")?,
            combines_with: f.strings("combines_with")?,
            priority: f.number("priority")?.unwrap_or(100),
        })
    }
}

impl Config {
    /// Reads the install's configuration (`null` reads as no campaigns).
    pub fn read(config: &Value) -> Result<Config, Error> {
        let empty = Value::Object(serde_json::Map::new());
        let root = Fields::of(
            if config.is_null() { &empty } else { config },
            String::new(),
        )?;
        let mut campaigns = Vec::new();
        for (i, item) in root.list("campaigns")?.iter().enumerate() {
            campaigns.push(Campaign::read(&Fields::of(
                item,
                format!("campaigns[{i}]."),
            )?)?);
        }
        let reject_unknown_codes = match root.get("reject_unknown_codes") {
            None => true,
            Some(_) => root.flag("reject_unknown_codes")?,
        };
        Config {
            campaigns,
            reject_unknown_codes,
        }
        .check()
    }
}
