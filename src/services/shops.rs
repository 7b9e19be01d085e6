//! Adding a shop (CLI `shop add`, OAuth install later) with its secrets sealed.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;

use crate::crypto::{random_token, sha256_hex, Keys, SealedField, SealedFor};
use crate::db::models::{NewShop, Shop};
use crate::db::schema::shops;
use crate::db::types::{InstallState, Platform};
use crate::db::{new_id, now, DbConnection};

/// What the operator says about a new shop.
#[derive(Debug, Clone, Default)]
pub struct ShopSpec {
    pub platform: Option<Platform>,
    pub domain: String,
    pub access_token: Option<String>,
    pub api_base: Option<String>,
    pub webhook_secret: Option<String>,
    /// WooCommerce REST consumer key and secret (`--api-key`/`--api-secret`).
    pub consumer_key: Option<String>,
    pub consumer_secret: Option<String>,
    pub currency: Option<String>,
    pub timezone: Option<String>,
    pub locale: Option<String>,
    pub is_demo: bool,
}

/// Why a shop cannot be added.
#[derive(Debug, thiserror::Error)]
pub enum AddShopError {
    #[error("{0}")]
    Invalid(String),
    #[error("a {platform} shop with domain {domain} already exists")]
    Exists { platform: Platform, domain: String },
    #[error(transparent)]
    Database(#[from] DieselError),
}

/// A shop that was just added, with the admin API key shown once (non-Shopify shops).
#[derive(Debug)]
pub struct AddedShop {
    pub shop: Shop,
    pub admin_api_key: Option<String>,
}

fn is_host_name(domain: &str) -> bool {
    !domain.is_empty()
        && domain.len() <= 253
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

fn validate(spec: &ShopSpec) -> Result<(Platform, String), AddShopError> {
    let platform = spec
        .platform
        .ok_or_else(|| AddShopError::Invalid("--platform is required".into()))?;
    let domain = spec.domain.trim().to_ascii_lowercase();
    match platform {
        Platform::Shopify if !crate::platform::shopify::is_myshopify_domain(&domain) => {
            return Err(AddShopError::Invalid(format!(
                "{domain:?} is not a Shopify shop domain like your-shop.myshopify.com"
            )))
        }
        Platform::BigCommerce if crate::platform::bigcommerce::store_hash(&domain).is_none() => {
            return Err(AddShopError::Invalid(format!(
                "{domain:?} is not a BigCommerce store: use store-{{hash}}, with the hash from the store's API path (…/stores/{{hash}}/)"
            )))
        }
        Platform::BigCommerce if spec.access_token.as_deref().is_none_or(|t| t.trim().is_empty()) => {
            return Err(AddShopError::Invalid(
                "--access-token is required for BigCommerce (the access token of the store's API account)".into(),
            ))
        }
        Platform::WooCommerce | Platform::BigCommerce if !is_host_name(&domain) => {
            return Err(AddShopError::Invalid(format!("{domain:?} is not a host name like shop.example")))
        }
        Platform::WooCommerce if spec.webhook_secret.as_deref().is_none_or(str::is_empty) => {
            return Err(AddShopError::Invalid(
                "--webhook-secret is required for WooCommerce (the secret set on the shop's webhooks)".into(),
            ))
        }
        _ => {}
    }
    if spec.consumer_key.is_some() != spec.consumer_secret.is_some() {
        return Err(AddShopError::Invalid(
            "--api-key and --api-secret go together".into(),
        ));
    }
    if let Some(base) = &spec.api_base {
        match url::Url::parse(base) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                return Err(AddShopError::Invalid(format!(
                    "--api-base {base:?} is not an http(s) URL"
                )))
            }
        }
    }
    if platform == Platform::WooCommerce {
        // The consumer key and secret travel in every REST call to the site.
        crate::platform::woocommerce::site_base(&domain, spec.api_base.as_deref())
            .map_err(|why| AddShopError::Invalid(format!("--api-base: {why}")))?;
    }
    if platform == Platform::BigCommerce {
        // The access token travels in every REST call to the store.
        crate::platform::bigcommerce::api::api_base(spec.api_base.as_deref())
            .map_err(|why| AddShopError::Invalid(format!("--api-base: {why}")))?;
    }
    if let Some(currency) = &spec.currency {
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(AddShopError::Invalid(format!(
                "--currency {currency:?} is not an ISO 4217 code like USD"
            )));
        }
    }
    Ok((platform, domain))
}

/// Adds a shop; the caller runs this inside a write transaction.
pub fn add_shop(
    conn: &mut DbConnection,
    keys: &Keys,
    spec: &ShopSpec,
) -> Result<AddedShop, AddShopError> {
    let (platform, domain) = validate(spec)?;
    // Shopify admins authenticate with session tokens; other platforms get an API key.
    let admin_api_key =
        (platform != Platform::Shopify).then(|| format!("bmr_{}", random_token(24)));
    let at = now();
    let id = new_id();
    // Each secret is bound to this shop and its field: copied elsewhere, it does not open.
    let seal = |value: &Option<String>, field| {
        value
            .as_deref()
            .map(|v| keys.seal(v, SealedFor::new(&id, field)))
    };
    // A BigCommerce store sends back the secret its hooks were registered with: one is made
    // when the operator gives none (`shop add` registers the hooks with it).
    let webhook_secret = spec
        .webhook_secret
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| (platform == Platform::BigCommerce).then(|| random_token(32)));
    let consumer_key_enc = seal(&spec.consumer_key, SealedField::ConsumerKey);
    let consumer_secret_enc = seal(&spec.consumer_secret, SealedField::ConsumerSecret);
    let new = NewShop {
        id: id.clone(),
        platform,
        domain: domain.clone(),
        access_token_enc: seal(&spec.access_token, SealedField::AccessToken),
        webhook_secret_enc: seal(&webhook_secret, SealedField::WebhookSecret),
        api_key_hash: admin_api_key.as_deref().map(sha256_hex),
        api_base: spec.api_base.clone(),
        currency: spec.currency.clone().unwrap_or_else(|| "USD".into()),
        timezone: spec.timezone.clone().unwrap_or_else(|| "UTC".into()),
        locale: spec.locale.clone().unwrap_or_else(|| "en".into()),
        install_state: InstallState::Installed,
        program: "{}".into(),
        is_demo: spec.is_demo,
        installed_at: at,
        uninstalled_at: None,
        created_at: at,
        updated_at: at,
    };
    match new.insert(conn) {
        Ok(shop) if consumer_key_enc.is_some() => {
            // Not in `NewShop`, whose every field each insert binds.
            diesel::update(shops::table.find(&shop.id))
                .set((
                    shops::consumer_key_enc.eq(consumer_key_enc),
                    shops::consumer_secret_enc.eq(consumer_secret_enc),
                ))
                .execute(conn)?;
            Ok(AddedShop {
                shop: Shop::find(conn, &id)?,
                admin_api_key,
            })
        }
        Ok(shop) => Ok(AddedShop {
            shop,
            admin_api_key,
        }),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(AddShopError::Exists { platform, domain })
        }
        Err(e) => Err(e.into()),
    }
}

/// Whom a platform's webhook names, as far as verifying it goes.
#[derive(Debug)]
pub enum WebhookSigner {
    /// No shop of that platform has the domain: the delivery is ignored.
    UnknownShop,
    /// The shop has no webhook secret the app can open: nothing it sends can be verified.
    NoSecret,
    /// The shop's own webhook secret.
    Secret(secrecy::SecretString),
}

/// The webhook secret of the `platform` shop with `domain` (WooCommerce signs each shop's
/// webhooks with that shop's secret, never the app's).
pub fn webhook_signer(
    conn: &mut DbConnection,
    keys: &Keys,
    platform: Platform,
    domain: &str,
) -> Result<WebhookSigner, DieselError> {
    let Some(shop) = Shop::find_by_domain(conn, platform, domain)? else {
        return Ok(WebhookSigner::UnknownShop);
    };
    let secret = shop.webhook_secret_enc.as_deref().and_then(|sealed| {
        keys.unseal(sealed, SealedFor::new(&shop.id, SealedField::WebhookSecret))
            .ok()
    });
    Ok(secret.map_or(WebhookSigner::NoSecret, WebhookSigner::Secret))
}

/// The shop as its owner sees it (`GET /api/admin/v1/shop`, `boomerang shop show`), with the
/// widget secret other platforms' storefronts compute customer digests with.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ShopView {
    pub domain: String,
    pub platform: String,
    pub currency: String,
    pub timezone: String,
    pub locale: String,
    /// RFC 3339.
    pub installed_at: String,
    pub widget_secret: String,
}

impl ShopView {
    pub fn of(shop: &Shop, keys: &Keys) -> Self {
        Self {
            domain: shop.domain.clone(),
            platform: shop.platform.to_string(),
            currency: shop.currency.clone(),
            timezone: shop.timezone.clone(),
            locale: shop.locale.clone(),
            installed_at: shop
                .installed_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            widget_secret: keys.widget_secret(&shop.id),
        }
    }
}

/// Why `shop show` found no single shop.
#[derive(Debug, thiserror::Error)]
pub enum FindShopError {
    #[error("no shop has domain {0}")]
    NotFound(String),
    #[error("several shops have domain {0}: pass --platform")]
    Ambiguous(String),
    #[error(transparent)]
    Database(#[from] DieselError),
}

/// The one shop with `domain` (on `platform`, when given).
pub fn find_shop(
    conn: &mut DbConnection,
    domain: &str,
    platform: Option<Platform>,
) -> Result<Shop, FindShopError> {
    let domain = domain.trim().to_ascii_lowercase();
    let mut found: Vec<Shop> = Shop::list_by_domain(conn, &domain)?
        .into_iter()
        .filter(|s| platform.is_none_or(|p| s.platform == p))
        .collect();
    match found.len() {
        0 => Err(FindShopError::NotFound(domain)),
        1 => found.pop().ok_or(FindShopError::NotFound(domain)),
        _ => Err(FindShopError::Ambiguous(domain)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_shopify_domains() {
        assert!(crate::platform::shopify::is_myshopify_domain(
            "boomerang-demo.myshopify.com"
        ));
        assert!(crate::platform::shopify::is_myshopify_domain(
            "a1.myshopify.com"
        ));
        assert!(!crate::platform::shopify::is_myshopify_domain(
            "-bad.myshopify.com"
        ));
        assert!(!crate::platform::shopify::is_myshopify_domain(
            ".myshopify.com"
        ));
        assert!(!crate::platform::shopify::is_myshopify_domain(
            "evil.com/x.myshopify.com"
        ));
        assert!(!crate::platform::shopify::is_myshopify_domain(
            "shop.example"
        ));
    }

    #[test]
    fn validates_specs() {
        let spec = |platform, domain: &str| ShopSpec {
            platform: Some(platform),
            domain: domain.into(),
            ..ShopSpec::default()
        };
        assert!(validate(&spec(Platform::Shopify, "Shop-1.myshopify.com")).is_ok());
        assert!(validate(&spec(Platform::Shopify, "shop.example")).is_err());
        assert!(
            validate(&spec(Platform::WooCommerce, "shop.example")).is_err(),
            "needs a secret"
        );
        let mut woo = spec(Platform::WooCommerce, "shop.example");
        woo.webhook_secret = Some("s".into());
        assert!(validate(&woo).is_ok());
        woo.api_base = Some("ftp://x".into());
        assert!(validate(&woo).is_err());
        woo.api_base = Some("http://shop.example".into());
        assert!(validate(&woo).is_err(), "keys would travel in the clear");
        woo.api_base = Some("http://127.0.0.1:8081".into());
        assert!(validate(&woo).is_ok(), "a local fake");
        let mut cur = spec(Platform::Shopify, "a.myshopify.com");
        cur.currency = Some("usd".into());
        assert!(validate(&cur).is_err());
    }
}
