//! Installing the BigCommerce app: the Auth Callback's code exchanged for the store's
//! permanent token, the shop `store-{hash}` created or brought back (a reinstall keeps its
//! members and ledger), its settings read, its webhooks registered, and the owner signed in to
//! the admin. The load, uninstall and remove-user callbacks are verified by their
//! `signed_payload_jwt`, each good once (`used_payloads`). A first install (or a reinstall)
//! starts the history backfill.
//!
//! BigCommerce is called only outside database transactions: the code exchange and the
//! store's settings before the shop is stored, the webhooks after.

pub mod hooks_job;
pub mod setup;
pub mod used_payloads;

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use secrecy::{ExposeSecret, SecretString};

use crate::config::Config;
use crate::crypto::{random_token, Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::types::{InstallState, Platform};
use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::oauth::{self, AppCredentials, AuthCallback, BcUser};
use crate::platform::bigcommerce::signed_payload::{self, SignedPayload, SignedPayloadError};
use crate::platform::bigcommerce::{domain_of, hooks};
use crate::platform::shopify::api::RetryPolicy;
use crate::platform::shopify::shop_query::ShopSettings;
use crate::platform::{ApiError, ShopCredentials};
use crate::services::admin_sessions;
use crate::services::install::{apply_settings, backfill};
use crate::services::shops::{add_shop, AddShopError, ShopSpec};

/// Why a callback was refused. Nothing is stored for any of these but [`Self::Hooks`], which
/// comes after the shop was installed.
#[derive(Debug, thiserror::Error)]
pub enum BcInstallError {
    #[error("this app is not set up for BigCommerce: set BIGCOMMERCE_CLIENT_ID and BIGCOMMERCE_CLIENT_SECRET to the app's client id and secret")]
    NotConfigured,
    #[error("{0}")]
    BadRequest(String),
    #[error("BigCommerce refused the install: {0}; install the app again from the control panel")]
    Refused(ApiError),
    #[error(transparent)]
    SignedPayload(#[from] SignedPayloadError),
    #[error("store {0} has not installed this app (or has uninstalled it): install it from the BigCommerce control panel")]
    NotInstalled(String),
    #[error("this signed_payload_jwt was already used: open the app again from the BigCommerce control panel")]
    Replayed,
    #[error("the app is installed, but BigCommerce did not register its webhooks ({0}), so orders do not earn points yet: PUBLIC_URL must be the app's public https address ({1}); then open the app again")]
    Hooks(ApiError, String),
    #[error(transparent)]
    AddShop(#[from] AddShopError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for BcInstallError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e.into())
    }
}

/// An owner signed in to the admin: the session cookie's value (for the browser only).
#[derive(Debug)]
pub struct SignedIn {
    pub shop: Shop,
    pub cookie: String,
}

/// What the BigCommerce callbacks need from the app.
#[derive(Debug, Clone)]
pub struct BcInstaller {
    pub db: Db,
    pub keys: Keys,
    pub config: Arc<Config>,
    pub http: reqwest::Client,
    pub policy: RetryPolicy,
}

impl BcInstaller {
    fn app(&self) -> Result<AppCredentials<'_>, BcInstallError> {
        let bc = &self.config.bigcommerce;
        match (&bc.client_id, &bc.client_secret) {
            (Some(client_id), Some(client_secret)) => Ok(AppCredentials {
                client_id,
                client_secret,
            }),
            _ => Err(BcInstallError::NotConfigured),
        }
    }

    fn api(&self) -> BcApi<'_> {
        BcApi::new(&self.http, self.policy)
    }

    /// The app's Auth Callback URL, which the token exchange must name again.
    pub fn redirect_uri(&self) -> String {
        format!("{}/auth/bigcommerce/install", self.config.public_url)
    }

    /// The credentials of REST calls to the store `domain` with `token`: at the shop's own
    /// `api_base` if it has one, else `BIGCOMMERCE_API_BASE`.
    pub fn credentials(
        &self,
        domain: &str,
        api_base: Option<&str>,
        token: SecretString,
    ) -> ShopCredentials {
        ShopCredentials {
            domain: domain.to_owned(),
            access_token: token,
            api_base: Some(
                api_base
                    .unwrap_or(&self.config.bigcommerce.api_base)
                    .to_owned(),
            ),
            expiry: None,
        }
    }

    /// The Auth Callback: exchanges the code, stores the shop, registers its webhooks and
    /// signs the installing user in.
    pub async fn install(&self, callback: AuthCallback) -> Result<SignedIn, BcInstallError> {
        let app = self.app()?;
        let hash = oauth::store_of_context(&callback.context).ok_or_else(|| {
            BcInstallError::BadRequest(format!(
                "context {:?} is not a BigCommerce store (stores/{{hash}}): install the app from the BigCommerce control panel",
                callback.context
            ))
        })?;
        if callback.code.trim().is_empty() {
            return Err(BcInstallError::BadRequest(
                "the install request has no code: install the app from the BigCommerce control panel".into(),
            ));
        }
        let domain = domain_of(&hash);
        let grant = oauth::exchange_code(
            &self.http,
            &self.config.bigcommerce.login_base,
            app,
            &callback,
            &self.redirect_uri(),
        )
        .await
        .map_err(BcInstallError::Refused)?;
        if oauth::store_of_context(&grant.context).is_some_and(|granted| granted != hash) {
            return Err(BcInstallError::Refused(ApiError::InvalidResponse(format!(
                "the token is for {:?}, not stores/{hash}",
                grant.context
            ))));
        }
        let existing = self.find(&domain).await?;
        let api_base = existing.and_then(|s| s.api_base);
        let creds = self.credentials(&domain, api_base.as_deref(), grant.access_token.clone());
        // The install stands without them (the shop keeps what it had).
        let settings = self.read_settings(&creds).await.unwrap_or_else(|e| {
            tracing::warn!(shop = %domain, error = %e, "could not read the store's settings");
            ShopSettings::default()
        });
        // A fresh secret on every install: whatever the store was told before is void.
        let secret = SecretString::from(random_token(32));
        let stored = Stored {
            token: grant.access_token.clone(),
            secret: secret.clone(),
            settings,
        };
        let shop = match self.store(&domain, &stored).await {
            // Two installs of one store at once: the one that lost the race to create the row
            // finds it now.
            Err(BcInstallError::AddShop(AddShopError::Exists { .. })) => {
                self.store(&domain, &stored).await?
            }
            other => other?,
        };
        tracing::info!(shop = %shop.domain, "BigCommerce shop installed");
        let destination = hooks::destination(&self.config.public_url, &shop.domain);
        hooks::register(&self.api(), &creds, &destination, &secret)
            .await
            .map_err(|e| BcInstallError::Hooks(e, self.config.public_url.clone()))?;
        self.sign_in(shop, &grant.user).await
    }

    /// The Load Callback: a verified, unused payload of an installed store signs its user in,
    /// and a job makes sure the store's webhooks are registered (see `hooks_job`).
    pub async fn load(&self, token: &str) -> Result<SignedIn, BcInstallError> {
        let payload = self.verify(token)?;
        let domain = domain_of(&payload.store_hash);
        let actor = payload.user.actor();
        let public_url = self.config.public_url.clone();
        let (cookie, session) = self
            .db
            .run(move |c| {
                write_transaction(c, |c| -> Result<_, BcInstallError> {
                    spend(c, &payload)?;
                    let shop = Shop::find_by_domain(c, Platform::BigCommerce, &domain)?
                        .filter(|s| s.install_state == InstallState::Installed)
                        .ok_or(BcInstallError::NotInstalled(domain))?;
                    let destination = hooks::destination(&public_url, &shop.domain);
                    hooks_job::enqueue(c, &shop, &destination, now())?;
                    // Embedded: the admin runs in a frame of the store's control panel.
                    Ok(admin_sessions::open(c, shop, &actor, true, now())?)
                })
            })
            .await?;
        Ok(SignedIn {
            shop: session.shop,
            cookie,
        })
    }

    /// The Uninstall Callback: the shop is uninstalled as Shopify's `app/uninstalled` does
    /// (token dropped, data kept). Idempotent for fresh payloads; answers the shop when this
    /// call uninstalled it.
    pub async fn uninstall(&self, token: &str) -> Result<Option<Shop>, BcInstallError> {
        let payload = self.verify(token)?;
        let domain = domain_of(&payload.store_hash);
        let uninstalled = self
            .db
            .run(move |c| {
                write_transaction(c, |c| -> Result<Option<Shop>, BcInstallError> {
                    spend(c, &payload)?;
                    let Some(shop) = Shop::find_by_domain(c, Platform::BigCommerce, &domain)?
                        .filter(|s| s.install_state == InstallState::Installed)
                    else {
                        return Ok(None);
                    };
                    crate::services::compliance::uninstall(c, &shop, now())?;
                    Ok(Some(shop))
                })
            })
            .await?;
        if let Some(shop) = &uninstalled {
            tracing::info!(shop = %shop.domain, "BigCommerce shop uninstalled");
        }
        Ok(uninstalled)
    }

    /// The Remove User Callback (multi-user apps): verified and spent, changes nothing else
    /// (sessions are not tied to BigCommerce users and end within hours).
    pub async fn remove_user(&self, token: &str) -> Result<SignedPayload, BcInstallError> {
        let payload = self.verify(token)?;
        let spent = payload.clone();
        self.db
            .run(move |c| write_transaction(c, |c| spend(c, &spent)))
            .await?;
        Ok(payload)
    }

    /// Checks the payload's signature (current client secret, else the previous one during a
    /// rotation) and claims; whether it was used already is [`spend`]'s part.
    fn verify(&self, token: &str) -> Result<SignedPayload, BcInstallError> {
        let previous = self.config.bigcommerce.previous_client_secret.as_ref();
        Ok(signed_payload::verify(token, self.app()?, previous)?)
    }

    async fn find(&self, domain: &str) -> Result<Option<Shop>, BcInstallError> {
        let domain = domain.to_owned();
        Ok(self
            .db
            .run(move |c| {
                Shop::find_by_domain(c, Platform::BigCommerce, &domain).map_err(DbError::from)
            })
            .await?)
    }

    /// Currency, time zone and language from `GET v2/store`.
    pub async fn read_settings(&self, creds: &ShopCredentials) -> Result<ShopSettings, ApiError> {
        let store = self
            .api()
            .call(creds, reqwest::Method::GET, "v2/store", None)
            .await?;
        Ok(crate::platform::bigcommerce::store::settings(&store))
    }

    async fn store(&self, domain: &str, stored: &Stored) -> Result<Shop, BcInstallError> {
        let (keys, domain, stored) = (self.keys.clone(), domain.to_owned(), stored.clone());
        self.db
            .run(move |c| {
                write_transaction(c, |c| store_install(c, &keys, &domain, &stored, now()))
            })
            .await
    }

    async fn sign_in(&self, shop: Shop, user: &BcUser) -> Result<SignedIn, BcInstallError> {
        let actor = user.actor();
        let signed_in = self
            .db
            .run(move |c| {
                // Embedded: the admin runs in a frame of the store's control panel.
                admin_sessions::open(c, shop, &actor, true, now()).map_err(DbError::from)
            })
            .await?;
        let (cookie, session) = signed_in;
        Ok(SignedIn {
            shop: session.shop,
            cookie,
        })
    }
}

/// Records `payload` as used, in the caller's write transaction; refuses a second use.
fn spend(c: &mut DbConnection, payload: &SignedPayload) -> Result<(), BcInstallError> {
    if used_payloads::record(c, payload, now())? {
        Ok(())
    } else {
        tracing::warn!(store = %payload.store_hash, "a used signed_payload_jwt came again: refused");
        Err(BcInstallError::Replayed)
    }
}

/// What an install stores.
#[derive(Debug, Clone)]
struct Stored {
    token: SecretString,
    secret: SecretString,
    settings: ShopSettings,
}

/// Creates the shop or brings it back (keeping its id, members and ledger), with the new token
/// and webhook secret sealed to it; a shop not installed before starts its history backfill.
fn store_install(
    c: &mut DbConnection,
    keys: &Keys,
    domain: &str,
    stored: &Stored,
    now: NaiveDateTime,
) -> Result<Shop, BcInstallError> {
    let existing = Shop::find_by_domain(c, Platform::BigCommerce, domain)?;
    let fresh = existing
        .as_ref()
        .is_none_or(|s| s.install_state != InstallState::Installed);
    let id = match existing {
        Some(shop) => shop.id,
        None => {
            let spec = ShopSpec {
                platform: Some(Platform::BigCommerce),
                domain: domain.to_owned(),
                access_token: Some(stored.token.expose_secret().to_owned()),
                webhook_secret: Some(stored.secret.expose_secret().to_owned()),
                ..ShopSpec::default()
            };
            add_shop(c, keys, &spec)?.shop.id
        }
    };
    let seal =
        |value: &SecretString, field| keys.seal(value.expose_secret(), SealedFor::new(&id, field));
    diesel::update(shops::table.find(&id))
        .set((
            shops::access_token_enc.eq(Some(seal(&stored.token, SealedField::AccessToken))),
            shops::webhook_secret_enc.eq(Some(seal(&stored.secret, SealedField::WebhookSecret))),
            // BigCommerce's tokens do not expire: nothing to refresh.
            shops::refresh_token_enc.eq(None::<String>),
            shops::access_token_expires_at.eq(None::<NaiveDateTime>),
            shops::refresh_token_expires_at.eq(None::<NaiveDateTime>),
            shops::install_state.eq(InstallState::Installed.as_str()),
            shops::uninstalled_at.eq(None::<NaiveDateTime>),
            shops::updated_at.eq(now),
        ))
        .execute(c)?;
    apply_settings(c, &id, &stored.settings, now)?;
    if fresh {
        // A first install (or a reinstall) reads the year of orders before it, as Shopify's
        // install does; the owner may award them later (`POST /api/admin/v1/backfill`).
        backfill::start(c, &id, false, now)?;
    }
    Ok(Shop::find(c, &id)?)
}
