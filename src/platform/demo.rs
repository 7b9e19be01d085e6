//! The demo shop's store: it has no real Shopify behind it, so its discount codes are
//! "created" here, and a newcomer can redeem a reward in the demo storefront end to end.
//! Only shops marked `is_demo` are ever routed here ([`StoreApi::for_shop`]), which also keeps
//! shops of platforms without an adapter away from the Shopify client, and sends WooCommerce
//! and BigCommerce shops to their own REST APIs.

use secrecy::SecretString;

use crate::db::models::Shop;
use crate::db::types::Platform;
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::woocommerce::api::WooApi;
use crate::platform::{ApiError, DiscountRequest, PlatformApi, ShopCredentials};

/// A stand-in store that accepts every code.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoStore;

impl DemoStore {
    /// The demo shop has no access token; the demo store needs none.
    pub fn credentials(shop: &Shop) -> ShopCredentials {
        ShopCredentials {
            domain: shop.domain.clone(),
            access_token: SecretString::from("demo"),
            api_base: None,
            expiry: None,
        }
    }

    fn discount_id(code: &str) -> String {
        format!("gid://boomerang-demo/DiscountCodeNode/{code}")
    }
}

impl PlatformApi for DemoStore {
    async fn create_discount(
        &self,
        _shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        req.check()?;
        Ok(Self::discount_id(&req.code))
    }

    async fn find_discount(
        &self,
        _shop: &ShopCredentials,
        code: &str,
    ) -> Result<Option<String>, ApiError> {
        // Every code the app asked for exists in the demo store.
        Ok(Some(Self::discount_id(code)))
    }

    async fn discount_used(
        &self,
        _shop: &ShopCredentials,
        _discount_id: &str,
    ) -> Result<bool, ApiError> {
        Ok(false)
    }

    async fn deactivate_discount(
        &self,
        _shop: &ShopCredentials,
        _discount_id: &str,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    async fn delete_discount(
        &self,
        _shop: &ShopCredentials,
        _discount_id: &str,
    ) -> Result<(), ApiError> {
        Ok(())
    }
}

/// The store API of one shop: its platform's client, or the demo store for the demo shop.
#[derive(Debug, Clone, Copy)]
pub enum StoreApi<'a> {
    Shopify(&'a ShopifyApi),
    Demo(DemoStore),
    /// A WooCommerce shop with REST API keys: coupons on its own site.
    WooCommerce(WooApi<'a>),
    /// A BigCommerce store with an access token: v2 coupons through its REST API.
    BigCommerce(BcApi<'a>),
    /// A platform whose adapter does not exist yet: every call fails with
    /// [`ApiError::Unsupported`] (sending its shops' codes to Shopify would fail confusingly).
    Unsupported(Platform),
}

impl<'a> StoreApi<'a> {
    /// Whether the shop's store can create discount codes (the demo store, or a platform
    /// whose adapter exists, with the keys it needs): asked before recording anything that
    /// needs a code.
    pub fn issues_codes(shop: &Shop) -> bool {
        shop.is_demo
            || match shop.platform {
                Platform::Shopify => true,
                Platform::WooCommerce => Self::has_woo_keys(shop),
                Platform::BigCommerce => shop.access_token_enc.is_some(),
            }
    }

    /// A WooCommerce shop added without `--api-key`/`--api-secret` earns, but cannot create
    /// coupons: refused before any points are spent.
    fn has_woo_keys(shop: &Shop) -> bool {
        shop.consumer_key_enc.is_some() && shop.consumer_secret_enc.is_some()
    }

    /// The store of `shop`; other platforms' clients share the Shopify client's HTTP pool and
    /// retry policy.
    pub fn for_shop(shop: &Shop, shopify: &'a ShopifyApi) -> Self {
        match shop.platform {
            _ if shop.is_demo => StoreApi::Demo(DemoStore),
            Platform::Shopify => StoreApi::Shopify(shopify),
            Platform::WooCommerce if Self::has_woo_keys(shop) => {
                let (http, policy) = shopify.http();
                StoreApi::WooCommerce(WooApi::new(http, policy))
            }
            Platform::BigCommerce if shop.access_token_enc.is_some() => {
                let (http, policy) = shopify.http();
                StoreApi::BigCommerce(
                    BcApi::new(http, policy).with_default_base(shopify.bigcommerce_api_base()),
                )
            }
            other @ (Platform::WooCommerce | Platform::BigCommerce) => StoreApi::Unsupported(other),
        }
    }
}

/// Why a shop's store cannot make codes: a WooCommerce shop only lacks its REST API keys, a
/// BigCommerce one its access token.
fn unsupported(platform: Platform) -> ApiError {
    match platform {
        Platform::WooCommerce | Platform::BigCommerce => ApiError::NoApiKeys(platform),
        other => ApiError::Unsupported(other),
    }
}

impl PlatformApi for StoreApi<'_> {
    fn check_supported(&self) -> Result<(), ApiError> {
        match self {
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
            StoreApi::Shopify(_)
            | StoreApi::Demo(_)
            | StoreApi::WooCommerce(_)
            | StoreApi::BigCommerce(_) => Ok(()),
        }
    }

    async fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> Result<String, ApiError> {
        match self {
            StoreApi::Shopify(api) => api.create_discount(shop, req).await,
            StoreApi::Demo(api) => api.create_discount(shop, req).await,
            StoreApi::WooCommerce(api) => api.create_discount(shop, req).await,
            StoreApi::BigCommerce(api) => api.create_discount(shop, req).await,
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
        }
    }

    async fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> Result<Option<String>, ApiError> {
        match self {
            StoreApi::Shopify(api) => api.find_discount(shop, code).await,
            StoreApi::Demo(api) => api.find_discount(shop, code).await,
            StoreApi::WooCommerce(api) => api.find_discount(shop, code).await,
            StoreApi::BigCommerce(api) => api.find_discount(shop, code).await,
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
        }
    }

    async fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<bool, ApiError> {
        match self {
            StoreApi::Shopify(api) => api.discount_used(shop, discount_id).await,
            StoreApi::Demo(api) => api.discount_used(shop, discount_id).await,
            StoreApi::WooCommerce(api) => api.discount_used(shop, discount_id).await,
            StoreApi::BigCommerce(api) => api.discount_used(shop, discount_id).await,
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
        }
    }

    async fn deactivate_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        match self {
            StoreApi::Shopify(api) => api.deactivate_discount(shop, discount_id).await,
            StoreApi::Demo(api) => api.deactivate_discount(shop, discount_id).await,
            StoreApi::WooCommerce(api) => api.deactivate_discount(shop, discount_id).await,
            StoreApi::BigCommerce(api) => api.deactivate_discount(shop, discount_id).await,
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
        }
    }

    async fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> Result<(), ApiError> {
        match self {
            StoreApi::Shopify(api) => api.delete_discount(shop, discount_id).await,
            StoreApi::Demo(api) => api.delete_discount(shop, discount_id).await,
            StoreApi::WooCommerce(api) => api.delete_discount(shop, discount_id).await,
            StoreApi::BigCommerce(api) => api.delete_discount(shop, discount_id).await,
            StoreApi::Unsupported(platform) => Err(unsupported(*platform)),
        }
    }
}
