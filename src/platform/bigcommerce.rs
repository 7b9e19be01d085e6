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

/// Decodes a JWT signed with the app's client secret or, during a rotation, with `previous`
/// (tried second). When both fail, the error told is the previous secret's if the current one
/// failed only on the signature (the token is the previous secret's, wrong in another way:
/// expired, another app…), else the current secret's.
pub(crate) fn decode_with_rotation<C: serde::de::DeserializeOwned>(
    token: &str,
    current: &secrecy::SecretString,
    previous: Option<&secrecy::SecretString>,
    validation: &jsonwebtoken::Validation,
) -> Result<C, jsonwebtoken::errors::Error> {
    use jsonwebtoken::errors::ErrorKind;
    use secrecy::ExposeSecret;
    let attempt = |secret: &secrecy::SecretString| {
        jsonwebtoken::decode::<C>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(secret.expose_secret().as_bytes()),
            validation,
        )
        .map(|data| data.claims)
    };
    match attempt(current) {
        Ok(claims) => Ok(claims),
        Err(first) => match previous.map(attempt) {
            Some(Ok(claims)) => Ok(claims),
            Some(Err(second)) if matches!(first.kind(), ErrorKind::InvalidSignature) => Err(second),
            _ => Err(first),
        },
    }
}

/// An order's RFC 2822 date field (`date_created`, `date_modified`), in UTC.
pub fn order_date(order: &serde_json::Value, field: &str) -> Option<chrono::NaiveDateTime> {
    let text = order.get(field)?.as_str()?.trim();
    chrono::DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|t| t.naive_utc())
}

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
