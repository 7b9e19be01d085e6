//! Instance keys and encryption of stored secrets (shop access tokens, webhook secrets, DKIM
//! keys).
//!
//! Every key is derived from `APP_SECRET` with a distinct label, so one leaked derived key
//! (say, the one signing unsubscribe links) reveals nothing about the others. Secrets are sealed
//! with ChaCha20-Poly1305 and a random nonce, bound by associated data to the shop and field they
//! belong to: a value copied into another shop's row, or into another column, does not open.
//! Keys rotate: secrets in `APP_SECRET_PREVIOUS` still open values and verify links, and
//! start-up re-seals every value under the current key (see `services::sealed`).

pub mod key_file;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// Sealed with associated data naming the shop and field.
const SEALED_PREFIX: &str = "v2.";
/// Sealed before values were bound to their shop; only re-sealing at start-up opens these.
const LEGACY_PREFIX: &str = "v1.";

/// Failure to open a sealed value: wrong key (APP_SECRET changed), another shop's or field's
/// value, or corrupted data.
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret: it was sealed with another APP_SECRET, for another shop or field, or is corrupted")]
pub struct UnsealError;

/// Which stored secret of a shop a sealed value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedField {
    /// `shops.access_token_enc`: the platform Admin API token.
    AccessToken,
    /// `shops.webhook_secret_enc`: the secret the shop signs its webhooks with.
    WebhookSecret,
    /// `shops.consumer_key_enc`: WooCommerce REST consumer key.
    ConsumerKey,
    /// `shops.consumer_secret_enc`: WooCommerce REST consumer secret.
    ConsumerSecret,
    /// `shops.dkim_private_key_enc`: the key the shop's mail is DKIM-signed with.
    DkimKey,
    /// `shops.refresh_token_enc`: the single-use token that renews an expiring access token.
    RefreshToken,
    /// `webhook_subscriptions.secret_enc`: the key outgoing webhooks are signed with.
    WebhookSubscriptionSecret,
}

impl SealedField {
    /// The sealed columns of `shops` (re-sealed together at start-up).
    pub const ALL: [SealedField; 6] = [
        Self::AccessToken,
        Self::WebhookSecret,
        Self::ConsumerKey,
        Self::ConsumerSecret,
        Self::DkimKey,
        Self::RefreshToken,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::AccessToken => "access_token",
            Self::WebhookSecret => "webhook_secret",
            Self::ConsumerKey => "consumer_key",
            Self::ConsumerSecret => "consumer_secret",
            Self::DkimKey => "dkim_private_key",
            Self::RefreshToken => "refresh_token",
            Self::WebhookSubscriptionSecret => "webhook_subscription_secret",
        }
    }
}

impl std::fmt::Display for SealedField {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// Where a sealed value belongs: it opens only for this shop and field.
#[derive(Debug, Clone, Copy)]
pub struct SealedFor<'a> {
    pub shop_id: &'a str,
    pub field: SealedField,
}

impl<'a> SealedFor<'a> {
    pub fn new(shop_id: &'a str, field: SealedField) -> Self {
        Self { shop_id, field }
    }

    fn associated_data(&self) -> String {
        format!("boomerang/v2/{}/{}", self.field.label(), self.shop_id)
    }
}

/// The keys derived from one secret.
#[derive(Clone)]
struct KeySet {
    seal: [u8; 32],
    link: [u8; 32],
}

impl KeySet {
    fn derive(app_secret: &SecretString) -> Self {
        let secret = app_secret.expose_secret().as_bytes();
        Self {
            seal: hmac_sha256(secret, b"boomerang/v1/seal"),
            link: hmac_sha256(secret, b"boomerang/v1/link"),
        }
    }

    fn open(&self, raw: &[u8], aad: &[u8]) -> Option<SecretString> {
        if raw.len() < 12 + 16 {
            return None;
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal));
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .ok()?;
        String::from_utf8(plain).ok().map(Into::into)
    }

    fn widget_secret(&self, shop_id: &str) -> String {
        hex::encode(hmac_sha256(
            &self.link,
            format!("widget:{shop_id}").as_bytes(),
        ))
    }
}

/// Keys derived from the instance secret, and from the secrets it replaced.
#[derive(Clone)]
pub struct Keys {
    current: KeySet,
    /// From `APP_SECRET_PREVIOUS`: they open and verify, never seal or sign.
    previous: Vec<KeySet>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

/// How a sealed value opened, for re-sealing at start-up.
#[derive(Debug)]
pub enum Opened {
    /// Sealed under the current key for this shop and field: nothing to do.
    Current,
    /// Opened with a previous key, or from the unbound legacy format: seal it again.
    Stale(SecretString),
}

impl Keys {
    pub fn derive(app_secret: &SecretString) -> Self {
        Self {
            current: KeySet::derive(app_secret),
            previous: Vec::new(),
        }
    }

    /// Also accepts what `previous` secrets sealed and signed (key rotation).
    pub fn with_previous<'a>(
        mut self,
        previous: impl IntoIterator<Item = &'a SecretString>,
    ) -> Self {
        self.previous
            .extend(previous.into_iter().map(KeySet::derive));
        self
    }

    pub fn has_previous(&self) -> bool {
        !self.previous.is_empty()
    }

    fn all(&self) -> impl Iterator<Item = &KeySet> {
        std::iter::once(&self.current).chain(&self.previous)
    }

    /// Encrypts `plaintext` for storage in `to`'s shop and field.
    pub fn seal(&self, plaintext: &str, to: SealedFor<'_>) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.current.seal));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let aad = to.associated_data();
        // Encryption with a valid key and in-memory buffers cannot fail.
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value made by [`Keys::seal`] for the same shop and field, under the current
    /// or a previous key.
    pub fn unseal(&self, sealed: &str, from: SealedFor<'_>) -> Result<SecretString, UnsealError> {
        let raw = decode(sealed, SEALED_PREFIX).ok_or(UnsealError)?;
        let aad = from.associated_data();
        self.all()
            .find_map(|k| k.open(&raw, aad.as_bytes()))
            .ok_or(UnsealError)
    }

    /// Opens a stored value to learn whether it must be sealed again: under a previous key, or
    /// in the legacy format that was bound to nothing (any key, no associated data).
    pub fn open_for_reseal(
        &self,
        sealed: &str,
        from: SealedFor<'_>,
    ) -> Result<Opened, UnsealError> {
        if let Some(raw) = decode(sealed, SEALED_PREFIX) {
            let aad = from.associated_data();
            if self.current.open(&raw, aad.as_bytes()).is_some() {
                return Ok(Opened::Current);
            }
            return self
                .previous
                .iter()
                .find_map(|k| k.open(&raw, aad.as_bytes()))
                .map(Opened::Stale)
                .ok_or(UnsealError);
        }
        let raw = decode(sealed, LEGACY_PREFIX).ok_or(UnsealError)?;
        self.all()
            .find_map(|k| k.open(&raw, b""))
            .map(Opened::Stale)
            .ok_or(UnsealError)
    }

    /// Signs a short message for links (unsubscribe, referral cookies), hex.
    pub fn sign_link(&self, message: &str) -> String {
        hex::encode(hmac_sha256(&self.current.link, message.as_bytes()))
    }

    /// A shop's widget secret: other platforms' storefronts prove a customer with
    /// `digest = hex(HMAC-SHA256(customer id, widget secret))`. Derived, so nothing to store.
    pub fn widget_secret(&self, shop_id: &str) -> String {
        self.current.widget_secret(shop_id)
    }

    /// The `digest` a storefront sends to prove `customer_id` to `/widget/v1` (what a
    /// platform plugin computes server-side with the shop's widget secret).
    pub fn widget_digest(&self, shop_id: &str, customer_id: &str) -> String {
        let secret = self.widget_secret(shop_id);
        hex::encode(hmac_sha256(secret.as_bytes(), customer_id.as_bytes()))
    }

    /// Checks a customer digest against the shop's widget secret, current or from before a
    /// rotation (storefront plugins are updated after the app), in constant time.
    pub fn verify_widget_digest(&self, shop_id: &str, customer_id: &str, digest_hex: &str) -> bool {
        let Ok(digest) = hex::decode(digest_hex) else {
            return false;
        };
        self.all().any(|k| {
            verify_hmac_sha256(
                k.widget_secret(shop_id).as_bytes(),
                customer_id.as_bytes(),
                &digest,
            )
        })
    }

    /// Checks a signature made by [`Keys::sign_link`] (now or before a rotation), in constant
    /// time.
    pub fn verify_link(&self, message: &str, signature_hex: &str) -> bool {
        let Ok(sig) = hex::decode(signature_hex) else {
            return false;
        };
        self.all()
            .any(|k| verify_hmac_sha256(&k.link, message.as_bytes(), &sig))
    }
}

fn decode(sealed: &str, prefix: &str) -> Option<Vec<u8>> {
    sealed
        .strip_prefix(prefix)
        .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length")
    };
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// Compares `expected` with the HMAC of `message` in constant time.
pub fn verify_hmac_sha256(key: &[u8], message: &[u8], expected: &[u8]) -> bool {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message);
            mac.verify_slice(expected).is_ok()
        }
        Err(_) => false,
    }
}

/// SHA-256 hex digest, for storing API keys without storing them.
pub fn sha256_hex(input: &str) -> String {
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// A random URL-safe token of `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> Keys {
        Keys::derive(&SecretString::from(secret.to_owned()))
    }

    const A: &str = "0123456789abcdef0123456789abcdef";
    const B: &str = "fedcba9876543210fedcba9876543210";

    fn token_of(shop: &str) -> SealedFor<'_> {
        SealedFor::new(shop, SealedField::AccessToken)
    }

    /// What the code before associated data wrote: `v1.` + nonce + ciphertext, no AAD.
    fn legacy_seal(secret: &str, plaintext: &str) -> String {
        let key = hmac_sha256(secret.as_bytes(), b"boomerang/v1/seal");
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&key));
        let nonce = [7u8; 12];
        let mut out = nonce.to_vec();
        out.extend(
            cipher
                .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
                .unwrap(),
        );
        format!("v1.{}", URL_SAFE_NO_PAD.encode(out))
    }

    #[test]
    fn seal_round_trips_and_is_randomised() {
        let k = keys(A);
        let a = k.seal("shpat_secret", token_of("s1"));
        let b = k.seal("shpat_secret", token_of("s1"));
        assert_ne!(a, b, "nonce must differ");
        assert!(!a.contains("shpat"));
        assert_eq!(
            k.unseal(&a, token_of("s1")).unwrap().expose_secret(),
            "shpat_secret"
        );
    }

    #[test]
    fn unseal_refuses_other_keys_and_garbage() {
        let a = keys(A).seal("x", token_of("s1"));
        let other = keys(B);
        assert!(other.unseal(&a, token_of("s1")).is_err());
        assert!(other.unseal("v2.", token_of("s1")).is_err());
        assert!(other.unseal("plain", token_of("s1")).is_err());
        let mut tampered = a.clone();
        tampered.push('A');
        assert!(keys(A).unseal(&tampered, token_of("s1")).is_err());
    }

    #[test]
    fn a_sealed_token_copied_to_another_shop_or_field_does_not_open() {
        let k = keys(A);
        let sealed = k.seal("shpat_of_shop_1", token_of("s1"));
        assert!(k.unseal(&sealed, token_of("s2")).is_err(), "other shop");
        assert!(
            k.unseal(&sealed, SealedFor::new("s1", SealedField::WebhookSecret))
                .is_err(),
            "other field"
        );
    }

    #[test]
    fn a_previous_app_secret_still_opens_and_verifies_until_resealed() {
        let old = keys(A);
        let sealed = old.seal("tok", token_of("s1"));
        let link = old.sign_link("unsubscribe:m1");
        let digest = old.widget_digest("s1", "42");
        let rotated = keys(B).with_previous([&SecretString::from(A.to_owned())]);
        assert_eq!(
            rotated
                .unseal(&sealed, token_of("s1"))
                .unwrap()
                .expose_secret(),
            "tok"
        );
        assert!(rotated.verify_link("unsubscribe:m1", &link));
        assert!(rotated.verify_widget_digest("s1", "42", &digest));
        assert!(!rotated.verify_widget_digest("s2", "42", &digest));
        let Ok(Opened::Stale(plain)) = rotated.open_for_reseal(&sealed, token_of("s1")) else {
            panic!("a value under the previous key is stale");
        };
        let resealed = rotated.seal(plain.expose_secret(), token_of("s1"));
        assert!(matches!(
            rotated.open_for_reseal(&resealed, token_of("s1")),
            Ok(Opened::Current)
        ));
        assert!(keys(B).unseal(&resealed, token_of("s1")).is_ok());
        assert!(keys(A).unseal(&resealed, token_of("s1")).is_err());
        // Without the previous secret, the old value is gone.
        assert!(keys(B).unseal(&sealed, token_of("s1")).is_err());
    }

    #[test]
    fn legacy_values_open_only_for_resealing() {
        let legacy = legacy_seal(A, "shpat_old");
        let k = keys(A);
        assert!(k.unseal(&legacy, token_of("s1")).is_err());
        let Ok(Opened::Stale(plain)) = k.open_for_reseal(&legacy, token_of("s1")) else {
            panic!("a legacy value opens for resealing");
        };
        assert_eq!(plain.expose_secret(), "shpat_old");
        assert!(keys(B).open_for_reseal(&legacy, token_of("s1")).is_err());
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(verify_hmac_sha256(
            b"Jefe",
            b"what do ya want for nothing?",
            &mac
        ));
        assert!(!verify_hmac_sha256(
            b"Jefe",
            b"what do ya want for nothing!",
            &mac
        ));
    }

    #[test]
    fn link_signatures_verify() {
        let k = keys(A);
        let sig = k.sign_link("unsubscribe:m1");
        assert!(k.verify_link("unsubscribe:m1", &sig));
        assert!(!k.verify_link("unsubscribe:m2", &sig));
        assert!(!k.verify_link("unsubscribe:m1", "zz"));
    }

    #[test]
    fn the_widget_secret_is_unchanged_by_the_new_key_structure() {
        // Owners' storefront plugins hold it: it must stay what it was.
        let k = keys(A);
        assert_eq!(k.widget_secret("s1"), k.sign_link("widget:s1"));
        let digest = k.widget_digest("s1", "42");
        assert!(k.verify_widget_digest("s1", "42", &digest));
        assert!(!k.verify_widget_digest("s1", "43", &digest));
        assert!(!k.verify_widget_digest("s1", "42", "zz"));
    }
}
