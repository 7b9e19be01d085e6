//! Shopify OAuth: the signed query of install redirects, the consent URL of the
//! authorization-code grant, and the three calls to `/admin/oauth/access_token` (code, token
//! exchange of a session token, refresh) that all answer an expiring offline token.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::api::ApiError;
use crate::crypto::{hmac_sha256, verify_hmac_sha256};

/// Shopify's own library refuses a signed query older (or newer) than this.
pub const QUERY_MAX_SKEW_SECS: i64 = 90;

/// The message Shopify signs: every pair but `hmac` (and the legacy `signature`), sorted by key,
/// form-encoded as `k=v` joined with `&` (as Shopify's own libraries build it with
/// `URLSearchParams`, so a `host` ending in `=` is signed as `%3D`).
pub fn query_message(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "hmac" && k != "signature")
        .collect();
    kept.sort();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(kept)
        .finish()
}

/// Signs a query as Shopify does (hex HMAC-SHA256 of [`query_message`]); tests use this.
pub fn sign_query(pairs: &[(String, String)], secret: &str) -> String {
    hex::encode(hmac_sha256(
        secret.as_bytes(),
        query_message(pairs).as_bytes(),
    ))
}

/// True when the query's `hmac` is the signature of the rest under the current secret or,
/// during a rotation, the previous one; compared in constant time.
pub fn verify_query(
    pairs: &[(String, String)],
    secret: &SecretString,
    previous: Option<&SecretString>,
) -> bool {
    let Some(Ok(given)) = pairs
        .iter()
        .find(|(k, _)| k == "hmac")
        .map(|(_, v)| hex::decode(v.trim()))
    else {
        return false;
    };
    let message = query_message(pairs);
    std::iter::once(secret)
        .chain(previous)
        .any(|s| verify_hmac_sha256(s.expose_secret().as_bytes(), message.as_bytes(), &given))
}

/// True when `timestamp` (unix seconds, as text) is within [`QUERY_MAX_SKEW_SECS`] of `now`.
pub fn fresh_timestamp(timestamp: Option<&str>, now: i64) -> bool {
    timestamp
        .and_then(|t| t.trim().parse::<i64>().ok())
        .is_some_and(|t| (now - t).abs() <= QUERY_MAX_SKEW_SECS)
}

/// The consent screen of the authorization-code grant (an offline token: no `grant_options`).
pub fn authorize_url(
    base: &str,
    client_id: &str,
    scopes: &[String],
    redirect_uri: &str,
    state: &str,
) -> String {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id)
        .append_pair("scope", &scopes.join(","))
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", state)
        .finish();
    format!("{base}/admin/oauth/authorize?{query}")
}

/// Scopes asked for but not granted; `write_x` covers `read_x`.
pub fn missing_scopes(wanted: &[String], granted: &str) -> Vec<String> {
    let granted: Vec<&str> = granted.split(',').map(str::trim).collect();
    wanted
        .iter()
        .filter(|w| {
            let covered_by_write = w
                .strip_prefix("read_")
                .is_some_and(|rest| granted.contains(&format!("write_{rest}").as_str()));
            !granted.contains(&w.as_str()) && !covered_by_write
        })
        .cloned()
        .collect()
}

/// An access token from `/admin/oauth/access_token`.
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: SecretString,
    pub scope: String,
    /// Seconds the access token lives (`None`: a token that does not expire).
    pub expires_in: Option<i64>,
    pub refresh_token: Option<SecretString>,
    pub refresh_token_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct GrantBody {
    access_token: String,
    #[serde(default)]
    scope: String,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    refresh_token_expires_in: Option<i64>,
}

/// The client of Shopify's token endpoint.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    client_id: String,
    client_secret: SecretString,
}

impl OAuthClient {
    pub fn new(client_id: &str, client_secret: SecretString) -> Result<Self, ApiError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("boomerang/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ApiError::Network(e.to_string()))?;
        Ok(Self {
            http,
            client_id: client_id.to_owned(),
            client_secret,
        })
    }

    /// The authorization-code grant's last step.
    pub async fn exchange_code(&self, base: &str, code: &str) -> Result<TokenGrant, ApiError> {
        self.token(base, &[("code", code), ("expiring", "1")]).await
    }

    /// Managed installation: a session token becomes an expiring offline access token.
    pub async fn exchange_session_token(
        &self,
        base: &str,
        session_token: &str,
    ) -> Result<TokenGrant, ApiError> {
        self.token(
            base,
            &[
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange",
                ),
                ("subject_token", session_token),
                (
                    "subject_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
                (
                    "requested_token_type",
                    "urn:shopify:params:oauth:token-type:offline-access-token",
                ),
                ("expiring", "1"),
            ],
        )
        .await
    }

    /// Renews an expiring token; the refresh token is single-use, a new one comes back.
    pub async fn refresh(
        &self,
        base: &str,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, ApiError> {
        self.token(
            base,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )
        .await
    }

    async fn token(&self, base: &str, params: &[(&str, &str)]) -> Result<TokenGrant, ApiError> {
        // Built before the first await: the serializer is not `Send`.
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("client_id", &self.client_id)
                .append_pair("client_secret", self.client_secret.expose_secret());
            for (k, v) in params {
                form.append_pair(k, v);
            }
            form.finish()
        };
        let resp = self
            .http
            .post(format!("{base}/admin/oauth/access_token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    ApiError::Timeout(1)
                } else {
                    ApiError::Network(e.without_url().to_string())
                }
            })?;
        let status = resp.status().as_u16();
        match status {
            200..=299 => {}
            401 | 403 => return Err(ApiError::Unauthorized(status)),
            500..=599 => {
                return Err(ApiError::Server {
                    status,
                    attempts: 1,
                })
            }
            // 400 carries `{"error":"invalid_grant"…}` or similar: the grant was refused.
            _ => {
                let text = resp.text().await.unwrap_or_default();
                let reason: String = text.chars().take(200).collect();
                return Err(ApiError::Rejected(format!("HTTP {status}: {reason}")));
            }
        }
        let body: GrantBody = resp
            .json()
            .await
            .map_err(|e| ApiError::InvalidResponse(e.to_string()))?;
        if body.access_token.is_empty() {
            return Err(ApiError::InvalidResponse("an empty access token".into()));
        }
        Ok(TokenGrant {
            access_token: body.access_token.into(),
            scope: body.scope,
            expires_in: body.expires_in,
            refresh_token: body.refresh_token.filter(|t| !t.is_empty()).map(Into::into),
            refresh_token_expires_in: body.refresh_token_expires_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_query_message_drops_hmac_and_sorts() {
        let q = pairs(&[
            ("shop", "a.myshopify.com"),
            ("hmac", "x"),
            ("code", "c"),
            ("timestamp", "1"),
        ]);
        assert_eq!(query_message(&q), "code=c&shop=a.myshopify.com&timestamp=1");
        let padded = pairs(&[("host", "YWRtaW4="), ("code", "a b")]);
        assert_eq!(query_message(&padded), "code=a+b&host=YWRtaW4%3D");
    }

    #[test]
    fn a_signed_query_verifies_and_a_changed_one_does_not() {
        let mut q = pairs(&[("code", "c"), ("shop", "a.myshopify.com"), ("state", "n")]);
        let hmac = sign_query(&q, "hush");
        q.push(("hmac".into(), hmac));
        let secret = SecretString::from("hush");
        assert!(verify_query(&q, &secret, None));
        let other = SecretString::from("other");
        assert!(verify_query(&q, &other, Some(&secret)), "rotation");
        assert!(!verify_query(&q, &other, None));
        q[1].1 = "b.myshopify.com".into();
        assert!(!verify_query(&q, &secret, None));
        assert!(!verify_query(&pairs(&[("code", "c")]), &secret, None));
        assert!(!verify_query(&pairs(&[("hmac", "zz")]), &secret, None));
    }

    #[test]
    fn timestamps_older_than_90_s_are_refused() {
        assert!(fresh_timestamp(Some("1000"), 1090));
        assert!(!fresh_timestamp(Some("1000"), 1091));
        assert!(!fresh_timestamp(Some("x"), 1000));
        assert!(!fresh_timestamp(None, 1000));
    }

    #[test]
    fn the_consent_url_names_scopes_redirect_and_state() {
        let url = authorize_url(
            "https://a.myshopify.com",
            "key",
            &["read_orders".into(), "write_discounts".into()],
            "https://app.example/auth/callback",
            "nonce",
        );
        assert_eq!(
            url,
            "https://a.myshopify.com/admin/oauth/authorize?client_id=key&scope=read_orders%2Cwrite_discounts&redirect_uri=https%3A%2F%2Fapp.example%2Fauth%2Fcallback&state=nonce"
        );
    }

    #[test]
    fn write_scopes_cover_read_scopes() {
        let wanted: Vec<String> = vec!["read_orders".into(), "read_customers".into()];
        assert!(missing_scopes(&wanted, "read_orders,write_customers").is_empty());
        assert_eq!(
            missing_scopes(&wanted, "read_orders"),
            vec!["read_customers"]
        );
    }
}
