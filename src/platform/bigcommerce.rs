//! BigCommerce: thin signed webhooks, the order read back over the REST API, coupons, and the
//! app's install / load / uninstall callbacks.
//!
//! A BigCommerce shop is known by its store hash: its domain in the app is `store-{hash}` (as
//! `boomerang shop add --platform bigcommerce --domain store-{hash}` and the install callback
//! name it), and its API lives at `https://api.bigcommerce.com/stores/{hash}/` with the shop's
//! `X-Auth-Token`.

pub mod api;
pub mod coupons;
pub mod current_customer;
pub mod hooks;
pub mod oauth;
pub mod orders;
pub mod payload;
pub mod signed_payload;
pub mod store;
pub mod webhook;

/// The domain the app knows a BigCommerce store by: `store-{hash}`.
pub fn domain_of(store_hash: &str) -> String {
    format!("store-{}", store_hash.trim().to_ascii_lowercase())
}

/// The store hash of a `store-{hash}` domain, when it is one (letters and digits only, so it
/// is safe inside an API path).
pub fn store_hash(domain: &str) -> Option<&str> {
    let hash = domain.strip_prefix("store-")?;
    (!hash.is_empty() && hash.len() <= 64 && hash.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_known_by_its_hash() {
        assert_eq!(domain_of("Abc123"), "store-abc123");
        assert_eq!(store_hash("store-abc123"), Some("abc123"));
        assert_eq!(store_hash("store-"), None);
        assert_eq!(store_hash("store-a/../b"), None);
        assert_eq!(store_hash("shop.example"), None);
    }
}
