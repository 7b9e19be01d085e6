//! Shopify: webhook verification and payload mapping.

pub mod api;
pub mod app_proxy;
pub mod customer_query;
pub mod customer_tags;
pub mod discounts;
pub mod oauth;
pub mod orders_query;
pub mod payload;
pub mod session_token;
pub mod shop_query;
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

/// The base URL of OAuth and Admin API calls for `domain`: the shop's own `api_base` when it
/// has one, else `template` (`SHOPIFY_API_BASE`) with `{shop}` replaced by the domain.
pub fn api_base(template: &str, domain: &str, override_base: Option<&str>) -> String {
    override_base
        .map(str::to_owned)
        .unwrap_or_else(|| template.replace("{shop}", domain))
        .trim_end_matches('/')
        .to_owned()
}

#[cfg(test)]
mod base_tests {
    #[test]
    fn the_shop_override_wins_over_the_template() {
        assert_eq!(
            super::api_base("https://{shop}", "a.myshopify.com", None),
            "https://a.myshopify.com"
        );
        assert_eq!(
            super::api_base("http://127.0.0.1:9/", "a.myshopify.com", None),
            "http://127.0.0.1:9"
        );
        assert_eq!(
            super::api_base("https://{shop}", "a.myshopify.com", Some("http://fake/")),
            "http://fake"
        );
    }
}
