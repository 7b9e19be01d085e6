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
    /// `BIGCOMMERCE_CLIENT_SECRET_PREVIOUS`: the secret before a rotation. What BigCommerce
    /// signed with it (webhooks, `signed_payload_jwt`, current-customer tokens) is accepted too
    /// until it is removed, since deliveries and open control panels outlive the switch; the
    /// OAuth code exchange always sends the current one.
    pub previous_client_secret: Option<SecretString>,
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
        let previous_client_secret = env.optional("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS");
        // A previous secret only widens what the current one accepts: alone it would mean an
        // app that checks signatures with a secret it says it has retired.
        if previous_client_secret.is_some() && client_secret.is_none() {
            return Err(ConfigError {
                variable: "BIGCOMMERCE_CLIENT_SECRET_PREVIOUS",
                message: "is the secret BIGCOMMERCE_CLIENT_SECRET replaced: set BIGCOMMERCE_CLIENT_ID and BIGCOMMERCE_CLIENT_SECRET too, or unset it"
                    .into(),
            });
        }
        Ok(Self {
            client_id,
            client_secret: client_secret.map(Into::into),
            previous_client_secret: previous_client_secret.map(Into::into),
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

    #[test]
    fn the_previous_secret_needs_a_current_one() {
        assert!(config(&[])
            .unwrap()
            .bigcommerce
            .previous_client_secret
            .is_none());
        let err = config(&[("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS", "old")]).unwrap_err();
        assert_eq!(err.variable, "BIGCOMMERCE_CLIENT_SECRET_PREVIOUS");
        assert!(
            err.message.contains("BIGCOMMERCE_CLIENT_SECRET replaced"),
            "{}",
            err.message
        );
        let c = config(&[
            ("BIGCOMMERCE_CLIENT_ID", "id"),
            ("BIGCOMMERCE_CLIENT_SECRET", "new"),
            ("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS", " old "),
        ])
        .unwrap();
        use secrecy::ExposeSecret;
        let previous = c.bigcommerce.previous_client_secret.unwrap();
        assert_eq!(previous.expose_secret(), "old");
        // Empty is unset, as for every variable.
        let c = config(&[("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS", "")]).unwrap();
        assert!(c.bigcommerce.previous_client_secret.is_none());
    }
}
