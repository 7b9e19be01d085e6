//! Shopify session tokens (the admin's `Authorization: Bearer` JWT): `session_token::verify`.
//!
//! Each input is tried twice:
//! - as a raw token (lossy UTF-8), which must never be accepted unless it carries a real HS256
//!   signature under the secret;
//! - as JSON to sign: `header \n claims` (or only the claims, under a standard HS256 header),
//!   base64url-encoded and signed with the secret, so the fuzzer gets past the signature into
//!   the header, claims, audience, time and `dest`/`iss` checks.

#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use boomerang::crypto::hmac_sha256;
use boomerang::platform::shopify::session_token;
use boomerang::platform::shopify::is_myshopify_domain;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use serde_json::Value;

const API_KEY: &str = "client-id";
const SECRET: &str = "s3cret";
const HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

fn signed_by(token: &str, key: &str) -> bool {
    let Some((signing_input, sig)) = token.rsplit_once('.') else {
        return false;
    };
    // jsonwebtoken reads the signature as base64url; compare the decoded bytes.
    URL_SAFE_NO_PAD
        .decode(sig)
        .is_ok_and(|sig| sig == hmac_sha256(key.as_bytes(), signing_input.as_bytes()))
}

fn sign(header: &[u8], claims: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let sig = URL_SAFE_NO_PAD.encode(hmac_sha256(SECRET.as_bytes(), input.as_bytes()));
    format!("{input}.{sig}")
}

fuzz_target!(|data: &[u8]| {
    let secret = SecretString::from(SECRET.to_owned());
    let previous = SecretString::from("previous".to_owned());

    let raw = String::from_utf8_lossy(data);
    if session_token::verify(&raw, API_KEY, &secret, Some(&previous)).is_ok() {
        assert!(
            signed_by(&raw, SECRET) || signed_by(&raw, "previous"),
            "accepted a token that is not signed with the secret: {raw:?}"
        );
    }

    let (header, claims) = match data.iter().position(|&b| b == b'\n') {
        Some(nl) => (
            data.get(..nl).unwrap_or_default(),
            data.get(nl + 1..).unwrap_or_default(),
        ),
        None => (HEADER, data),
    };
    let token = sign(header, claims);
    let result = session_token::verify(&token, API_KEY, &secret, None);
    // The same token, checked during a rotation with the secret as the previous one, gets the
    // same answer (the error may differ: it is the current secret's).
    assert_eq!(
        session_token::verify(&token, API_KEY, &previous, Some(&secret)).ok(),
        result.as_ref().ok().cloned()
    );
    // Under another secret it never verifies.
    assert!(session_token::verify(&token, API_KEY, &previous, None).is_err());
    if let Ok(shop) = result {
        assert!(is_myshopify_domain(&shop), "accepted shop {shop:?}");
        // Lossy: serde_json does not check the UTF-8 of fields it skips, so an accepted token
        // may carry invalid UTF-8 in claims the app ignores.
        let claims: Value = serde_json::from_str(&String::from_utf8_lossy(claims))
            .unwrap_or_else(|e| panic!("accepted claims that are not JSON: {e}"));
        assert_eq!(claims["dest"], format!("https://{shop}"));
        assert_eq!(claims["iss"], format!("https://{shop}/admin"));
        let header: Value = serde_json::from_str(&String::from_utf8_lossy(header))
            .unwrap_or_else(|e| panic!("accepted a header that is not JSON: {e}"));
        assert_eq!(header["alg"], "HS256", "accepted another algorithm");
    }
});
