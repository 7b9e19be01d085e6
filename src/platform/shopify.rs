//! Shopify: webhook verification and payload mapping.

pub mod api;
pub mod app_proxy;
pub mod customer_query;
pub mod customer_tags;
pub mod discounts;
pub mod orders_query;
pub mod payload;
pub mod session_token;
pub mod webhook;

/// A Shopify shop domain: `name.myshopify.com`, as Shopify's OAuth docs require.
pub fn is_myshopify_domain(domain: &str) -> bool {
    let Some(name) = domain.strip_suffix(".myshopify.com") else {
        return false;
    };
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}
