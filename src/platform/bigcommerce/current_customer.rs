//! BigCommerce's Current Customer token: how a Stencil storefront proves who is logged in.
//!
//! A theme cannot compute the widget's HMAC digest (it has no server side), so the widget asks
//! the storefront itself: `GET /customer/current.jwt?app_client_id={client id}` on the store's
//! own origin answers a JWT signed HS256 with the app's client secret, carrying
//! `customer{id,email,group_id}`, `store_hash`, `iss: "bc/apps"`, `aud` (the client id) and
//! `iat`/`exp` (15 minutes); a guest gets a 404 instead. The widget passes the token on as
//! `bc_token` and [`verify`] checks it here.

use jsonwebtoken::{Algorithm, Validation};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

/// The issuer BigCommerce names in these tokens.
const ISSUER: &str = "bc/apps";

/// The longest lifetime (`exp` − `iat`) accepted. BigCommerce's tokens live 15 minutes; one
/// made to live much longer is not BigCommerce's, or a leaked one replayable for too long.
pub const MAX_LIFETIME_SECS: i64 = 3600;

/// Seconds of clock difference tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Deserialize)]
struct Claims {
    customer: CustomerClaim,
    store_hash: String,
    /// The store hash again, when present.
    sub: Option<String>,
    iat: i64,
    exp: i64,
}

#[derive(Debug, Deserialize)]
struct CustomerClaim {
    /// A number in BigCommerce's tokens; a string is read too.
    id: Value,
}

/// Why a current-customer token was refused (the message is safe to show).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CurrentCustomerError {
    #[error("the BigCommerce customer token {0}")]
    Invalid(String),
    #[error("the BigCommerce customer token is for another store")]
    OtherStore,
    #[error(
        "the BigCommerce customer token lives {0} s; at most {MAX_LIFETIME_SECS} s is accepted"
    )]
    TooLong(i64),
}

/// Verifies `token` for the store `store_hash` and returns the customer's id (as the store's
/// orders name it). Only HS256 with `client_secret` (or, during a rotation, `previous`; the
/// current one is tried first) is accepted (no `alg: none`, no algorithm confusion); `aud` must
/// be `client_id` and `iss` BigCommerce's when present; an expired token, or one issued to
/// another store, is refused.
pub fn verify(
    token: &str,
    client_id: &str,
    client_secret: &SecretString,
    previous: Option<&SecretString>,
    store_hash: &str,
) -> Result<String, CurrentCustomerError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[client_id]);
    validation.set_issuer(&[ISSUER]);
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = LEEWAY_SECS;
    let claims: Claims = super::decode_with_rotation(token, client_secret, previous, &validation)
        .map_err(|e| refusal(&e))?;
    let same_store = |hash: &str| hash.eq_ignore_ascii_case(store_hash);
    if !same_store(&claims.store_hash) || claims.sub.as_deref().is_some_and(|s| !same_store(s)) {
        return Err(CurrentCustomerError::OtherStore);
    }
    let now = chrono::Utc::now().timestamp();
    if claims.iat > now + LEEWAY_SECS as i64 {
        return Err(CurrentCustomerError::Invalid(
            "is issued in the future".into(),
        ));
    }
    let lifetime = claims.exp - claims.iat;
    if lifetime > MAX_LIFETIME_SECS {
        return Err(CurrentCustomerError::TooLong(lifetime));
    }
    match claims.customer.id {
        Value::Number(n) if n.as_u64().is_some_and(|id| id > 0) => Ok(n.to_string()),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => Ok(s),
        _ => Err(CurrentCustomerError::Invalid("names no customer".into())),
    }
}

/// What was wrong with a token, in words.
fn refusal(e: &jsonwebtoken::errors::Error) -> CurrentCustomerError {
    use jsonwebtoken::errors::ErrorKind;
    CurrentCustomerError::Invalid(
        match e.kind() {
            ErrorKind::ExpiredSignature => "has expired",
            ErrorKind::InvalidSignature => "has a bad signature",
            ErrorKind::InvalidAudience => "was issued to another app",
            ErrorKind::InvalidIssuer => "was not issued by BigCommerce",
            ErrorKind::InvalidAlgorithm => "is not signed HS256",
            _ => "is malformed",
        }
        .into(),
    )
}

/// A current-customer token as BigCommerce makes one (tests, and the demo of the snippet).
pub fn sign(
    client_id: &str,
    client_secret: &str,
    store_hash: &str,
    customer_id: u64,
    iat: i64,
    exp: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = serde_json::json!({
        "customer": {"id": customer_id, "email": "shopper@example.com", "group_id": "0"},
        "iss": ISSUER, "sub": store_hash, "iat": iat, "exp": exp, "version": 1,
        "aud": client_id, "application_id": client_id, "store_hash": store_hash,
        "operation": "current_customer",
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(client_secret.as_bytes()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "bc-client-id";
    const SECRET: &str = "bc-client-secret";

    fn secret() -> SecretString {
        SecretString::from(SECRET.to_owned())
    }

    fn token(hash: &str, iat: i64, exp: i64) -> String {
        sign(ID, SECRET, hash, 4927, iat, exp).unwrap()
    }

    #[test]
    fn a_fresh_token_for_this_store_names_its_customer() {
        let now = chrono::Utc::now().timestamp();
        assert_eq!(
            verify(
                &token("abc123", now, now + 900),
                ID,
                &secret(),
                None,
                "abc123"
            ),
            Ok("4927".into())
        );
    }

    #[test]
    fn forged_expired_other_stores_and_other_apps_tokens_are_refused() {
        let now = chrono::Utc::now().timestamp();
        let good = token("abc123", now, now + 900);
        let wrong_secret = SecretString::from("another-secret".to_owned());
        assert!(
            matches!(verify(&good, ID, &wrong_secret, None, "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("signature"))
        );
        assert!(
            matches!(verify(&good, "other-app", &secret(), None, "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("another app"))
        );
        assert_eq!(
            verify(&good, ID, &secret(), None, "zzz999"),
            Err(CurrentCustomerError::OtherStore)
        );
        let expired = token("abc123", now - 2000, now - 1100);
        assert!(
            matches!(verify(&expired, ID, &secret(), None, "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("expired"))
        );
        let forever = token("abc123", now, now + 86_400 * 365);
        assert!(matches!(
            verify(&forever, ID, &secret(), None, "abc123"),
            Err(CurrentCustomerError::TooLong(_))
        ));
        assert!(verify("not.a.jwt", ID, &secret(), None, "abc123").is_err());
    }

    #[test]
    fn the_previous_secret_is_accepted_during_a_rotation_only() {
        let now = chrono::Utc::now().timestamp();
        let (new, old) = (SecretString::from("new"), SecretString::from("old"));
        let by_old = sign(ID, "old", "abc123", 4927, now, now + 900).unwrap();
        assert_eq!(
            verify(&by_old, ID, &new, Some(&old), "abc123"),
            Ok("4927".into())
        );
        let by_new = sign(ID, "new", "abc123", 4927, now, now + 900).unwrap();
        assert_eq!(
            verify(&by_new, ID, &new, Some(&old), "abc123"),
            Ok("4927".into())
        );
        assert!(
            matches!(verify(&by_old, ID, &new, None, "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("signature"))
        );
        let by_neither = sign(ID, "neither", "abc123", 4927, now, now + 900).unwrap();
        assert!(
            matches!(verify(&by_neither, ID, &new, Some(&old), "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("signature"))
        );
        // The previous secret loosens nothing else, and the refusal says why.
        let expired = sign(ID, "old", "abc123", 4927, now - 2000, now - 1100).unwrap();
        assert!(
            matches!(verify(&expired, ID, &new, Some(&old), "abc123"), Err(CurrentCustomerError::Invalid(m)) if m.contains("expired"))
        );
        assert_eq!(
            verify(&by_old, ID, &new, Some(&old), "zzz999"),
            Err(CurrentCustomerError::OtherStore)
        );
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        use base64::Engine;
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let now = chrono::Utc::now().timestamp();
        let claims = format!(
            r#"{{"customer":{{"id":1}},"store_hash":"abc123","aud":"{ID}","iss":"bc/apps","iat":{now},"exp":{}}}"#,
            now + 900
        );
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
        assert!(verify(&unsigned, ID, &secret(), Some(&secret()), "abc123").is_err());
    }
}
