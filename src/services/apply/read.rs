//! Reading a stored webhook's body as what it asks of the app, before anything is applied.

use serde_json::Value;

use super::{catching_panics, ApplyError};
use crate::db::models::{InboxEvent, Shop};
use crate::db::types::{InstallState, Platform};
use crate::domain::event::Event;
use crate::domain::money::Currency;
use crate::platform::bigcommerce::payload::{map_bigcommerce, Mapped as BcMapped};
use crate::platform::shopify::payload::map_shopify;
use crate::platform::woocommerce::payload::map_woocommerce;

/// A stored event read as what it asks of the app, before anything is applied: no I/O, so an
/// applier batch reads all its events first and reads what they are about together
/// (`ingest::pending`).
#[derive(Debug)]
pub enum Read {
    /// Nothing to do (a topic or shape that asks nothing of us, or a redacted shop).
    Nothing,
    /// A BigCommerce thin webhook: the order it names is read by a job.
    FetchOrder(crate::domain::event::PlatformId),
    /// An event for the domain.
    Event(Box<Event>),
}

/// Reads a stored event's body as the platform's shape for its topic. Depends only on the
/// event and the shop as given (its state and currency).
pub fn read(shop: &Shop, event: &InboxEvent) -> Result<Read, ApplyError> {
    if shop.install_state == InstallState::Redacted {
        return Ok(Read::Nothing);
    }
    let body: Value = serde_json::from_str(&event.payload)
        .map_err(|e| ApplyError::Permanent(format!("stored body is not JSON: {e}")))?;
    if body_holds_nul(&event.payload, &body) {
        // PostgreSQL cannot store U+0000 in text: applying would fail again at every retry.
        return Err(ApplyError::Permanent(
            "the body contains a NUL character (U+0000), which cannot be stored".into(),
        ));
    }
    let currency = || {
        Currency::parse(&shop.currency)
            .map_err(|e| ApplyError::Permanent(format!("shop currency: {e}")))
    };
    let mapped = match event.platform {
        Platform::Shopify => map_shopify(&event.topic, &body, &currency()?)?,
        Platform::WooCommerce => map_woocommerce(&event.topic, &body, &currency()?)?,
        Platform::BigCommerce => match map_bigcommerce(&event.topic, &body, &currency()?)? {
            Some(BcMapped::Event(event)) => Some(*event),
            Some(BcMapped::FetchOrder(order_id)) => return Ok(Read::FetchOrder(order_id)),
            None => None,
        },
    };
    Ok(mapped.map_or(Read::Nothing, |event| Read::Event(Box::new(event))))
}

/// [`read`], with a panic turned into a permanent failure (see [`apply_catching_panics`]).
pub fn read_catching_panics(shop: &Shop, event: &InboxEvent) -> Result<Read, ApplyError> {
    catching_panics(|| read(shop, event))
}

/// True when the JSON `text`, parsed as `body`, has U+0000 in a string or a key. JSON carries
/// it only as the escape `\u0000` (a raw control character is not JSON), so a text without
/// that escape needs no walk of the body.
fn body_holds_nul(text: &str, body: &Value) -> bool {
    text.contains("\\u0000") && holds_nul(body)
}

/// True when a string or key anywhere in `value` contains U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holds(text: &str) -> bool {
        let body: Value = serde_json::from_str(text).unwrap();
        body_holds_nul(text, &body)
    }

    #[test]
    fn a_nul_in_a_value_or_a_key_is_found() {
        assert!(holds(r#"{"note":"a\u0000b"}"#));
        assert!(holds(r#"{"lines":[{"k\u0000":1}]}"#));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul() {
        // The text `\u0000` (a backslash, then "u0000") holds the escape's letters but no NUL.
        assert!(!holds(r#"{"note":"a\\u0000b"}"#));
        assert!(!holds(r#"{"note":"plain","n":0}"#));
    }
}
