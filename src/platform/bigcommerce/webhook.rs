//! Verifying a BigCommerce webhook delivery, before its body is parsed.
//!
//! BigCommerce signs deliveries the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
//! `webhook-signature: v1,<base64>`; HMAC-SHA256 under the app's client secret over
//! `{id}.{timestamp}.{body}`). Older hooks carry no signature, only the `headers{}` given when
//! the hook was created: the app gives each shop's hooks `X-Boomerang-Webhook-Secret` with the
//! shop's own secret. A delivery is checked the first way when it has a signature, else the
//! second; with neither it is refused.
//!
//! The client secret is the app's, the same for every store, so a valid signature does not say
//! which store a delivery is about: the body's `producer` (`stores/{hash}`) must be the store of
//! the URL it was sent to (see [`is_from_store`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use serde_json::Value;

use super::payload::{ORDER_TOPICS, UNINSTALLED_TOPIC, UNREADABLE_TOPIC};
use crate::crypto::{hmac_sha256, sha256_hex, verify_hmac_sha256};

/// The header the app's hooks carry with the shop's webhook secret (set when they are
/// registered).
pub use super::hooks::SECRET_HEADER;

/// How far a signature's timestamp may be from now, either way (the spec's replay window).
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A delivery's Standard Webhooks headers.
#[derive(Debug, Clone, Copy)]
pub struct Signed<'a> {
    /// `webhook-id`.
    pub id: &'a str,
    /// `webhook-timestamp`: Unix seconds.
    pub timestamp: &'a str,
    /// `webhook-signature`: space-separated `v1,<base64>` entries.
    pub signature: &'a str,
}

/// Why a delivery is not accepted as BigCommerce's (messages are safe to show).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing webhook-id or webhook-timestamp beside webhook-signature")]
    MissingHeader,
    #[error("webhook-timestamp is not a Unix time in seconds")]
    BadTimestamp,
    #[error("webhook-timestamp is more than 5 minutes from now")]
    Stale,
    #[error("no webhook-signature entry matches")]
    NoMatch,
    #[error("this instance has no BIGCOMMERCE_CLIENT_SECRET to check webhook-signature with")]
    NoClientSecret,
    #[error("missing or wrong X-Boomerang-Webhook-Secret")]
    WrongSecret,
}

/// Checks a Standard Webhooks signature under `client_secret` or, during a rotation,
/// `previous` (deliveries signed before the switch are still being retried), at `now` (Unix
/// seconds).
pub fn verify_signed(
    body: &[u8],
    signed: &Signed<'_>,
    client_secret: &SecretString,
    previous: Option<&SecretString>,
    now: i64,
) -> Result<(), VerifyError> {
    let (id, timestamp) = (signed.id.trim(), signed.timestamp.trim());
    if id.is_empty() || timestamp.is_empty() {
        return Err(VerifyError::MissingHeader);
    }
    let at: i64 = timestamp.parse().map_err(|_| VerifyError::BadTimestamp)?;
    if now.abs_diff(at) > TOLERANCE_SECS.unsigned_abs() {
        return Err(VerifyError::Stale);
    }
    let message = signed_content(id, timestamp, body);
    let signatures: Vec<Vec<u8>> = signed
        .signature
        .split_whitespace()
        .filter_map(|entry| entry.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    // The current secret first: after a rotation nearly every delivery is signed with it.
    let matches = std::iter::once(client_secret)
        .chain(previous)
        .any(|secret| {
            let key = secret.expose_secret().as_bytes();
            signatures
                .iter()
                .any(|signature| verify_hmac_sha256(key, &message, signature))
        });
    matches.then_some(()).ok_or(VerifyError::NoMatch)
}

/// `{id}.{timestamp}.{body}`, the bytes a Standard Webhooks signature covers.
fn signed_content(id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    message.extend_from_slice(id.as_bytes());
    message.push(b'.');
    message.extend_from_slice(timestamp.as_bytes());
    message.push(b'.');
    message.extend_from_slice(body);
    message
}

/// Checks the custom header against the shop's own webhook secret, in constant time.
pub fn verify_header_secret(given: &str, shop_secret: &SecretString) -> Result<(), VerifyError> {
    let expected = shop_secret.expose_secret().as_bytes();
    // Both sides through one HMAC, compared by `verify_slice` in constant time: neither the
    // content nor the length of the secret shows in the timing.
    let key = b"boomerang bigcommerce header secret";
    let digest = hmac_sha256(key, expected);
    if !expected.is_empty() && verify_hmac_sha256(key, given.trim().as_bytes(), &digest) {
        Ok(())
    } else {
        Err(VerifyError::WrongSecret)
    }
}

/// Whether a body's `producer` (`stores/{hash}`) is the store `store_hash`.
pub fn is_from_store(producer: &str, store_hash: &str) -> bool {
    producer
        .trim()
        .strip_prefix("stores/")
        .is_some_and(|hash| hash.eq_ignore_ascii_case(store_hash))
}

/// What a verified delivery's body says about where it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Envelope {
    /// Another store's delivery: its `producer` is not the store of the URL.
    OtherStore(String),
    /// A `scope` the app does not act on: answered `ignored`, not stored.
    Unused,
    /// Stored under `topic`, deduplicated by `delivery_id`.
    Store {
        topic: String,
        delivery_id: String,
        /// `created_at`, Unix seconds, when given.
        created_at: Option<i64>,
    },
}

/// Reads the envelope of a verified JSON body sent to `store_hash`'s URL.
///
/// A body whose `scope` cannot be read is still stored (as [`UNREADABLE_TOPIC`], failing when
/// applied: visible and replayable); one without a usable `hash` is keyed by its content.
pub fn envelope(text: &str, body: &Value, store_hash: &str) -> Envelope {
    if let Some(Value::String(producer)) = body.get("producer") {
        if !is_from_store(producer, store_hash) {
            return Envelope::OtherStore(producer.clone());
        }
    }
    let topic = match body.get("scope") {
        Some(Value::String(scope)) if is_webhook_topic(scope.trim()) => scope.trim().to_owned(),
        Some(Value::String(_)) => return Envelope::Unused,
        _ => UNREADABLE_TOPIC.to_owned(),
    };
    // `hash` is BigCommerce's id of the event: the same on every retry of it.
    let delivery_id = match body.get("hash") {
        Some(Value::String(hash)) if !hash.trim().is_empty() && hash.len() <= 128 => {
            hash.trim().to_owned()
        }
        _ => content_key(&topic, text),
    };
    Envelope::Store {
        topic,
        delivery_id,
        created_at: body.get("created_at").and_then(Value::as_i64),
    }
}

/// The webhook topics the app acts on.
pub fn is_webhook_topic(scope: &str) -> bool {
    ORDER_TOPICS.contains(&scope) || scope == UNINSTALLED_TOPIC
}

/// The inbox key of a body by its content (`sha256:…` of topic and body).
pub fn content_key(topic: &str, text: &str) -> String {
    format!("sha256:{}", sha256_hex(&format!("{topic}\n{text}")))
}

/// Signs `body` as BigCommerce does (the load generator and tests use this).
pub fn sign(body: &[u8], id: &str, timestamp: i64, client_secret: &str) -> String {
    let message = signed_content(id, &timestamp.to_string(), body);
    format!(
        "v1,{}",
        STANDARD.encode(hmac_sha256(client_secret.as_bytes(), &message))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_590_000;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn check(body: &[u8], id: &str, ts: &str, sig: &str) -> Result<(), VerifyError> {
        let signed = Signed {
            id,
            timestamp: ts,
            signature: sig,
        };
        verify_signed(body, &signed, &secret("client-secret"), None, NOW)
    }

    #[test]
    fn accepts_a_standard_webhooks_signature_within_the_window() {
        let body = br#"{"scope":"store/order/created"}"#;
        let sig = sign(body, "msg_1", NOW, "client-secret");
        assert_eq!(check(body, "msg_1", &NOW.to_string(), &sig), Ok(()));
        // Five minutes either way is still in.
        let early = sign(body, "msg_1", NOW - 300, "client-secret");
        assert_eq!(
            check(body, "msg_1", &(NOW - 300).to_string(), &early),
            Ok(())
        );
        let late = sign(body, "msg_1", NOW + 300, "client-secret");
        assert_eq!(
            check(body, "msg_1", &(NOW + 300).to_string(), &late),
            Ok(())
        );
    }

    #[test]
    fn one_matching_entry_among_several_is_enough() {
        let body = b"{}";
        let good = sign(body, "msg_2", NOW, "client-secret");
        let list = format!("v1,AAAA v2,xyz {good} v1,not-base64!");
        assert_eq!(check(body, "msg_2", &NOW.to_string(), &list), Ok(()));
    }

    #[test]
    fn refuses_what_was_not_signed_so() {
        let body = b"{}";
        let ts = NOW.to_string();
        let sig = sign(body, "msg_3", NOW, "client-secret");
        let other = sign(body, "msg_3", NOW, "another-app");
        assert_eq!(check(body, "msg_3", &ts, &other), Err(VerifyError::NoMatch));
        assert_eq!(check(b"{ }", "msg_3", &ts, &sig), Err(VerifyError::NoMatch));
        assert_eq!(
            check(body, "msg_4", &ts, &sig),
            Err(VerifyError::NoMatch),
            "id is signed"
        );
        assert_eq!(check(body, "", &ts, &sig), Err(VerifyError::MissingHeader));
        assert_eq!(
            check(body, "msg_3", "soon", &sig),
            Err(VerifyError::BadTimestamp)
        );
        let old = sign(body, "msg_3", NOW - 301, "client-secret");
        let ts_old = (NOW - 301).to_string();
        assert_eq!(check(body, "msg_3", &ts_old, &old), Err(VerifyError::Stale));
        let future = sign(body, "msg_3", NOW + 301, "client-secret");
        let ts_future = (NOW + 301).to_string();
        assert_eq!(
            check(body, "msg_3", &ts_future, &future),
            Err(VerifyError::Stale)
        );
        assert_eq!(check(body, "msg_3", &ts, "v1,"), Err(VerifyError::NoMatch));
    }

    #[test]
    fn the_previous_secret_is_accepted_during_a_rotation_only() {
        let body = br#"{"scope":"store/order/created"}"#;
        let ts = NOW.to_string();
        let signed = |signature: &str| {
            let signed = Signed {
                id: "msg_5",
                timestamp: &ts,
                signature,
            };
            verify_signed(
                body,
                &signed,
                &secret("new-secret"),
                Some(&secret("old-secret")),
                NOW,
            )
        };
        assert_eq!(signed(&sign(body, "msg_5", NOW, "old-secret")), Ok(()));
        assert_eq!(signed(&sign(body, "msg_5", NOW, "new-secret")), Ok(()));
        assert_eq!(
            signed(&sign(body, "msg_5", NOW, "neither-secret")),
            Err(VerifyError::NoMatch)
        );
        let by_old = sign(body, "msg_5", NOW, "old-secret");
        let without_previous = Signed {
            id: "msg_5",
            timestamp: &ts,
            signature: &by_old,
        };
        assert_eq!(
            verify_signed(body, &without_previous, &secret("new-secret"), None, NOW),
            Err(VerifyError::NoMatch)
        );
        // The window holds for the previous secret too.
        let stale = Signed {
            id: "msg_5",
            timestamp: &(NOW - 301).to_string(),
            signature: &sign(body, "msg_5", NOW - 301, "old-secret"),
        };
        assert_eq!(
            verify_signed(
                body,
                &stale,
                &secret("new-secret"),
                Some(&secret("old-secret")),
                NOW
            ),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn the_header_secret_must_be_the_shops_own() {
        let shop = secret("shop-secret-a");
        assert_eq!(verify_header_secret("shop-secret-a", &shop), Ok(()));
        assert_eq!(verify_header_secret(" shop-secret-a ", &shop), Ok(()));
        assert_eq!(
            verify_header_secret("shop-secret-b", &shop),
            Err(VerifyError::WrongSecret)
        );
        assert_eq!(
            verify_header_secret("", &shop),
            Err(VerifyError::WrongSecret)
        );
        assert_eq!(
            verify_header_secret("", &secret("")),
            Err(VerifyError::WrongSecret),
            "an empty secret opens nothing"
        );
    }

    #[test]
    fn the_envelope_says_where_a_delivery_goes() {
        use serde_json::json;
        let read = |body: Value| envelope(&body.to_string(), &body, "abc123");
        let created = json!({"scope": "store/order/created", "data": {"type": "order", "id": 1},
            "hash": "dd70", "created_at": 1561479335, "producer": "stores/abc123"});
        assert_eq!(
            read(created.clone()),
            Envelope::Store {
                topic: "store/order/created".into(),
                delivery_id: "dd70".into(),
                created_at: Some(1561479335)
            }
        );
        let mut other = created.clone();
        other["producer"] = json!("stores/zzz999");
        assert_eq!(read(other), Envelope::OtherStore("stores/zzz999".into()));
        let mut unused = created.clone();
        unused["scope"] = json!("store/customer/created");
        assert_eq!(read(unused), Envelope::Unused);
        // Unreadable scope or hash: still stored, keyed by content.
        let odd = json!({"scope": 7, "producer": "stores/abc123"});
        match read(odd.clone()) {
            Envelope::Store {
                topic, delivery_id, ..
            } => {
                assert_eq!(topic, UNREADABLE_TOPIC);
                assert_eq!(delivery_id, content_key(UNREADABLE_TOPIC, &odd.to_string()));
            }
            other => panic!("{other:?}"),
        }
        let mut no_hash = created;
        no_hash.as_object_mut().unwrap().remove("hash");
        assert!(
            matches!(read(no_hash), Envelope::Store { delivery_id, .. } if delivery_id.starts_with("sha256:"))
        );
        assert!(
            matches!(read(json!([1])), Envelope::Store { topic, .. } if topic == UNREADABLE_TOPIC)
        );
    }

    #[test]
    fn every_scope_the_app_registers_is_one_it_acts_on() {
        for scope in super::super::hooks::SCOPES {
            assert!(is_webhook_topic(scope), "{scope}");
        }
    }

    #[test]
    fn the_producer_names_the_store() {
        assert!(is_from_store("stores/abc123", "abc123"));
        assert!(is_from_store("stores/ABC123", "abc123"));
        assert!(!is_from_store("stores/abc1234", "abc123"));
        assert!(!is_from_store("abc123", "abc123"));
        assert!(!is_from_store("stores/", "abc123"));
    }
}
