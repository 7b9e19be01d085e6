//! Shopify webhook signatures: `webhook::verify` on arbitrary bodies and arbitrary
//! `X-Shopify-Hmac-Sha256` header values, plus round trips through `webhook::sign`.
//!
//! Input layout (so seeds stay readable): the first line is the header value, the rest is the
//! raw body. Without a newline the whole input is the body and the header is empty.

#![no_main]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use boomerang::crypto::hmac_sha256;
use boomerang::platform::shopify::webhook;
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;

/// The secret the seeds are signed with (`fuzz/seeds/shopify_webhook`).
const SECRET: &str = "fuzz-secret";
/// The secret before a rotation.
const PREVIOUS: &str = "fuzz-previous";

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|&b| b == b'\n') {
        Some(nl) => (
            data.get(..nl).unwrap_or_default(),
            data.get(nl + 1..).unwrap_or_default(),
        ),
        None => (&[][..], data),
    };
    // actix hands the handler a header only as text; anything else is treated as garbage text.
    let header = String::from_utf8_lossy(header);
    let current = secret(SECRET);
    let previous = secret(PREVIOUS);

    // Arbitrary header: must never panic, and may only be accepted when it really is the
    // base64 HMAC of the body under one of the two secrets.
    for prev in [None, Some(&previous)] {
        if webhook::verify(body, &header, &current, prev) {
            let decoded = STANDARD
                .decode(header.trim())
                .unwrap_or_else(|e| panic!("accepted a header that is not base64: {e}"));
            let keys = std::iter::once(SECRET).chain(prev.map(|_| PREVIOUS));
            assert!(
                keys.into_iter()
                    .any(|k| decoded == hmac_sha256(k.as_bytes(), body)),
                "accepted a signature that is not the body's HMAC under the secrets"
            );
        }
    }

    // A correct signature verifies, with or without the whitespace a proxy may add.
    let sig = webhook::sign(body, SECRET);
    assert!(
        webhook::verify(body, &sig, &current, None),
        "own signature refused"
    );
    assert!(webhook::verify(
        body,
        &format!(" {sig}\r\n"),
        &current,
        None
    ));
    // During a rotation the previous secret's signature verifies, and only then.
    let old = webhook::sign(body, PREVIOUS);
    assert!(webhook::verify(body, &old, &current, Some(&previous)));
    assert!(
        !webhook::verify(body, &old, &current, None),
        "previous secret accepted without rotation"
    );

    // The header line used as the secret: any key length (HMAC hashes long keys) round-trips.
    let own = webhook::sign(body, &header);
    assert!(webhook::verify(body, &own, &secret(&header), None));

    // One flipped bit anywhere in the body or in the signature must fail.
    if !body.is_empty() {
        let at = header.len() % body.len();
        let mut tampered = body.to_vec();
        if let Some(b) = tampered.get_mut(at) {
            *b ^= 1 << (body.len() % 8);
        }
        assert!(
            !webhook::verify(&tampered, &sig, &current, Some(&previous)),
            "a body with byte {at} flipped still verified"
        );
    }
    let mut raw = STANDARD.decode(&sig).unwrap_or_default();
    let at = body.len() % raw.len().max(1);
    if let Some(b) = raw.get_mut(at) {
        *b ^= 0x80;
    }
    assert!(
        !webhook::verify(body, &STANDARD.encode(&raw), &current, Some(&previous)),
        "a signature with byte {at} flipped still verified"
    );
    // A truncated signature must fail too.
    raw.truncate(16);
    assert!(!webhook::verify(
        body,
        &STANDARD.encode(&raw),
        &current,
        Some(&previous)
    ));
});
