//! Installing the Shopify app, both ways Shopify offers: the authorization-code grant
//! (`/auth` → consent screen → `/auth/callback`, checked for `hmac`, `state` and the shop
//! domain) and managed installation (a session token exchanged for a token). Both end in an
//! expiring offline token with a refresh token, sealed at rest, and the same install steps:
//! the shop's settings read from Shopify and the history backfill started.
//! A reinstall after `app/uninstalled` is the same path: the row and its data stay.

pub mod backfill;
pub mod bigcommerce;
pub mod tokens;

use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;

use crate::config::Config;
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::types::{InstallState, Platform};
use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::platform::shopify::api::{ApiError, ShopifyApi};
use crate::platform::shopify::is_myshopify_domain;
use crate::platform::shopify::oauth::{self, OAuthClient, TokenGrant};
use crate::platform::shopify::session_token::{self, SessionTokenError};
use crate::platform::shopify::shop_query::{ShopSettings, SHOP_SETTINGS};
use crate::services::shops::{add_shop, AddShopError, ShopSpec};

/// How long a consent round trip may take (the `state` cookie's life).
pub const STATE_TTL_SECS: i64 = 600;

/// Why an install was refused; nothing is stored for any of these.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{0:?} is not a Shopify shop domain like your-shop.myshopify.com")]
    BadDomain(String),
    #[error("the hmac does not match the query: the request was not signed by Shopify")]
    BadHmac,
    #[error("the signed request is older than 90 s or has no timestamp; install again")]
    Stale,
    #[error("the state does not match the install this browser started; install again")]
    BadState,
    #[error("Shopify did not grant the scopes the app needs: {0}")]
    MissingScopes(String),
    #[error(transparent)]
    SessionToken(#[from] SessionTokenError),
    #[error("Shopify refused the install: {0}")]
    Platform(#[from] ApiError),
    #[error(transparent)]
    AddShop(#[from] AddShopError),
    #[error(transparent)]
    Database(#[from] DbError),
}

impl From<diesel::result::Error> for InstallError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e.into())
    }
}

/// A shop with a working token.
#[derive(Debug, Clone)]
pub struct Installed {
    pub shop: Shop,
    /// Whether this call obtained a new token (false: the shop already had one).
    pub exchanged: bool,
}

/// What installing needs from the app.
#[derive(Debug, Clone)]
pub struct Installer {
    pub db: Db,
    pub keys: Keys,
    pub api: ShopifyApi,
    pub oauth: OAuthClient,
    pub config: Arc<Config>,
}

/// The `state` cookie: `{nonce}:{expires}:{signature}`, the signature covering the shop too,
/// so a cookie from one shop's install does not complete another's.
pub fn state_cookie(keys: &Keys, nonce: &str, shop: &str, now: i64) -> String {
    let expires = now + STATE_TTL_SECS;
    let sig = keys.sign_link(&format!("oauth-state:{nonce}:{shop}:{expires}"));
    format!("{nonce}:{expires}:{sig}")
}

/// True when `cookie` was made by [`state_cookie`] for `shop`, has not expired, and its nonce
/// is the `state` Shopify sent back.
pub fn state_matches(keys: &Keys, cookie: &str, state: &str, shop: &str, now: i64) -> bool {
    let mut parts = cookie.split(':');
    let (Some(nonce), Some(expires), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Ok(at) = expires.parse::<i64>() else {
        return false;
    };
    !nonce.is_empty()
        && nonce == state
        && at >= now
        && keys.verify_link(&format!("oauth-state:{nonce}:{shop}:{at}"), sig)
}

impl Installer {
    /// The consent screen for `shop` (after its domain is checked).
    pub fn consent_url(&self, shop: &str, nonce: &str) -> Result<String, InstallError> {
        let shop = checked_domain(shop)?;
        let shopify = &self.config.shopify;
        Ok(oauth::authorize_url(
            &self.api.base_for(&shop, None),
            &shopify.api_key,
            &shopify.scopes,
            &format!("{}/auth/callback", self.config.public_url),
            nonce,
        ))
    }

    /// `/auth/callback`: checks the query's `hmac` and age, the shop domain and the `state`
    /// against the browser's cookie, then exchanges the code and installs.
    pub async fn complete_authorization(
        &self,
        query: &[(String, String)],
        cookie: Option<&str>,
    ) -> Result<Installed, InstallError> {
        let shopify = &self.config.shopify;
        if !oauth::verify_query(
            query,
            &shopify.api_secret,
            shopify.previous_api_secret.as_ref(),
        ) {
            return Err(InstallError::BadHmac);
        }
        let get = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let now_secs = chrono::Utc::now().timestamp();
        if !oauth::fresh_timestamp(get("timestamp"), now_secs) {
            return Err(InstallError::Stale);
        }
        let shop = checked_domain(get("shop").unwrap_or_default())?;
        let state = get("state").unwrap_or_default();
        if !cookie.is_some_and(|c| state_matches(&self.keys, c, state, &shop, now_secs)) {
            return Err(InstallError::BadState);
        }
        let code = get("code")
            .filter(|c| !c.is_empty())
            .ok_or(InstallError::BadState)?;
        let existing = self.find(&shop).await?;
        let base = self
            .api
            .base_for(&shop, existing.as_ref().and_then(|s| s.api_base.as_deref()));
        let grant = self.oauth.exchange_code(&base, code).await?;
        self.install(&shop, grant).await
    }

    /// Managed installation: a valid session token for a shop that is not installed, or whose
    /// token is missing or can no longer be renewed, is exchanged for an expiring offline token.
    pub async fn ensure_installed(&self, session_token: &str) -> Result<Installed, InstallError> {
        let shopify = &self.config.shopify;
        let user = session_token::verify_user(
            session_token,
            &shopify.api_key,
            &shopify.api_secret,
            shopify.previous_api_secret.as_ref(),
        )?;
        let existing = self.find(&user.shop).await?;
        if let Some(shop) = existing.as_ref().filter(|s| has_usable_token(s, now())) {
            return Ok(Installed {
                shop: shop.clone(),
                exchanged: false,
            });
        }
        let base = self.api.base_for(
            &user.shop,
            existing.as_ref().and_then(|s| s.api_base.as_deref()),
        );
        let grant = self
            .oauth
            .exchange_session_token(&base, session_token)
            .await?;
        self.install(&user.shop, grant).await
    }

    async fn find(&self, domain: &str) -> Result<Option<Shop>, InstallError> {
        let domain = domain.to_owned();
        Ok(self
            .db
            .run(move |c| {
                Shop::find_by_domain(c, Platform::Shopify, &domain).map_err(DbError::from)
            })
            .await?)
    }

    /// Stores the grant (creating the shop or reinstalling it), then the install steps.
    async fn install(&self, domain: &str, grant: TokenGrant) -> Result<Installed, InstallError> {
        let missing = oauth::missing_scopes(&self.config.shopify.scopes, &grant.scope);
        if !missing.is_empty() {
            return Err(InstallError::MissingScopes(missing.join(",")));
        }
        let (shop, fresh) = match self.store(domain, grant.clone()).await {
            // Two first installs of one shop at once (two admin tabs, or the managed install
            // racing the code grant): the one that lost the race to create the row finds it now.
            Err(InstallError::AddShop(AddShopError::Exists { .. })) => {
                self.store(domain, grant).await?
            }
            other => other?,
        };
        // The install stands even if Shopify cannot answer now; the next install call (or a
        // `shop/update`) brings the settings.
        if let Err(e) = self.read_settings(&shop).await {
            tracing::warn!(shop = %shop.domain, error = %e, "could not read the shop's settings at install");
        }
        if fresh {
            let id = shop.id.clone();
            self.db
                .run(move |c| {
                    write_transaction(c, |c| backfill::start(c, &id, false, now()))
                        .map_err(DbError::from)
                })
                .await?;
        }
        let id = shop.id.clone();
        let shop = self
            .db
            .run(move |c| Shop::find(c, &id).map_err(DbError::from))
            .await?;
        tracing::info!(shop = %shop.domain, fresh, "Shopify shop installed");
        Ok(Installed {
            shop,
            exchanged: true,
        })
    }

    /// Stores a grant in one transaction; returns the shop and whether it was not installed.
    async fn store(&self, domain: &str, grant: TokenGrant) -> Result<(Shop, bool), InstallError> {
        let (keys, domain) = (self.keys.clone(), domain.to_owned());
        self.db
            .run(move |c| write_transaction(c, |c| store_grant(c, &keys, &domain, &grant, now())))
            .await
    }

    /// Reads currency, time zone and locale from Shopify into the shop.
    pub async fn read_settings(&self, shop: &Shop) -> Result<ShopSettings, InstallError> {
        let creds = crate::services::redeem::credentials(shop, &self.keys)
            .ok_or(ApiError::Unauthorized(401))?;
        let data = self.api.graphql(&creds, SHOP_SETTINGS, json!({})).await?;
        let settings = ShopSettings::from_graphql(&data);
        let (id, kept) = (shop.id.clone(), settings.clone());
        self.db
            .run(move |c| {
                write_transaction(c, |c| apply_settings(c, &id, &kept, now()))
                    .map_err(DbError::from)
            })
            .await?;
        Ok(settings)
    }
}

fn checked_domain(shop: &str) -> Result<String, InstallError> {
    let shop = shop.trim().to_ascii_lowercase();
    if is_myshopify_domain(&shop) {
        Ok(shop)
    } else {
        Err(InstallError::BadDomain(shop))
    }
}

/// An installed shop whose token works now or can be renewed (a token that does not expire,
/// from `shop add --access-token`, always works). The demo shop needs none.
fn has_usable_token(shop: &Shop, now: NaiveDateTime) -> bool {
    shop.install_state == InstallState::Installed
        && (shop.is_demo
            || (shop.access_token_enc.is_some()
                && (shop.access_token_expires_at.is_none_or(|at| at > now)
                    || shop.refresh_token_expires_at.is_some_and(|at| at > now))))
}

/// Creates the shop or brings it back (reinstall keeps its id, data and `installed_at`), with
/// the new tokens. Returns the shop and whether it was not installed before.
fn store_grant(
    c: &mut DbConnection,
    keys: &Keys,
    domain: &str,
    grant: &TokenGrant,
    now: NaiveDateTime,
) -> Result<(Shop, bool), InstallError> {
    let existing = Shop::find_by_domain(c, Platform::Shopify, domain)?;
    let fresh = existing
        .as_ref()
        .is_none_or(|s| s.install_state != InstallState::Installed);
    let id = match existing {
        Some(shop) => shop.id,
        None => {
            let spec = ShopSpec {
                platform: Some(Platform::Shopify),
                domain: domain.to_owned(),
                ..ShopSpec::default()
            };
            add_shop(c, keys, &spec)?.shop.id
        }
    };
    tokens::store(c, keys, &id, grant, now)?;
    diesel::update(shops::table.find(&id))
        .set((
            shops::install_state.eq(InstallState::Installed.as_str()),
            shops::uninstalled_at.eq(None::<NaiveDateTime>),
            shops::updated_at.eq(now),
        ))
        .execute(c)?;
    Ok((Shop::find(c, &id)?, fresh))
}

#[derive(AsChangeset)]
#[diesel(table_name = shops)]
struct SettingsChange<'a> {
    currency: Option<&'a str>,
    timezone: Option<&'a str>,
    locale: Option<&'a str>,
    updated_at: NaiveDateTime,
}

/// Keeps what the shop said about itself (install, `shop/update`); absent values stay as
/// they were.
pub fn apply_settings(
    conn: &mut DbConnection,
    shop_id: &str,
    settings: &ShopSettings,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(shops::table.find(shop_id))
        .set(SettingsChange {
            currency: settings.currency.as_deref(),
            timezone: settings.timezone.as_deref(),
            locale: settings.locale.as_deref(),
            updated_at: now,
        })
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    fn keys() -> Keys {
        Keys::derive(&SecretString::from("k".repeat(32)))
    }

    #[test]
    fn the_state_cookie_matches_only_its_nonce_shop_and_time() {
        let k = keys();
        let cookie = state_cookie(&k, "n1", "a.myshopify.com", 1000);
        assert!(state_matches(&k, &cookie, "n1", "a.myshopify.com", 1000));
        assert!(!state_matches(&k, &cookie, "n2", "a.myshopify.com", 1000));
        assert!(!state_matches(&k, &cookie, "n1", "b.myshopify.com", 1000));
        assert!(!state_matches(
            &k,
            &cookie,
            "n1",
            "a.myshopify.com",
            1000 + STATE_TTL_SECS + 1
        ));
        let other = Keys::derive(&SecretString::from("x".repeat(32)));
        assert!(!state_matches(
            &other,
            &cookie,
            "n1",
            "a.myshopify.com",
            1000
        ));
        assert!(!state_matches(
            &k,
            "n1:99999999999",
            "n1",
            "a.myshopify.com",
            1000
        ));
    }

    #[test]
    fn only_myshopify_domains_install() {
        assert_eq!(
            checked_domain(" A.myshopify.com ").unwrap(),
            "a.myshopify.com"
        );
        assert!(matches!(
            checked_domain("evil.example"),
            Err(InstallError::BadDomain(_))
        ));
    }
}
