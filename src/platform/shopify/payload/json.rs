//! A small reader over `serde_json::Value` that knows the path it is at, so every error names
//! the exact field (`line_items[1].price_set.shop_money.amount`) that is missing or wrong.
//!
//! Null is treated like an absent field: Shopify sends `null` for whatever it has no value for.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::domain::event::{MappingError, PlatformId, Problem};
use crate::domain::money::{parse_decimal_minor, Currency, Money};

pub(crate) type Result<T> = std::result::Result<T, MappingError>;

/// The JSON type of a value, for error messages.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn error(field: String, problem: Problem) -> MappingError {
    MappingError {
        topic: String::new(),
        field,
        problem,
    }
}

/// Reads an id from a JSON integer (exactly, as `u64`) or a string of digits / GraphQL gid.
pub(crate) fn id_from(field: String, v: &Value) -> Result<PlatformId> {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(id) => Ok(PlatformId::from_u64(id)),
            None if n.is_i64() => Err(error(
                field,
                Problem::Invalid("ids are never negative".into()),
            )),
            // serde_json only makes a float of an integer that does not fit in 64 bits (or one
            // written with a fraction or exponent): its digits are already lost.
            None => Err(error(
                field,
                Problem::Invalid(format!("{n} is not a 64-bit integer id")),
            )),
        },
        Value::String(s) => {
            PlatformId::parse(s).map_err(|e| error(field, Problem::Invalid(e.to_string())))
        }
        other => Err(error(
            field,
            Problem::WrongType {
                expected: "an integer id or a string of digits",
                found: type_name(other),
            },
        )),
    }
}

/// Reads a decimal amount given as a string (Shopify's money format) or, in older payloads,
/// a JSON number; exponent notation is refused rather than guessed at.
fn amount_from(field: String, v: &Value, exponent: u8) -> Result<Money> {
    let text = match v {
        Value::String(s) => s.clone(),
        // An integer prints exactly; a fraction prints as the shortest decimal that reads back
        // as the same float, which is the decimal that was written for any realistic amount.
        Value::Number(n) => n.to_string(),
        other => {
            return Err(error(
                field,
                Problem::WrongType {
                    expected: "a decimal string",
                    found: type_name(other),
                },
            ))
        }
    };
    parse_decimal_minor(&text, exponent)
        .map(Money::new)
        .map_err(|e| error(field, Problem::Invalid(e.to_string())))
}

/// One JSON object and where it sits in the payload.
#[derive(Clone)]
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

/// The payload's top level, which must be an object.
pub(crate) fn root(body: &Value) -> Result<Obj<'_>> {
    match body {
        Value::Object(map) => Ok(Obj {
            map,
            path: String::new(),
        }),
        other => Err(error(
            "(body)".to_owned(),
            Problem::WrongType {
                expected: "an object",
                found: type_name(other),
            },
        )),
    }
}

impl<'a> Obj<'a> {
    /// The full path of `key` in this object.
    pub(crate) fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn wrong(&self, key: &str, expected: &'static str, v: &Value) -> MappingError {
        error(
            self.field(key),
            Problem::WrongType {
                expected,
                found: type_name(v),
            },
        )
    }

    /// An error about `key`.
    pub(crate) fn invalid(&self, key: &str, why: String) -> MappingError {
        error(self.field(key), Problem::Invalid(why))
    }

    /// The value of `key`, `None` when absent or null.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str) -> Result<&'a Value> {
        self.get(key)
            .ok_or_else(|| error(self.field(key), Problem::Missing))
    }

    /// A required id.
    pub(crate) fn id(&self, key: &str) -> Result<PlatformId> {
        id_from(self.field(key), self.required(key)?)
    }

    /// An optional id.
    pub(crate) fn opt_id(&self, key: &str) -> Result<Option<PlatformId>> {
        self.get(key)
            .map(|v| id_from(self.field(key), v))
            .transpose()
    }

    /// An optional string.
    pub(crate) fn opt_str(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a string", other)),
        }
    }

    /// A boolean, `default` when absent.
    pub(crate) fn bool_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(self.wrong(key, "a boolean", other)),
        }
    }

    /// A required whole number.
    pub(crate) fn int(&self, key: &str) -> Result<i64> {
        let v = self.required(key)?;
        v.as_i64().ok_or_else(|| self.wrong(key, "an integer", v))
    }

    /// A required RFC 3339 time, converted to UTC.
    pub(crate) fn time(&self, key: &str) -> Result<DateTime<Utc>> {
        self.opt_time(key)?
            .ok_or_else(|| error(self.field(key), Problem::Missing))
    }

    /// An optional RFC 3339 time, converted to UTC.
    pub(crate) fn opt_time(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        let Some(text) = self.opt_str(key)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(text)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| self.invalid(key, format!("{text:?} is not an RFC 3339 time ({e})")))
    }

    /// An optional nested object.
    pub(crate) fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj {
                map,
                path: self.field(key),
            })),
            Some(other) => Err(self.wrong(key, "an object", other)),
        }
    }

    /// A required nested object.
    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>> {
        self.opt_obj(key)?
            .ok_or_else(|| error(self.field(key), Problem::Missing))
    }

    fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(self.wrong(key, "an array", other)),
        }
    }

    /// The objects of an array; `required` says whether absence is an error or empty.
    pub(crate) fn objects(&self, key: &str, required: bool) -> Result<Vec<Obj<'a>>> {
        let Some(items) = self.array(key)? else {
            return if required {
                Err(error(self.field(key), Problem::Missing))
            } else {
                Ok(Vec::new())
            };
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{}[{i}]", self.field(key));
                match item {
                    Value::Object(map) => Ok(Obj { map, path }),
                    other => Err(error(
                        path,
                        Problem::WrongType {
                            expected: "an object",
                            found: type_name(other),
                        },
                    )),
                }
            })
            .collect()
    }

    /// An optional array of ids (empty when absent).
    pub(crate) fn ids(&self, key: &str) -> Result<Vec<PlatformId>> {
        let items = self.array(key)?.map(Vec::as_slice).unwrap_or_default();
        items
            .iter()
            .enumerate()
            .map(|(i, v)| id_from(format!("{}[{i}]", self.field(key)), v))
            .collect()
    }

    /// An amount in the shop's currency: `{key}_set.shop_money.amount` when the payload has
    /// price sets, else the plain `{key}` (older API versions, always in shop currency).
    /// `None` when neither is present.
    pub(crate) fn opt_money(&self, key: &str, shop: &Currency) -> Result<Option<Money>> {
        let set_key = format!("{key}_set");
        if let Some(set) = self.opt_obj(&set_key)? {
            if let Some(shop_money) = set.opt_obj("shop_money")? {
                if let Some(code) = shop_money.opt_str("currency_code")? {
                    if !code.eq_ignore_ascii_case(&shop.code) {
                        return Err(shop_money.invalid(
                            "currency_code",
                            format!("amount is in {code}, but the shop's currency is {shop}"),
                        ));
                    }
                }
                let amount = shop_money.required("amount")?;
                return amount_from(shop_money.field("amount"), amount, shop.exponent).map(Some);
            }
        }
        self.get(key)
            .map(|v| amount_from(self.field(key), v, shop.exponent))
            .transpose()
    }

    /// A required amount in the shop's currency (see `opt_money`).
    pub(crate) fn money(&self, key: &str, shop: &Currency) -> Result<Money> {
        self.opt_money(key, shop)?.ok_or_else(|| {
            error(
                format!(
                    "{} (or {})",
                    self.field(&format!("{key}_set.shop_money.amount")),
                    self.field(key)
                ),
                Problem::Missing,
            )
        })
    }
}
