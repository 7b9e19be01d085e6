//! WooCommerce: webhook verification, order mapping and coupons over the REST API.
//!
//! A WooCommerce shop signs its webhooks with a secret of its own (set on each webhook in
//! WooCommerce → Settings → Advanced → Webhooks and given to `boomerang shop add
//! --webhook-secret`), so a delivery is verified with THAT shop's secret, never the app's.

pub mod api;
pub mod coupons;
pub mod payload;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::crypto::verify_hmac_sha256;

/// Topics the app acts on: an order's whole document, sent on creation and on every change
/// (payment, status, refunds). Anything else is answered `ignored` and not stored.
pub const TOPICS: &[&str] = &["order.created", "order.updated"];

/// True when `signature_b64` (`X-WC-Webhook-Signature`) is the base64 HMAC-SHA256 of the raw
/// `body` under the shop's webhook `secret`, compared in constant time.
pub fn verify(body: &[u8], signature_b64: &str, secret: &SecretString) -> bool {
    let Ok(signature) = STANDARD.decode(signature_b64.trim()) else {
        return false;
    };
    verify_hmac_sha256(secret.expose_secret().as_bytes(), body, &signature)
}

/// The inbox key of an order document under `topic`: its content. WooCommerce builds a body
/// when it sends it and may send one change twice under two delivery ids, and reconciliation
/// reads the same documents back, so the content (not any delivery id) says "seen before".
pub fn content_key(topic: &str, body_text: &str) -> String {
    format!(
        "sha256:{}",
        crate::crypto::sha256_hex(&format!("{topic}\n{body_text}"))
    )
}

/// Signs `body` as WooCommerce does (tests use this).
pub fn sign(body: &[u8], secret: &str) -> String {
    STANDARD.encode(crate::crypto::hmac_sha256(secret.as_bytes(), body))
}

/// Whether an unsigned body is the ping WooCommerce sends when a webhook is created (a form
/// post `webhook_id=<id>`): it must get a 200 or WooCommerce will not save the webhook.
pub fn is_creation_ping(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    let mut pairs = text.trim().split('&');
    let first = pairs.next().unwrap_or_default();
    pairs.next().is_none()
        && first
            .strip_prefix("webhook_id=")
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The site the REST API is called on: the shop's `--api-base` or `https://{domain}`. Plain
/// http is refused except on a loopback host (a local fake): the consumer key and secret
/// travel in every request's Basic auth header.
pub fn site_base(domain: &str, api_base: Option<&str>) -> Result<String, String> {
    let base = api_base
        .map(str::to_owned)
        .unwrap_or_else(|| format!("https://{domain}"));
    let url = url::Url::parse(&base).map_err(|e| format!("site URL {base:?}: {e}"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(format!(
                "site URL {base:?} must use https (plain http only for a loopback host)"
            ))
        }
    }
    Ok(base.trim_end_matches('/').to_owned())
}

/// What the owner of a WooCommerce shop sets up on their site after `boomerang shop add`.
pub fn setup_steps(public_url: &str, domain: &str, has_api_keys: bool) -> String {
    let url = format!(
        "{}/webhooks/woocommerce/{domain}",
        public_url.trim_end_matches('/')
    );
    let mut text = format!(
        "WooCommerce → Settings → Advanced → Webhooks: add two webhooks, topics \"Order created\" \
         and \"Order updated\", delivery URL {url}, API version WP REST API v3, secret: the \
         --webhook-secret given here\n"
    );
    if !has_api_keys {
        text.push_str(
            "no REST API keys: orders earn points, but rewards cannot be redeemed until the shop \
             has them (WooCommerce → Settings → Advanced → REST API, Read/Write; pass \
             --api-key/--api-secret to `shop add`)\n",
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_the_shops_own_signature() {
        let body = br#"{"id":727}"#;
        let secret = SecretString::from("woo-secret".to_owned());
        assert!(verify(body, &sign(body, "woo-secret"), &secret));
        assert!(!verify(body, &sign(body, "another-shop"), &secret));
        assert!(!verify(
            br#"{"id":728}"#,
            &sign(body, "woo-secret"),
            &secret
        ));
        assert!(!verify(body, "", &secret));
        assert!(!verify(body, "%%%", &secret));
    }

    #[test]
    fn recognises_the_creation_ping() {
        assert!(is_creation_ping(b"webhook_id=12"));
        assert!(!is_creation_ping(b"webhook_id="));
        assert!(!is_creation_ping(b"webhook_id=12&x=1"));
        assert!(!is_creation_ping(br#"{"webhook_id":12}"#));
    }

    #[test]
    fn the_setup_steps_name_the_delivery_url_and_missing_keys() {
        let steps = setup_steps("https://rewards.example/", "shop.example", false);
        assert!(steps.contains("https://rewards.example/webhooks/woocommerce/shop.example"));
        assert!(steps.contains("no REST API keys"));
        assert!(!setup_steps("https://r.example", "s.example", true).contains("no REST API keys"));
    }

    #[test]
    fn the_site_is_https_unless_it_is_loopback() {
        assert_eq!(
            site_base("shop.example", None).unwrap(),
            "https://shop.example"
        );
        assert_eq!(
            site_base("shop.example", Some("http://127.0.0.1:9/")).unwrap(),
            "http://127.0.0.1:9"
        );
        assert!(site_base("shop.example", Some("http://localhost:8080")).is_ok());
        assert!(site_base("shop.example", Some("http://shop.example")).is_err());
        assert!(site_base("shop.example", Some("ftp://shop.example")).is_err());
        assert!(site_base("shop.example", Some("not a url")).is_err());
    }
}
