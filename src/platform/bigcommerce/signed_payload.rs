//! The `signed_payload_jwt` BigCommerce sends to the app's load, uninstall and remove-user
//! callbacks: HS256 with the app's client secret, `aud` = client id, `iss` = `bc`, `sub` =
//! `stores/{hash}`, with the user who acts and the store's owner. `exp` and `nbf` are checked
//! with [`LEEWAY_SECS`] of leeway; BigCommerce's payloads live a day, and one made to live
//! longer than [`MAX_LIFETIME_SECS`] is refused (a leaked one would open the admin for ever).
//!
//! A payload is meant to be used once: [`SignedPayload::jti`] and [`SignedPayload::expires_at`]
//! let the caller record it (`services::install::bigcommerce::used_payloads`), so a leaked load
//! URL does not sign anyone in again. One without a `jti` is refused (BigCommerce always sends
//! one). During a client-secret rotation a payload signed with the previous secret is accepted
//! too.

use jsonwebtoken::{Algorithm, Validation};
use secrecy::SecretString;
use serde::Deserialize;

use super::oauth::{store_of_context, AppCredentials, BcUser, RawUser};

/// Clock skew tolerated on `exp` and `nbf`.
pub const LEEWAY_SECS: u64 = 10;

/// The longest lifetime (`exp` − `nbf`, `exp` − `iat`) accepted: BigCommerce's is one day.
pub const MAX_LIFETIME_SECS: i64 = 86_400 + 60;

/// The longest `jti` kept (BigCommerce's are UUIDs); a longer one is not BigCommerce's.
pub const MAX_JTI_LEN: usize = 128;

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    nbf: Option<i64>,
    iat: Option<i64>,
    jti: Option<String>,
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
    /// The payload's id: recorded on first use, refused after.
    pub jti: String,
    /// `exp`, Unix seconds: how long the `jti` must be remembered.
    pub expires_at: i64,
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
    #[error("the signed payload has no usable jti (BigCommerce always sends one): open the app again from the control panel")]
    NoJti,
}

/// Verifies `token` for this app: signed with its client secret or, during a rotation, with
/// `previous` (the current one is tried first). Only HS256 is accepted, so `alg: none` and
/// algorithm-confusion tokens fail; so do another app's audience, another issuer, another
/// secret, an expired or not-yet-valid payload, and one without a `jti`.
pub fn verify(
    token: &str,
    app: AppCredentials<'_>,
    previous: Option<&SecretString>,
) -> Result<SignedPayload, SignedPayloadError> {
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
    let claims: Claims =
        super::decode_with_rotation(token, app.client_secret, previous, &validation)
            .map_err(|e| SignedPayloadError::Invalid(plain_reason(&e)))?;
    // From now too: a payload without `nbf` and `iat` must not live longer either (its `jti`
    // is remembered until `exp`, so `exp` must stay near).
    let now = chrono::Utc::now().timestamp();
    let lifetime = claims
        .nbf
        .into_iter()
        .chain(claims.iat)
        .chain([now])
        .map(|start| claims.exp.saturating_sub(start))
        .max()
        .unwrap_or_default();
    if lifetime > MAX_LIFETIME_SECS {
        return Err(SignedPayloadError::TooLong(lifetime));
    }
    let jti = claims
        .jti
        .map(|j| j.trim().to_owned())
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or(SignedPayloadError::NoJti)?;
    let store_hash =
        store_of_context(&claims.sub).ok_or(SignedPayloadError::BadSubject(claims.sub))?;
    Ok(SignedPayload {
        store_hash,
        user: claims.user.into(),
        owner: claims.owner.into(),
        jti,
        expires_at: claims.exp,
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
        let payload = verify(&token, app(&secret), None).unwrap();
        assert_eq!(payload.store_hash, "abc123");
        assert_eq!(payload.jti, "8c9a1b");
        assert_eq!(payload.user.email.as_deref(), Some("owner@shop.example"));
        assert_eq!(payload.owner.id.as_deref(), Some("9128"));
    }

    #[test]
    fn refuses_forged_foreign_stale_and_odd_payloads() {
        let secret = SecretString::from("s3cret");
        let refused = |claims: serde_json::Value, key: &str| {
            verify(&sign(&claims, key).unwrap(), app(&secret), None).unwrap_err()
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
        let mut undated = good.clone();
        let fields = undated.as_object_mut().unwrap();
        fields.remove("iat");
        fields.remove("nbf");
        fields["exp"] = json!(now() + 10 * 86_400);
        assert!(matches!(
            refused(undated, "s3cret"),
            SignedPayloadError::TooLong(_)
        ));
        let mut no_jti = good.clone();
        no_jti.as_object_mut().unwrap().remove("jti");
        assert_eq!(refused(no_jti, "s3cret"), SignedPayloadError::NoJti);
        for odd_jti in [json!(""), json!("x".repeat(MAX_JTI_LEN + 1))] {
            let mut odd = good.clone();
            odd["jti"] = odd_jti;
            assert_eq!(refused(odd, "s3cret"), SignedPayloadError::NoJti);
        }
        let mut not_a_store = good;
        not_a_store["sub"] = json!("stores/../x");
        assert!(matches!(
            refused(not_a_store, "s3cret"),
            SignedPayloadError::BadSubject(_)
        ));
        assert_eq!(
            verify(" ", app(&secret), None),
            Err(SignedPayloadError::Missing)
        );
        assert!(verify("not.a.jwt", app(&secret), None).is_err());
    }

    #[test]
    fn accepts_the_previous_secret_during_a_rotation_only() {
        let (new, old) = (SecretString::from("new"), SecretString::from("old"));
        let claims = claims_for("abc", ID, now());
        let by_old = sign(&claims, "old").unwrap();
        assert_eq!(
            verify(&by_old, app(&new), Some(&old)).unwrap().store_hash,
            "abc"
        );
        let by_new = sign(&claims, "new").unwrap();
        assert!(verify(&by_new, app(&new), Some(&old)).is_ok());
        assert_eq!(
            verify(&by_old, app(&new), None),
            Err(SignedPayloadError::Invalid(
                "is not signed with this app's client secret"
            ))
        );
        let by_neither = sign(&claims, "neither").unwrap();
        assert_eq!(
            verify(&by_neither, app(&new), Some(&old)),
            Err(SignedPayloadError::Invalid(
                "is not signed with this app's client secret"
            ))
        );
        // The previous secret loosens nothing else, and the refusal says why.
        let mut expired = claims;
        expired["exp"] = json!(now() - 60);
        assert!(matches!(
            verify(&sign(&expired, "old").unwrap(), app(&new), Some(&old)),
            Err(SignedPayloadError::Invalid(m)) if m.starts_with("has expired")
        ));
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
        assert!(verify(&none, app(&secret), Some(&secret)).is_err());
    }
}
