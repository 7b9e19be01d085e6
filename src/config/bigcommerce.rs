//! The BigCommerce app's credentials and endpoints (`BIGCOMMERCE_*`).

use secrecy::SecretString;

use super::{ConfigError, Env};

/// Where BigCommerce's OAuth token exchange lives unless `BIGCOMMERCE_LOGIN_BASE` says.
pub const DEFAULT_LOGIN_BASE: &str = "https://login.bigcommerce.com";

/// The BigCommerce app: its client id and secret (install, `signed_payload_jwt`, Standard
/// Webhooks signatures, the storefront's current-customer token) and the bases of its OAuth
/// and REST calls (tests point them at a local fake).
#[derive(Debug, Clone)]
pub struct BigCommerceConfig {
    /// `BIGCOMMERCE_CLIENT_ID`: unset when this instance serves no BigCommerce app.
    pub client_id: Option<String>,
    /// `BIGCOMMERCE_CLIENT_SECRET`: set together with the client id.
    pub client_secret: Option<SecretString>,
    /// `BIGCOMMERCE_LOGIN_BASE`: base of the OAuth token exchange (`{base}/oauth2/token`).
    pub login_base: String,
    /// `BIGCOMMERCE_API_BASE`: base of REST calls (`{base}/stores/{hash}/…`); a shop's own
    /// `--api-base` wins over it.
    pub api_base: String,
}

impl BigCommerceConfig {
    pub(super) fn read(env: &Env<'_>) -> Result<Self, ConfigError> {
        let client_id = env.optional("BIGCOMMERCE_CLIENT_ID");
        let client_secret = env.optional("BIGCOMMERCE_CLIENT_SECRET");
        if client_id.is_some() != client_secret.is_some() {
            let missing = if client_id.is_none() {
                "BIGCOMMERCE_CLIENT_ID"
            } else {
                "BIGCOMMERCE_CLIENT_SECRET"
            };
            return Err(ConfigError {
                variable: missing,
                message: "BIGCOMMERCE_CLIENT_ID and BIGCOMMERCE_CLIENT_SECRET must be set together"
                    .into(),
            });
        }
        Ok(Self {
            client_id,
            client_secret: client_secret.map(Into::into),
            login_base: base(env, "BIGCOMMERCE_LOGIN_BASE", DEFAULT_LOGIN_BASE)?,
            api_base: base(
                env,
                "BIGCOMMERCE_API_BASE",
                crate::platform::bigcommerce::api::DEFAULT_API_BASE,
            )?,
        })
    }
}

/// An http(s) base URL without a trailing slash.
fn base(env: &Env<'_>, variable: &'static str, default: &str) -> Result<String, ConfigError> {
    let raw = env.string_or(variable, default);
    match url::Url::parse(&raw) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {
            Ok(raw.trim_end_matches('/').to_owned())
        }
        _ => Err(ConfigError {
            variable,
            message: format!("{raw:?} is not an http(s) URL"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, super::ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn the_client_id_and_secret_come_together() {
        let c = config(&[]).unwrap();
        assert!(c.bigcommerce.client_id.is_none());
        assert_eq!(c.bigcommerce.login_base, "https://login.bigcommerce.com");
        assert_eq!(c.bigcommerce.api_base, "https://api.bigcommerce.com");
        let err = config(&[("BIGCOMMERCE_CLIENT_ID", "id")]).unwrap_err();
        assert_eq!(err.variable, "BIGCOMMERCE_CLIENT_SECRET");
        let c = config(&[
            ("BIGCOMMERCE_CLIENT_ID", "id"),
            ("BIGCOMMERCE_CLIENT_SECRET", "secret"),
            ("BIGCOMMERCE_LOGIN_BASE", "http://127.0.0.1:9/"),
        ])
        .unwrap();
        assert_eq!(c.bigcommerce.login_base, "http://127.0.0.1:9");
        let err = config(&[("BIGCOMMERCE_API_BASE", "nope")]).unwrap_err();
        assert_eq!(err.variable, "BIGCOMMERCE_API_BASE");
    }
}
