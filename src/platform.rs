//! Platform adapters: verify what a platform sends, map it to internal events, and talk back to
//! the platform's API. Nothing platform-specific leaks past this module.

pub mod demo;
pub mod shopify;

use chrono::{DateTime, Utc};

pub use demo::StoreApi;
pub use shopify::api::{ApiError, ShopCredentials};

/// What a discount code gives. Amounts are decimal strings in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscountValue {
    Amount(String),
    Percent(u32),
    FreeShipping { max_shipping: Option<String> },
    FreeVariant(String),
}

/// A single-use code for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscountRequest {
    pub code: String,
    pub title: String,
    pub customer_id: String,
    pub value: DiscountValue,
    pub min_subtotal: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// What the app asks of a shop platform. Shopify implements it over its Admin GraphQL API;
/// WooCommerce and BigCommerce slot in beside it.
pub trait PlatformApi {
    /// Creates the code; returns the platform's id for it.
    fn create_discount(
        &self,
        shop: &ShopCredentials,
        req: &DiscountRequest,
    ) -> impl std::future::Future<Output = Result<String, ApiError>> + Send;

    /// The id of the discount with this code, if it exists (recovers from a crash mid-redemption).
    fn find_discount(
        &self,
        shop: &ShopCredentials,
        code: &str,
    ) -> impl std::future::Future<Output = Result<Option<String>, ApiError>> + Send;

    /// Whether the discount was already used on an order.
    fn discount_used(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> impl std::future::Future<Output = Result<bool, ApiError>> + Send;

    /// Removes a discount (an owner cancelled the redemption).
    fn delete_discount(
        &self,
        shop: &ShopCredentials,
        discount_id: &str,
    ) -> impl std::future::Future<Output = Result<(), ApiError>> + Send;
}
