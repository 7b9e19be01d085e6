//! Shopify app-proxy requests: the storefront reaches the app through
//! `https://{shop}/apps/{subpath}/…`, and Shopify adds `shop`, `logged_in_customer_id`,
//! `path_prefix`, `timestamp` and `signature` = hex HMAC-SHA256 over the other parameters,
//! sorted by key, as `key=value` (repeated values joined with `,`), concatenated with no separator.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

use crate::crypto::{hmac_sha256, verify_hmac_sha256};

/// How far a request's `timestamp` may be from now (the official library's window).
pub const MAX_SKEW_SECS: i64 = 90;

/// A verified app-proxy request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyParams {
    pub shop: String,
    /// `None` for a shopper who is not logged in.
    pub customer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProxyError {
    #[error("missing app-proxy signature")]
    Unsigned,
    #[error("invalid app-proxy signature")]
    BadSignature,
    #[error("app-proxy request too old or from the future (timestamp {0})")]
    Stale(String),
    #[error("app-proxy request lacks {0}")]
    Missing(&'static str),
    #[error("app-proxy request repeats {0}")]
    Repeated(&'static str),
}

/// The parameters Shopify adds to a proxied request. A shopper can put any of them in the
/// storefront URL too; Shopify then appends its own and signs both, so a repeated one is a
/// shopper's forgery riding on a valid signature (say `logged_in_customer_id` of someone else).
const RESERVED: [&str; 5] = [
    "shop",
    "logged_in_customer_id",
    "path_prefix",
    "timestamp",
    "signature",
];

/// The message Shopify signs: sorted `key=value` pairs without `signature`, no separator.
pub fn message(query: &str) -> String {
    let mut params: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k != "signature" {
            params
                .entry(k.into_owned())
                .or_default()
                .push(v.into_owned());
        }
    }
    params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.join(",")))
        .collect()
}

/// The first parameter Shopify adds that occurs more than once in `query`.
fn repeated_reserved(query: &str) -> Option<&'static str> {
    RESERVED.into_iter().find(|&name| {
        url::form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == name)
            .nth(1)
            .is_some()
    })
}

/// Signs a query as Shopify does (tests and the demo storefront use this).
pub fn sign(query: &str, secret: &str) -> String {
    hex::encode(hmac_sha256(secret.as_bytes(), message(query).as_bytes()))
}

/// Verifies the signature (current or previous secret) and the timestamp window.
pub fn verify(
    query: &str,
    secret: &SecretString,
    previous: Option<&SecretString>,
    now: i64,
) -> Result<ProxyParams, ProxyError> {
    let get = |name: &str| {
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let signature = get("signature").ok_or(ProxyError::Unsigned)?;
    let signature = hex::decode(signature).map_err(|_| ProxyError::BadSignature)?;
    let msg = message(query);
    let valid = std::iter::once(secret)
        .chain(previous)
        .any(|s| verify_hmac_sha256(s.expose_secret().as_bytes(), msg.as_bytes(), &signature));
    if !valid {
        return Err(ProxyError::BadSignature);
    }
    if let Some(name) = repeated_reserved(query) {
        return Err(ProxyError::Repeated(name));
    }
    let timestamp = get("timestamp").ok_or(ProxyError::Missing("timestamp"))?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| ProxyError::Stale(timestamp.clone()))?;
    // abs_diff: `now - ts` overflows for timestamps near i64::MIN (found by the fuzzer); in a
    // release build it would wrap and let such a timestamp through.
    if now.abs_diff(ts) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(ProxyError::Stale(timestamp));
    }
    let shop = get("shop")
        .filter(|s| !s.is_empty())
        .ok_or(ProxyError::Missing("shop"))?;
    let customer_id = get("logged_in_customer_id").filter(|c| !c.is_empty());
    Ok(ProxyParams { shop, customer_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_QUERY: &str = "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews&timestamp=1317327555&logged_in_customer_id=1&signature=4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb";

    #[test]
    fn matches_shopifys_documented_vector() {
        assert_eq!(
            message(VECTOR_QUERY),
            "extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviewsshop=shop-name.myshopify.comtimestamp=1317327555"
        );
        assert_eq!(
            sign(VECTOR_QUERY, "hush"),
            "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
        );
        let ok = verify(
            VECTOR_QUERY,
            &SecretString::from("hush".to_owned()),
            None,
            1_317_327_555 + 30,
        );
        assert_eq!(
            ok,
            Ok(ProxyParams {
                shop: "shop-name.myshopify.com".into(),
                customer_id: Some("1".into())
            })
        );
    }

    #[test]
    fn refuses_stale_tampered_and_unsigned_requests() {
        let secret = SecretString::from("hush".to_owned());
        assert!(matches!(
            verify(VECTOR_QUERY, &secret, None, 1_317_327_555 + 91),
            Err(ProxyError::Stale(_))
        ));
        assert!(matches!(
            verify(VECTOR_QUERY, &secret, None, 1_317_327_555 - 91),
            Err(ProxyError::Stale(_))
        ));
        let tampered = VECTOR_QUERY.replace("logged_in_customer_id=1", "logged_in_customer_id=2");
        assert_eq!(
            verify(&tampered, &secret, None, 1_317_327_555),
            Err(ProxyError::BadSignature)
        );
        assert_eq!(
            verify("shop=x&timestamp=1", &secret, None, 1),
            Err(ProxyError::Unsigned)
        );
        // Extreme timestamps are stale, not an overflow (a fuzzer find).
        for ts in [i64::MIN, i64::MAX] {
            let q = format!("shop=a.myshopify.com&timestamp={ts}");
            let signed = format!("{q}&signature={}", sign(&q, secret.expose_secret()));
            assert!(matches!(
                verify(&signed, &secret, None, 1_700_000_000),
                Err(ProxyError::Stale(_))
            ));
        }
        assert_eq!(
            verify(
                VECTOR_QUERY,
                &SecretString::from("other".to_owned()),
                None,
                1_317_327_555
            ),
            Err(ProxyError::BadSignature)
        );
        assert!(verify(
            VECTOR_QUERY,
            &SecretString::from("new".to_owned()),
            Some(&secret),
            1_317_327_555
        )
        .is_ok());
    }

    #[test]
    fn a_proxy_request_repeating_a_reserved_parameter_is_refused() {
        // What Shopify forwards when a shopper adds `logged_in_customer_id=1&shop=victim…` to
        // the storefront URL: the shopper's values first, Shopify's own after, all signed.
        for (name, forged) in [
            ("logged_in_customer_id", "logged_in_customer_id=1&"),
            ("shop", "shop=victim.myshopify.com&"),
            ("timestamp", "timestamp=100&"),
        ] {
            let q = format!("{forged}shop=a.myshopify.com&logged_in_customer_id=&path_prefix=%2Fapps%2Frewards&timestamp=100");
            let signed = format!("{q}&signature={}", sign(&q, "s"));
            assert_eq!(
                verify(&signed, &SecretString::from("s".to_owned()), None, 100),
                Err(ProxyError::Repeated(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_logged_out_shopper_has_no_customer() {
        let q = "shop=a.myshopify.com&logged_in_customer_id=&path_prefix=%2Fapps%2Frewards&timestamp=100";
        let signed = format!("{q}&signature={}", sign(q, "s"));
        let p = verify(&signed, &SecretString::from("s".to_owned()), None, 100).unwrap();
        assert_eq!(p.customer_id, None);
    }
}
