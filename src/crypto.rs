//! Instance keys and encryption of stored secrets (shop access tokens, webhook secrets).
//!
//! Every key is derived from `APP_SECRET` with a distinct label, so one leaked derived key
//! (say, the one signing unsubscribe links) reveals nothing about the others. Tokens are sealed
//! with ChaCha20-Poly1305 and a random nonce; the format carries a version so keys can rotate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

const SEALED_PREFIX: &str = "v1.";

/// Failure to open a sealed value: wrong key (APP_SECRET changed) or corrupted data.
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret: it was sealed with another APP_SECRET or is corrupted")]
pub struct UnsealError;

/// Keys derived from the instance secret.
#[derive(Clone)]
pub struct Keys {
    seal: [u8; 32],
    link: [u8; 32],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl Keys {
    pub fn derive(app_secret: &SecretString) -> Self {
        let secret = app_secret.expose_secret().as_bytes();
        Self {
            seal: hmac_sha256(secret, b"boomerang/v1/seal"),
            link: hmac_sha256(secret, b"boomerang/v1/link"),
        }
    }

    /// Encrypts `plaintext` for storage.
    pub fn seal(&self, plaintext: &str) -> String {
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal));
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and in-memory buffers cannot fail.
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Decrypts a value made by [`Keys::seal`].
    pub fn unseal(&self, sealed: &str) -> Result<SecretString, UnsealError> {
        let raw = sealed
            .strip_prefix(SEALED_PREFIX)
            .and_then(|b64| URL_SAFE_NO_PAD.decode(b64).ok())
            .ok_or(UnsealError)?;
        if raw.len() < 12 + 16 {
            return Err(UnsealError);
        }
        let (nonce, ciphertext) = raw.split_at(12);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.seal));
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| UnsealError)?;
        String::from_utf8(plain)
            .map(Into::into)
            .map_err(|_| UnsealError)
    }

    /// Signs a short message for links (unsubscribe, referral cookies), hex.
    pub fn sign_link(&self, message: &str) -> String {
        hex::encode(hmac_sha256(&self.link, message.as_bytes()))
    }

    /// A shop's widget secret: other platforms' storefronts prove a customer with
    /// `digest = hex(HMAC-SHA256(customer id, widget secret))`. Derived, so nothing to store.
    pub fn widget_secret(&self, shop_id: &str) -> String {
        self.sign_link(&format!("widget:{shop_id}"))
    }

    /// The `digest` a storefront sends to prove `customer_id` to `/widget/v1` (what a
    /// platform plugin computes server-side with the shop's widget secret).
    pub fn widget_digest(&self, shop_id: &str, customer_id: &str) -> String {
        let secret = self.widget_secret(shop_id);
        hex::encode(hmac_sha256(secret.as_bytes(), customer_id.as_bytes()))
    }

    /// Checks a signature made by [`Keys::sign_link`], in constant time.
    pub fn verify_link(&self, message: &str, signature_hex: &str) -> bool {
        let Ok(sig) = hex::decode(signature_hex) else {
            return false;
        };
        verify_hmac_sha256(&self.link, message.as_bytes(), &sig)
    }
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

    #[test]
    fn seal_round_trips_and_is_randomised() {
        let k = keys("0123456789abcdef0123456789abcdef");
        let a = k.seal("shpat_secret");
        let b = k.seal("shpat_secret");
        assert_ne!(a, b, "nonce must differ");
        assert!(!a.contains("shpat"));
        assert_eq!(k.unseal(&a).unwrap().expose_secret(), "shpat_secret");
    }

    #[test]
    fn unseal_refuses_other_keys_and_garbage() {
        let a = keys("0123456789abcdef0123456789abcdef").seal("x");
        let other = keys("fedcba9876543210fedcba9876543210");
        assert!(other.unseal(&a).is_err());
        assert!(other.unseal("v1.").is_err());
        assert!(other.unseal("plain").is_err());
        let mut tampered = a.clone();
        tampered.push('A');
        assert!(keys("0123456789abcdef0123456789abcdef")
            .unseal(&tampered)
            .is_err());
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
        let k = keys("0123456789abcdef0123456789abcdef");
        let sig = k.sign_link("unsubscribe:m1");
        assert!(k.verify_link("unsubscribe:m1", &sig));
        assert!(!k.verify_link("unsubscribe:m2", &sig));
        assert!(!k.verify_link("unsubscribe:m1", "zz"));
    }
}
