//! The `signed_payload_jwt` BigCommerce sends to the app's load, uninstall and remove-user
//! callbacks: HS256 with the app's client secret, `aud` = client id, `iss` = `bc`, `sub` =
//! `stores/{hash}`, with the user who acts and the store's owner. `exp` and `nbf` are checked
//! with [`LEEWAY_SECS`] of leeway; BigCommerce's payloads live a day, and one made to live
//! longer than [`MAX_LIFETIME_SECS`] is refused (a leaked one would open the admin for ever).

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::oauth::{store_of_context, AppCredentials, BcUser, RawUser};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 10;

/// The longest lifetime (`exp` − `nbf`, `exp` − `iat`) accepted: BigCommerce's is one day.
pub const MAX_LIFETIME_SECS: i64 = 86_400 + 60;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    #[serde(default)]
    user: RawUser,
    #[serde(default)]
    owner: RawUser,
}

/// Who a verified payload speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedPayload {
    pub store_hash: String,
    /// The control panel user opening (or removed from) the app.
    pub user: BcUser,
    /// The store's owner.
    pub owner: BcUser,
}

/// Why a signed payload was refused (the message is safe to show).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignedPayloadError {
    #[error("the request carries no signed_payload_jwt: open the app from the BigCommerce control panel")]
    Missing,
    #[error("the signed payload {0}")]
    Invalid(&'static str),
    #[error("the signed payload names {0:?}, not a BigCommerce store (stores/{{hash}})")]
    BadSubject(String),
    #[error("the signed payload lives {0} s; at most {MAX_LIFETIME_SECS} s is accepted")]
    TooLong(i64),
}

/// Verifies `token` for this app. Only HS256 is accepted, so `alg: none` and
/// algorithm-confusion tokens fail; so do another app's audience, another issuer, another
/// secret, and an expired or not-yet-valid payload.
pub fn verify(token: &str, app: AppCredentials<'_>) -> Result<SignedPayload, SignedPayloadError> {
    let token = token.trim();
    if token.is_empty() {
        return Err(SignedPayloadError::Missing);
    }
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[app.client_id]);
    validation.set_issuer(&["bc"]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = LEEWAY_SECS;
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(app.client_secret.expose_secret().as_bytes()),
        &validation,
    )
    .map_err(|e| SignedPayloadError::Invalid(plain_reason(&e)))?;
    let claims = data.claims;
    let lifetime = claims
        .nbf
        .into_iter()
        .chain(claims.iat)
        .map(|start| claims.exp.saturating_sub(start))
        .max()
        .unwrap_or_default();
    if lifetime > MAX_LIFETIME_SECS {
        return Err(SignedPayloadError::TooLong(lifetime));
    }
    let store_hash =
        store_of_context(&claims.sub).ok_or(SignedPayloadError::BadSubject(claims.sub))?;
    Ok(SignedPayload {
        store_hash,
        user: claims.user.into(),
        owner: claims.owner.into(),
    })
}

/// What was wrong with a payload, in words.
fn plain_reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "has expired: open the app again from the control panel",
        ErrorKind::ImmatureSignature => "is not valid yet",
        ErrorKind::InvalidAudience => "is for another app",
        ErrorKind::InvalidIssuer => "was not issued by BigCommerce",
        ErrorKind::InvalidSignature => "is not signed with this app's client secret",
        ErrorKind::InvalidAlgorithm => "is not signed with HS256",
        ErrorKind::MissingRequiredClaim(_) => "lacks a required claim (exp, aud, iss or sub)",
        _ => "is malformed",
    }
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;

    const ID: &str = "client-id";

    fn sign(
        claims: &serde_json::Value,
        secret: &str,
    ) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
    }

    /// Claims as BigCommerce sends them, valid now.
    fn claims_for(store_hash: &str, client_id: &str, now: i64) -> serde_json::Value {
        json!({
            "aud": client_id, "iss": "bc", "iat": now, "nbf": now - 5, "exp": now + 86_400,
            "jti": "8c9a1b", "sub": format!("stores/{store_hash}"),
            "user": {"id": 9128, "email": "owner@shop.example", "locale": "en-US"},
            "owner": {"id": 9128, "email": "owner@shop.example"},
            "url": "/", "channel_id": null,
        })
    }

    fn app(secret: &SecretString) -> AppCredentials<'_> {
        AppCredentials {
            client_id: ID,
            client_secret: secret,
        }
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn accepts_bigcommerces_payload() {
        let secret = SecretString::from("s3cret");
        let token = sign(&claims_for("Abc123", ID, now()), "s3cret").unwrap();
        let payload = verify(&token, app(&secret)).unwrap();
        assert_eq!(payload.store_hash, "abc123");
        assert_eq!(payload.user.email.as_deref(), Some("owner@shop.example"));
        assert_eq!(payload.owner.id.as_deref(), Some("9128"));
    }

    #[test]
    fn refuses_forged_foreign_stale_and_odd_payloads() {
        let secret = SecretString::from("s3cret");
        let refused = |claims: serde_json::Value, key: &str| {
            verify(&sign(&claims, key).unwrap(), app(&secret)).unwrap_err()
        };
        let good = claims_for("abc", ID, now());
        assert_eq!(
            refused(good.clone(), "forged"),
            SignedPayloadError::Invalid("is not signed with this app's client secret")
        );
        let mut other_app = good.clone();
        other_app["aud"] = json!("another-app");
        assert_eq!(
            refused(other_app, "s3cret"),
            SignedPayloadError::Invalid("is for another app")
        );
        let mut other_issuer = good.clone();
        other_issuer["iss"] = json!("evil");
        assert!(matches!(
            refused(other_issuer, "s3cret"),
            SignedPayloadError::Invalid(_)
        ));
        let mut expired = good.clone();
        expired["exp"] = json!(now() - 60);
        assert!(
            matches!(refused(expired, "s3cret"), SignedPayloadError::Invalid(m) if m.starts_with("has expired"))
        );
        let mut early = good.clone();
        early["nbf"] = json!(now() + 600);
        assert!(matches!(
            refused(early, "s3cret"),
            SignedPayloadError::Invalid(_)
        ));
        let mut forever = good.clone();
        forever["exp"] = json!(now() + 10 * 86_400);
        assert!(matches!(
            refused(forever, "s3cret"),
            SignedPayloadError::TooLong(_)
        ));
        let mut not_a_store = good;
        not_a_store["sub"] = json!("stores/../x");
        assert!(matches!(
            refused(not_a_store, "s3cret"),
            SignedPayloadError::BadSubject(_)
        ));
        assert_eq!(verify(" ", app(&secret)), Err(SignedPayloadError::Missing));
        assert!(verify("not.a.jwt", app(&secret)).is_err());
    }

    #[test]
    fn refuses_an_unsigned_payload() {
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "typ": "JWT"})),
            b64(&claims_for("abc", ID, now()))
        );
        let secret = SecretString::from("s3cret");
        assert!(verify(&none, app(&secret)).is_err());
    }
}
