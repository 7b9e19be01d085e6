//! Shopify app-proxy queries: `app_proxy::message` and `app_proxy::verify` on arbitrary query
//! strings, and every query re-signed with `app_proxy::sign` must verify at its own timestamp
//! (and at the edges of the allowed clock skew, and against a realistic clock).
//!
//! The input is the raw query string (lossy UTF-8), e.g. the documented example vector.

#![no_main]

use boomerang::crypto::hmac_sha256;
use boomerang::platform::shopify::app_proxy::{self, ProxyError, ProxyParams, MAX_SKEW_SECS};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use url::form_urlencoded;

const SECRET: &str = "hush";
/// A fixed "now" (mid 2025) so runs are reproducible.
const NOW: i64 = 1_750_000_000;

fn first(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// What `verify` must answer for a correctly signed `query` at `now`, worked out independently.
fn expected(query: &str, now: i64) -> Result<ProxyParams, ProxyError> {
    // A parameter Shopify adds, repeated: the shopper's copy rides on Shopify's signature.
    for name in [
        "shop",
        "logged_in_customer_id",
        "path_prefix",
        "timestamp",
        "signature",
    ] {
        if form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k == name)
            .count()
            > 1
        {
            return Err(ProxyError::Repeated(name));
        }
    }
    let timestamp = first(query, "timestamp").ok_or(ProxyError::Missing("timestamp"))?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| ProxyError::Stale(timestamp.clone()))?;
    if (i128::from(now) - i128::from(ts)).abs() > i128::from(MAX_SKEW_SECS) {
        return Err(ProxyError::Stale(timestamp));
    }
    let shop = first(query, "shop")
        .filter(|s| !s.is_empty())
        .ok_or(ProxyError::Missing("shop"))?;
    let customer_id = first(query, "logged_in_customer_id").filter(|c| !c.is_empty());
    Ok(ProxyParams { shop, customer_id })
}

fuzz_target!(|data: &[u8]| {
    let query = String::from_utf8_lossy(data);
    let secret = SecretString::from(SECRET.to_owned());
    let previous = SecretString::from("previous".to_owned());

    // Arbitrary queries: no panic, and only a real signature is ever accepted.
    let msg = app_proxy::message(&query);
    assert_eq!(
        app_proxy::message(&format!("{query}&signature=00")),
        msg,
        "the signature parameter leaked into the signed message"
    );
    if let Ok(params) = app_proxy::verify(&query, &secret, Some(&previous), NOW) {
        let sig = first(&query, "signature").unwrap_or_default();
        let sig = hex::decode(sig).unwrap_or_else(|e| panic!("accepted a non-hex signature: {e}"));
        assert!(
            [SECRET, "previous"]
                .iter()
                .any(|k| sig == hmac_sha256(k.as_bytes(), msg.as_bytes())),
            "accepted a signature that is not the message's HMAC"
        );
        assert!(!params.shop.is_empty());
    }

    // The same parameters, signed as Shopify signs them, must verify at their own timestamp.
    let unsigned: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "signature"))
        .finish();
    let signature = app_proxy::sign(&unsigned, SECRET);
    let signed = if unsigned.is_empty() {
        format!("signature={signature}")
    } else {
        format!("{unsigned}&signature={signature}")
    };
    let shouted = format!("{unsigned}&signature={}", signature.to_ascii_uppercase());

    let ts = first(&signed, "timestamp").and_then(|t| t.parse::<i64>().ok());
    let mut clocks = vec![NOW];
    if let Some(ts) = ts {
        clocks.push(ts);
        for skew in [MAX_SKEW_SECS, MAX_SKEW_SECS + 1] {
            clocks.extend(ts.checked_add(skew));
            clocks.extend(ts.checked_sub(skew));
        }
    }
    for now in clocks {
        assert_eq!(
            app_proxy::verify(&signed, &secret, None, now),
            expected(&signed, now),
            "signed query {signed:?} at now={now}"
        );
    }
    if let Some(ts) = ts {
        let want = expected(&signed, ts);
        // During a rotation a query signed with the old secret is as good.
        assert_eq!(
            app_proxy::verify(&signed, &previous, Some(&secret), ts),
            want
        );
        // Upper-case hex is the same signature.
        assert_eq!(app_proxy::verify(&shouted, &secret, None, ts), want);
    }

    // The wrong secret never verifies.
    assert_eq!(
        app_proxy::verify(&signed, &previous, None, ts.unwrap_or(NOW)),
        Err(ProxyError::BadSignature)
    );
});
