//! Checking a verified webhook body before it is stored: strict UTF-8 JSON (no lone surrogate
//! escapes, which would pass on receipt and fail when applied), and the shop the body itself
//! names, which must be the shop of the (unsigned) `X-Shopify-Shop-Domain` header.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// Top-level fields by which Shopify bodies name their shop: `shop_domain` in the compliance
/// topics, `myshopify_domain` in `app/uninstalled` (the shop object).
const SHOP_FIELDS: &[&str] = &["shop_domain", "myshopify_domain"];

/// A webhook body that is well-formed JSON text.
#[derive(Debug)]
pub struct CheckedBody<'a> {
    pub text: &'a str,
    /// Every non-empty shop domain the body names at its top level.
    pub named_shops: Vec<String>,
}

impl CheckedBody<'_> {
    /// True when the body names no shop, or only `shop_domain` (compared without case).
    pub fn is_for_shop(&self, shop_domain: &str) -> bool {
        self.named_shops
            .iter()
            .all(|named| named.trim().eq_ignore_ascii_case(shop_domain))
    }
}

/// Why a body is refused on receipt (messages are safe to show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not UTF-8 text")]
    NotUtf8,
    #[error("the body is not valid JSON")]
    NotJson,
}

/// Checks `body` as described in the module documentation.
pub fn check(body: &[u8]) -> Result<CheckedBody<'_>, BodyError> {
    let text = std::str::from_utf8(body).map_err(|_| BodyError::NotUtf8)?;
    let mut named_shops = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    Scan {
        named_shops: &mut named_shops,
        depth: Depth::Top,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end())
    .map_err(|_| BodyError::NotJson)?;
    Ok(CheckedBody { text, named_shops })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    Top,
    ShopField,
    Inner,
}

/// Walks every value, decoding each string (serde_json refuses a lone surrogate escape only
/// when it decodes the string; skipping it, as `IgnoredAny` does, lets one through).
struct Scan<'s> {
    named_shops: &'s mut Vec<String>,
    depth: Depth,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if self.depth == Depth::ShopField && !v.trim().is_empty() {
            self.named_shops.push(v.to_owned());
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Scan {
                named_shops: &mut *self.named_shops,
                depth: Depth::Inner,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(is_shop_field) = map.next_key_seed(Key)? {
            let depth = if self.depth == Depth::Top && is_shop_field {
                Depth::ShopField
            } else {
                Depth::Inner
            };
            map.next_value_seed(Scan {
                named_shops: &mut *self.named_shops,
                depth,
            })?;
        }
        Ok(())
    }
}

/// A decoded object key; true when it is one of [`SHOP_FIELDS`].
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for Key {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(SHOP_FIELDS.contains(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_json_and_collects_the_shop_it_names() {
        let body =
            check(br#"{"shop_id":1,"shop_domain":"a.myshopify.com","x":{"shop_domain":"inner"}}"#)
                .unwrap();
        assert_eq!(body.named_shops, vec!["a.myshopify.com".to_owned()]);
        assert!(body.is_for_shop("A.myshopify.com"));
        assert!(!body.is_for_shop("b.myshopify.com"));
        let shop =
            check(br#"{"myshopify_domain":"b.myshopify.com","domain":"b.example"}"#).unwrap();
        assert!(shop.is_for_shop("b.myshopify.com"));
        let orders = check(br#"{"id":1,"myshopify_domain":null,"note":"caf\u00e9"}"#).unwrap();
        assert!(orders.is_for_shop("anything.myshopify.com"));
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert_eq!(
            check(b"{\"note\":\"caf\xe9\"}").unwrap_err(),
            BodyError::NotUtf8
        );
    }

    #[test]
    fn refuses_lone_surrogate_escapes_anywhere() {
        for body in [
            r#"{"note":"\ud800"}"#,
            r#"{"a":[{"b":"x\udc00y"}]}"#,
            r#"{"\ud83d":1}"#,
        ] {
            assert_eq!(
                check(body.as_bytes()).unwrap_err(),
                BodyError::NotJson,
                "{body}"
            );
        }
        assert!(check(r#"{"emoji":"\ud83d\ude00"}"#.as_bytes()).is_ok());
    }

    #[test]
    fn refuses_what_is_not_one_json_value() {
        for body in ["{not json", "{} {}", "", "[1,]"] {
            assert_eq!(
                check(body.as_bytes()).unwrap_err(),
                BodyError::NotJson,
                "{body}"
            );
        }
    }
}
