//! The BigCommerce app's install: the code of the Auth Callback (`?code&scope&context`)
//! exchanged at `{login}/oauth2/token` for the store's permanent access token.
//!
//! A code works once and for a few minutes, so the exchange is tried once: retrying after an
//! answer that was lost would only meet "invalid code". The owner retries by installing again.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::platform::ApiError;

/// How long the exchange may take before the install gives up (the owner is waiting).
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(15);

/// The app's own credentials (`BIGCOMMERCE_CLIENT_ID`, `BIGCOMMERCE_CLIENT_SECRET`).
#[derive(Debug, Clone, Copy)]
pub struct AppCredentials<'a> {
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
}

/// What the install callback carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthCallback {
    pub code: String,
    pub scope: String,
    /// `stores/{hash}`.
    pub context: String,
}

/// A BigCommerce user named by the token exchange or a signed payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BcUser {
    /// BigCommerce's numeric user id, as text.
    pub id: Option<String>,
    pub email: Option<String>,
}

impl BcUser {
    /// Who acted, for what a session changes: the e-mail, else the user id.
    pub fn actor(&self) -> String {
        match (&self.email, &self.id) {
            (Some(email), _) => email.clone(),
            (None, Some(id)) => format!("BigCommerce user {id}"),
            (None, None) => "BigCommerce user".to_owned(),
        }
    }
}

/// The JSON shape of a user (`{"id": 24654, "email": "…"}`); ids are numbers.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawUser {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    email: Option<String>,
}

impl From<RawUser> for BcUser {
    fn from(raw: RawUser) -> Self {
        let id = raw.id.and_then(|v| match v {
            Value::Number(n) => Some(n.to_string()),
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        });
        Self {
            id,
            email: raw.email.filter(|e| !e.trim().is_empty()),
        }
    }
}

/// The store's permanent token and whom it was granted by.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: SecretString,
    pub scope: String,
    /// `stores/{hash}`: the store the token works for.
    pub context: String,
    pub user: BcUser,
}

#[derive(Deserialize)]
struct GrantBody {
    access_token: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    context: String,
    #[serde(default)]
    user: RawUser,
}

/// The store hash of a `stores/{hash}` context (the install query's `context`, a signed
/// payload's `sub`), when it is one.
pub fn store_of_context(context: &str) -> Option<String> {
    let hash = context.trim().strip_prefix("stores/")?.to_ascii_lowercase();
    super::store_hash(&super::domain_of(&hash)).map(str::to_owned)
}

/// Exchanges the install callback's code for the store's permanent access token.
pub async fn exchange_code(
    http: &reqwest::Client,
    login_base: &str,
    app: AppCredentials<'_>,
    callback: &AuthCallback,
    redirect_uri: &str,
) -> Result<Grant, ApiError> {
    let body = json!({
        "client_id": app.client_id,
        "client_secret": app.client_secret.expose_secret(),
        "code": callback.code,
        "context": callback.context,
        "scope": callback.scope,
        "grant_type": "authorization_code",
        "redirect_uri": redirect_uri,
    });
    let resp = http
        .post(format!("{}/oauth2/token", login_base.trim_end_matches('/')))
        .header(reqwest::header::ACCEPT, "application/json")
        .timeout(EXCHANGE_TIMEOUT)
        .json(&body)
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
    if (500..=599).contains(&status) {
        return Err(ApiError::Server {
            status,
            attempts: 1,
        });
    }
    if !(200..=299).contains(&status) {
        // A used or expired code, another app's code, a redirect_uri that is not the app's:
        // all answered 4xx with `{"error": "…"}` (or an OAuth `error_description`).
        let text = resp.text().await.unwrap_or_default();
        return Err(ApiError::Rejected(format!(
            "the login service answered HTTP {status}: {}",
            login_reason(&text)
        )));
    }
    let body: GrantBody = resp
        .json()
        .await
        .map_err(|e| ApiError::InvalidResponse(e.to_string()))?;
    if body.access_token.trim().is_empty() {
        return Err(ApiError::InvalidResponse("an empty access token".into()));
    }
    Ok(Grant {
        access_token: body.access_token.into(),
        scope: body.scope,
        context: body.context,
        user: body.user.into(),
    })
}

/// BigCommerce's words for a refused exchange, at most 200 characters.
fn login_reason(text: &str) -> String {
    let parsed: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let said = ["error_description", "error", "message", "title"]
        .iter()
        .find_map(|key| parsed.get(key).and_then(Value::as_str))
        .unwrap_or(text)
        .trim();
    let said = if said.is_empty() {
        "no reason given"
    } else {
        said
    };
    said.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_context_names_a_store_hash() {
        assert_eq!(store_of_context("stores/Abc123"), Some("abc123".into()));
        assert_eq!(store_of_context("stores/"), None);
        assert_eq!(store_of_context("stores/a/../b"), None);
        assert_eq!(store_of_context("abc123"), None);
    }

    #[test]
    fn refusals_are_worded_from_the_answer() {
        assert_eq!(
            login_reason(r#"{"error":"Invalid code"}"#),
            "Invalid code".to_owned()
        );
        assert_eq!(
            login_reason(r#"{"error":"invalid_grant","error_description":"code expired"}"#),
            "code expired".to_owned()
        );
        assert_eq!(login_reason(""), "no reason given".to_owned());
        assert_eq!(login_reason(&"x".repeat(500)).len(), 200);
    }

    #[test]
    fn users_are_named_by_email_or_id() {
        let raw: RawUser =
            serde_json::from_str(r#"{"id": 24654, "email": "o@x.example"}"#).unwrap();
        let user = BcUser::from(raw);
        assert_eq!(user.id.as_deref(), Some("24654"));
        assert_eq!(user.actor(), "o@x.example");
        let raw: RawUser = serde_json::from_str(r#"{"id": 7}"#).unwrap();
        assert_eq!(BcUser::from(raw).actor(), "BigCommerce user 7");
    }
}
