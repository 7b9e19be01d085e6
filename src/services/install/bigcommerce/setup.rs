//! `boomerang shop add --platform bigcommerce`: once the shop is stored (with the API account's
//! token and a webhook secret), its settings are read, its history backfill queued and its
//! webhooks registered as the app install does. When the app's address is one BigCommerce cannot reach (loopback, the default
//! `http://localhost:8080`), nothing is registered and the output says how to do it by hand.

use secrecy::{ExposeSecret, SecretString};

use std::sync::Arc;

use super::BcInstaller;
use crate::config::Config;
use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::{now, write_transaction, Db, DbError};
use crate::platform::bigcommerce::api::api_base;
use crate::platform::bigcommerce::hooks::{self, SCOPES, SECRET_HEADER};
use crate::platform::shopify::api::{RetryPolicy, ShopifyApi};
use crate::platform::ApiError;
use crate::services::install::apply_settings;
use crate::services::install::backfill::{self, HISTORY_DAYS};

/// Why a just-added shop could not be set up at all.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("shop {0} has no access token or webhook secret the app can open")]
    NoSecrets(String),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl BcInstaller {
    /// For the command line: the app's HTTP client, with the default retries.
    pub fn for_command_line(config: Config, db: Db, keys: Keys) -> Result<Self, ApiError> {
        let api = ShopifyApi::new(&config.shopify.api_version, RetryPolicy::default())?;
        let (http, policy) = api.http();
        Ok(Self {
            db,
            keys,
            http: http.clone(),
            policy,
            config: Arc::new(config),
        })
    }

    /// Reads the store's settings into `shop` and registers its webhooks when BigCommerce can
    /// reach the app; returns what the operator should read (refusals included: the shop
    /// stays added, and the steps say how to finish by hand).
    pub async fn set_up_added_shop(&self, shop: &Shop) -> Result<String, SetupError> {
        let unseal = |sealed: Option<&str>, field| {
            self.keys
                .unseal(sealed?, SealedFor::new(&shop.id, field))
                .ok()
        };
        let (Some(token), Some(secret)) = (
            unseal(shop.access_token_enc.as_deref(), SealedField::AccessToken),
            unseal(
                shop.webhook_secret_enc.as_deref(),
                SealedField::WebhookSecret,
            ),
        ) else {
            return Err(SetupError::NoSecrets(shop.domain.clone()));
        };
        let creds = self.credentials(&shop.domain, shop.api_base.as_deref(), token);
        // `shop add` checked the base; were it refused now, the steps show why.
        let base = api_base(creds.api_base.as_deref()).unwrap_or_else(|why| why);
        let mut out = String::new();
        match self.read_settings(&creds).await {
            Ok(settings) => {
                let (id, kept) = (shop.id.clone(), settings.clone());
                self.db
                    .run(move |c| {
                        write_transaction(c, |c| apply_settings(c, &id, &kept, now()))
                            .map_err(DbError::from)
                    })
                    .await?;
                let or_kept = |v: &Option<String>| v.clone().unwrap_or_else(|| "kept".into());
                out.push_str(&format!(
                    "store settings read from BigCommerce: currency {}, time zone {}, language {}\n",
                    or_kept(&settings.currency),
                    or_kept(&settings.timezone),
                    or_kept(&settings.locale),
                ));
            }
            Err(e) => out.push_str(&format!(
                "warning: could not read the store's settings ({e}); the --currency, --timezone and --locale given are kept\n"
            )),
        }
        // The year before, as an app install reads it; the server's job workers read it.
        let id = shop.id.clone();
        self.db
            .run(move |c| {
                write_transaction(c, |c| backfill::start(c, &id, false, now()))
                    .map_err(DbError::from)
            })
            .await?;
        out.push_str(&format!(
            "history backfill queued: the orders of the last {HISTORY_DAYS} days are read from BigCommerce once the server runs (progress: GET /api/admin/v1/backfill)\n"
        ));
        let public_url = &self.config.public_url;
        let destination = hooks::destination(public_url, &shop.domain);
        if !reachable_from_outside(public_url) {
            out.push_str(&format!(
                "no webhooks registered: PUBLIC_URL {public_url} is not an address BigCommerce can reach\n"
            ));
            out.push_str(&setup_steps(&base, &shop.domain, &destination, &secret));
            return Ok(out);
        }
        match hooks::register(&self.api(), &creds, &destination, &secret).await {
            Ok(done) => out.push_str(&format!(
                "webhooks registered for {} ({} created, {} updated, {} duplicates deleted): deliveries go to {destination}\n",
                SCOPES.join(", "),
                done.created,
                done.updated,
                done.deleted
            )),
            Err(e) => {
                out.push_str(&format!(
                    "warning: BigCommerce did not register the webhooks: {e}\n"
                ));
                out.push_str(&setup_steps(&base, &shop.domain, &destination, &secret));
            }
        }
        Ok(out)
    }
}

/// Whether BigCommerce could ever deliver to `public_url`: not a loopback or `localhost`
/// address. (Whether it accepts the address, https on port 443, is BigCommerce's to say.)
pub fn reachable_from_outside(public_url: &str) -> bool {
    let Ok(url) = url::Url::parse(public_url) else {
        return false;
    };
    match url.host() {
        Some(url::Host::Domain(host)) => {
            let host = host.to_ascii_lowercase();
            host != "localhost" && !host.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback() && !ip.is_unspecified(),
        None => false,
    }
}

/// How to register the store's webhooks by hand, once the app has a public https address.
pub fn setup_steps(
    api_base: &str,
    domain: &str,
    destination: &str,
    secret: &SecretString,
) -> String {
    let hash = crate::platform::bigcommerce::store_hash(domain).unwrap_or(domain);
    let mut text = format!(
        "To receive orders, set PUBLIC_URL to the app's public https address (port 443) and \
         register one webhook per scope with the store's API account \
         (POST {api_base}/stores/{hash}/v3/hooks, header X-Auth-Token), each with body:\n  \
         {{\"scope\": SCOPE, \"destination\": \"{destination}\", \"is_active\": true, \
         \"headers\": {{\"{SECRET_HEADER}\": \"{}\"}}}}\n  (the webhook secret, shown once)\nscopes:",
        secret.expose_secret()
    );
    for scope in SCOPES {
        text.push(' ');
        text.push_str(scope);
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_bigcommerce_can_reach_get_webhooks() {
        assert!(reachable_from_outside("https://rewards.example"));
        assert!(reachable_from_outside("http://203.0.113.9:8080"));
        assert!(!reachable_from_outside("http://localhost:8080"));
        assert!(!reachable_from_outside("http://127.0.0.1:3000"));
        assert!(!reachable_from_outside("http://[::1]:3000"));
        assert!(!reachable_from_outside("http://app.localhost"));
    }

    #[test]
    fn the_steps_name_the_endpoint_destination_secret_and_scopes() {
        let steps = setup_steps(
            "https://api.bigcommerce.com",
            "store-abc",
            "https://r.example/webhooks/bigcommerce/store-abc",
            &SecretString::from("s3cret"),
        );
        assert!(steps.contains("https://api.bigcommerce.com/stores/abc/v3/hooks"));
        assert!(
            steps.contains("\"destination\": \"https://r.example/webhooks/bigcommerce/store-abc\"")
        );
        assert!(steps.contains(&format!("\"{SECRET_HEADER}\": \"s3cret\"")));
        for scope in SCOPES {
            assert!(steps.contains(scope), "{scope}");
        }
    }
}
