//! Shopify session tokens: the JWT an embedded admin page sends as `Authorization: Bearer`.
//! HS256 with the app's client secret, `aud` = client id, `dest` = `https://{shop}`, `iss` =
//! `https://{shop}/admin`, valid for a minute; `exp` and `nbf` are checked with 5 s of leeway,
//! and a token made to live longer than [`MAX_LIFETIME_SECS`] is refused.

use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::platform::shopify::is_myshopify_domain;

/// The longest lifetime (`exp` − `nbf`, and `exp` − `iat`) accepted. Shopify's tokens live one
/// minute; a token that lives for years is not Shopify's, or a leaked one replayable forever.
pub const MAX_LIFETIME_SECS: i64 = 300;

#[derive(Debug, Deserialize)]
struct Claims {
    iss: String,
    /// The staff member the token was issued to (their Shopify user id).
    sub: Option<String>,
    dest: String,
    exp: i64,
    nbf: i64,
    iat: Option<i64>,
}

/// Why a session token was refused (the message is safe to show).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionTokenError {
    #[error("the session token {0}")]
    Invalid(&'static str),
    #[error("session token dest {0:?} is not a Shopify shop")]
    BadDest(String),
    #[error("session token iss does not match its dest")]
    IssuerMismatch,
    #[error("session token lives {0} s; at most {MAX_LIFETIME_SECS} s is accepted")]
    TooLong(i64),
}

/// Who a verified session token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// The shop domain the token was issued for.
    pub shop: String,
    /// The token's `sub`: the staff member's Shopify user id, when the token names one.
    pub user_id: Option<String>,
}

/// Verifies `token` and returns the shop domain it was issued for. Only HS256 is accepted, so
/// `alg: none` and algorithm-confusion tokens fail; so do a wrong audience, a wrong secret and
/// an expired or not-yet-valid token.
pub fn verify(
    token: &str,
    api_key: &str,
    secret: &SecretString,
    previous: Option<&SecretString>,
) -> Result<String, SessionTokenError> {
    verify_user(token, api_key, secret, previous).map(|u| u.shop)
}

/// [`verify`], also answering the staff member the token was issued to (to record who acted).
pub fn verify_user(
    token: &str,
    api_key: &str,
    secret: &SecretString,
    previous: Option<&SecretString>,
) -> Result<SessionUser, SessionTokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[api_key]);
    validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    validation.validate_nbf = true;
    validation.leeway = 5;
    let attempt = |s: &SecretString| {
        decode::<Claims>(
            token,
            &DecodingKey::from_secret(s.expose_secret().as_bytes()),
            &validation,
        )
    };
    let data = match attempt(secret) {
        Ok(data) => data,
        Err(first) => match previous.map(attempt) {
            Some(Ok(data)) => data,
            _ => return Err(SessionTokenError::Invalid(plain_reason(&first))),
        },
    };
    let claims = &data.claims;
    let lifetime = std::iter::once(claims.nbf)
        .chain(claims.iat)
        .map(|start| claims.exp.saturating_sub(start))
        .max()
        .unwrap_or_default();
    if lifetime > MAX_LIFETIME_SECS {
        return Err(SessionTokenError::TooLong(lifetime));
    }
    let shop = data
        .claims
        .dest
        .strip_prefix("https://")
        .filter(|d| is_myshopify_domain(d))
        .ok_or_else(|| SessionTokenError::BadDest(data.claims.dest.clone()))?
        .to_owned();
    if data.claims.iss != format!("https://{shop}/admin") {
        return Err(SessionTokenError::IssuerMismatch);
    }
    Ok(SessionUser {
        shop,
        user_id: data.claims.sub,
    })
}

/// What was wrong with a token, in words (the library's own are type names such as
/// `InvalidAudience`).
fn plain_reason(e: &jsonwebtoken::errors::Error) -> &'static str {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "has expired",
        ErrorKind::ImmatureSignature => "is not valid yet",
        ErrorKind::InvalidAudience => "is for another app",
        ErrorKind::InvalidSignature => "is not signed with this app's secret",
        ErrorKind::InvalidAlgorithm => "is not signed with HS256",
        ErrorKind::MissingRequiredClaim(_) => "lacks a required claim (exp, nbf, aud or iss)",
        _ => "is malformed",
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;

    use super::*;

    const KEY: &str = "client-id";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn token(claims: serde_json::Value, key: &str) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap()
    }

    fn claims(shop: &str, exp_offset: i64) -> serde_json::Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": KEY,
               "sub": "42", "exp": now + exp_offset, "nbf": now - 1, "iat": now - 1, "jti": "j", "sid": "s"})
    }

    #[test]
    fn accepts_a_valid_token() {
        let t = token(claims("a.myshopify.com", 60), "s3cret");
        assert_eq!(
            verify(&t, KEY, &secret("s3cret"), None),
            Ok("a.myshopify.com".into())
        );
        assert_eq!(
            verify_user(&t, KEY, &secret("s3cret"), None),
            Ok(SessionUser {
                shop: "a.myshopify.com".into(),
                user_id: Some("42".into())
            })
        );
    }

    #[test]
    fn refuses_wrong_secret_audience_expiry_and_alg_none() {
        let s = secret("s3cret");
        assert!(verify(
            &token(claims("a.myshopify.com", 60), "other"),
            KEY,
            &s,
            None
        )
        .is_err());
        let mut wrong_aud = claims("a.myshopify.com", 60);
        wrong_aud["aud"] = json!("another-app");
        assert!(verify(&token(wrong_aud, "s3cret"), KEY, &s, None).is_err());
        assert!(verify(
            &token(claims("a.myshopify.com", -30), "s3cret"),
            KEY,
            &s,
            None
        )
        .is_err());
        // alg: none, unsigned.
        use base64::Engine as _;
        let b64 = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!(
            "{}.{}.",
            b64(&json!({"alg":"none","typ":"JWT"})),
            b64(&claims("a.myshopify.com", 60))
        );
        assert!(verify(&none, KEY, &s, None).is_err());
    }

    #[test]
    fn refusals_say_what_is_wrong_in_plain_words() {
        let s = secret("s3cret");
        let refusal = |t: &str| verify(t, KEY, &s, None).unwrap_err().to_string();
        assert_eq!(
            refusal(&token(claims("a.myshopify.com", -30), "s3cret")),
            "the session token has expired"
        );
        let mut wrong_aud = claims("a.myshopify.com", 60);
        wrong_aud["aud"] = json!("another-app");
        assert_eq!(
            refusal(&token(wrong_aud, "s3cret")),
            "the session token is for another app"
        );
        assert_eq!(
            refusal(&token(claims("a.myshopify.com", 60), "other")),
            "the session token is not signed with this app's secret"
        );
        assert_eq!(refusal("not.a.jwt"), "the session token is malformed");
    }

    #[test]
    fn refuses_a_dest_that_is_not_a_shop_or_disagrees_with_iss() {
        let s = secret("s3cret");
        let mut c = claims("a.myshopify.com", 60);
        c["dest"] = json!("https://evil.example");
        assert!(matches!(
            verify(&token(c, "s3cret"), KEY, &s, None),
            Err(SessionTokenError::BadDest(_))
        ));
        let mut c = claims("a.myshopify.com", 60);
        c["iss"] = json!("https://b.myshopify.com/admin");
        assert_eq!(
            verify(&token(c, "s3cret"), KEY, &s, None),
            Err(SessionTokenError::IssuerMismatch)
        );
    }

    #[test]
    fn a_session_token_living_for_years_is_refused() {
        let s = secret("s3cret");
        let years = claims("a.myshopify.com", 3 * 365 * 86_400);
        assert!(matches!(
            verify(&token(years, "s3cret"), KEY, &s, None),
            Err(SessionTokenError::TooLong(_))
        ));
        // A recent nbf does not hide an old iat.
        let mut old_iat = claims("a.myshopify.com", 60);
        old_iat["iat"] = json!(chrono::Utc::now().timestamp() - 86_400);
        assert!(matches!(
            verify(&token(old_iat, "s3cret"), KEY, &s, None),
            Err(SessionTokenError::TooLong(_))
        ));
        // Extreme values are refused, not an overflow.
        let mut extreme = claims("a.myshopify.com", 60);
        extreme["exp"] = json!(i64::MAX);
        extreme["nbf"] = json!(i64::MIN);
        assert!(verify(&token(extreme, "s3cret"), KEY, &s, None).is_err());
        let mut five_minutes = claims("a.myshopify.com", 0);
        five_minutes["exp"] = json!(chrono::Utc::now().timestamp() - 1 + MAX_LIFETIME_SECS);
        assert!(verify(&token(five_minutes, "s3cret"), KEY, &s, None).is_ok());
    }

    #[test]
    fn accepts_the_previous_secret_during_rotation() {
        let t = token(claims("a.myshopify.com", 60), "old");
        assert!(verify(&t, KEY, &secret("new"), Some(&secret("old"))).is_ok());
        assert!(verify(&t, KEY, &secret("new"), None).is_err());
    }
}
