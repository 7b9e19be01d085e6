//! DKIM signing of a shop's mail (RFC 6376), with the key the owner brought or the app made.
//!
//! Pure: no database, no sealing. `services::mail::dkim` stores the key sealed and builds one
//! [`Signer`] per deliver run.
//!
//! - Keys are RSA (`rsa-sha256`), 1024 to 4096 bits: RFC 8301 makes verifiers accept that
//!   range and refuse smaller keys, and longer ones no longer fit a TXT record most DNS hosting
//!   panels accept. Owners bring PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE
//!   KEY`, what `openssl genpkey` prints); lettre reads PKCS#1 only, so keys are converted.
//!   Ed25519 (RFC 8463) is refused for now: receivers that do not know it treat the mail as
//!   unsigned, so it only helps beside an RSA signature, which one key per shop cannot give.
//! - Canonicalization is relaxed/relaxed: relays that re-fold headers or re-wrap trailing
//!   whitespace do not break the signature.
//! - Signed headers are the ones that make the message what it is (sender, recipient, subject,
//!   date, id, MIME structure) plus, when present, `Reply-To` and the RFC 8058 pair
//!   `List-Unsubscribe`/`List-Unsubscribe-Post` (RFC 8058 §4 requires them signed). lettre lists
//!   every configured name in `h=` even when the message lacks it, so the signer keeps one
//!   configuration per combination of optional headers and picks the one the message matches.

use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;
use lettre::Message;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;
use secrecy::SecretString;

/// The smallest RSA key accepted (RFC 8301 §3.2: verifiers must refuse smaller ones).
pub const MIN_RSA_BITS: usize = 1024;
/// The largest RSA key accepted (RFC 8301 §3.2: verifiers must accept up to this).
pub const MAX_RSA_BITS: usize = 4096;
/// What the app generates when the owner brings no key.
pub const GENERATED_RSA_BITS: usize = 2048;
/// The `a=` of every signature made here.
pub const ALGORITHM: &str = "rsa-sha256";

/// Signed whenever the message has them (every message the app builds has all of them).
const ALWAYS_SIGNED: [&str; 7] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
];
const REPLY_TO: [&str; 1] = ["Reply-To"];
/// RFC 8058 one-click unsubscribe: marketing mail only.
const ONE_CLICK: [&str; 2] = ["List-Unsubscribe", "List-Unsubscribe-Post"];

/// Why a private key, domain or selector is refused. Messages name the API field and never
/// repeat key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DkimInputError {
    #[error("private_key must be a PEM RSA private key (-----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----)")]
    NotPem,
    #[error("private_key could not be read as an RSA private key ({0})")]
    Unreadable(String),
    #[error("private_key is an encrypted key; remove its passphrase first (openssl pkey -in key.pem -out plain.pem)")]
    Encrypted,
    #[error("private_key is an {0} key; only RSA keys are supported (2048 bits recommended)")]
    Unsupported(&'static str),
    #[error("private_key is an RSA key of {0} bits; at least 1024 are needed (2048 recommended)")]
    TooSmall(usize),
    #[error("private_key is an RSA key of {0} bits; at most 4096 are accepted (2048 recommended)")]
    TooLarge(usize),
    #[error("domain must be a DNS name like \"shop.example\"")]
    Domain,
    #[error("selector must be one DNS label: letters, digits and hyphens, at most 63")]
    Selector,
    #[error("the DNS name {0:?} is longer than DNS allows (253 characters)")]
    NameTooLong(String),
}

impl DkimInputError {
    /// The API field the problem is in.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Domain | Self::NameTooLong(_) => "domain",
            Self::Selector => "selector",
            _ => "private_key",
        }
    }
}

/// An RSA private key fit for DKIM.
pub struct DkimKey(RsaPrivateKey);

impl std::fmt::Debug for DkimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DkimKey(rsa, {} bits)", self.bits())
    }
}

impl DkimKey {
    /// Reads a PEM private key: PKCS#1 or PKCS#8 RSA, 1024 to 4096 bits.
    pub fn from_pem(pem: &str) -> Result<Self, DkimInputError> {
        let pem = pem.trim();
        if pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || pem.contains("Proc-Type: 4,ENCRYPTED")
        {
            return Err(DkimInputError::Encrypted);
        }
        let key = if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(pem)
                .map_err(|e| DkimInputError::Unreadable(e.to_string()))?
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(|e| match pkcs8_algorithm(pem) {
                Some(other) => DkimInputError::Unsupported(other),
                None => DkimInputError::Unreadable(e.to_string()),
            })?
        } else if pem.starts_with("-----BEGIN EC PRIVATE KEY-----") {
            return Err(DkimInputError::Unsupported("EC"));
        } else {
            return Err(DkimInputError::NotPem);
        };
        let key = Self(key);
        match key.bits() {
            bits if bits < MIN_RSA_BITS => Err(DkimInputError::TooSmall(bits)),
            bits if bits > MAX_RSA_BITS => Err(DkimInputError::TooLarge(bits)),
            _ => Ok(key),
        }
    }

    /// A new RSA-2048 key. Slow (tenths of a second; seconds in a debug build): run it off the
    /// async threads.
    pub fn generate() -> Result<Self, rsa::Error> {
        RsaPrivateKey::new(&mut rand::thread_rng(), GENERATED_RSA_BITS).map(Self)
    }

    /// The modulus length in bits.
    pub fn bits(&self) -> usize {
        self.0.n().bits()
    }

    /// PKCS#8 PEM, the form stored (sealed).
    pub fn to_pem(&self) -> Result<SecretString, rsa::pkcs8::Error> {
        let pem = self.0.to_pkcs8_pem(LineEnding::LF)?;
        Ok(SecretString::from(pem.as_str().to_owned()))
    }

    /// The TXT record to publish at [`dns_name`]: `v=DKIM1; k=rsa; p=<base64 SubjectPublicKeyInfo>`.
    pub fn dns_txt(&self) -> Result<String, rsa::pkcs8::spki::Error> {
        use base64::Engine as _;
        let spki = self.0.to_public_key().to_public_key_der()?;
        let p = base64::engine::general_purpose::STANDARD.encode(spki.as_bytes());
        Ok(format!("v=DKIM1; k=rsa; p={p}"))
    }
}

/// The algorithm a PKCS#8 key that is not RSA holds, for a helpful refusal.
fn pkcs8_algorithm(pem: &str) -> Option<&'static str> {
    use rsa::pkcs8::{der::Decode as _, PrivateKeyInfo, SecretDocument};
    let (_, doc) = SecretDocument::from_pem(pem).ok()?;
    let info = PrivateKeyInfo::from_der(doc.as_bytes()).ok()?;
    match info.algorithm.oid.to_string().as_str() {
        "1.3.101.112" => Some("Ed25519"),
        "1.3.101.113" => Some("Ed448"),
        "1.2.840.10045.2.1" => Some("EC"),
        "1.2.840.10040.4.1" => Some("DSA"),
        _ => None,
    }
}

/// A DKIM domain (`d=`): a DNS name of at least two labels, lower-cased, no trailing dot.
pub fn parse_domain(input: &str) -> Result<String, DkimInputError> {
    let name = input.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 || name.len() > 253 || !labels.iter().all(|l| is_label(l)) {
        return Err(DkimInputError::Domain);
    }
    // A top-level label is never all digits: this refuses IP addresses.
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(DkimInputError::Domain);
    }
    Ok(name)
}

/// A selector (`s=`): one DNS label, lower-cased.
pub fn parse_selector(input: &str) -> Result<String, DkimInputError> {
    let label = input.trim().to_ascii_lowercase();
    if is_label(&label) {
        Ok(label)
    } else {
        Err(DkimInputError::Selector)
    }
}

fn is_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= 63
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Where the public key is published: `{selector}._domainkey.{domain}`.
pub fn dns_name(domain: &str, selector: &str) -> String {
    format!("{selector}._domainkey.{domain}")
}

/// Whether mail from `from_domain` signed for `dkim_domain` passes DMARC's DKIM alignment:
/// the same domain or a subdomain of it (relaxed alignment, checked without the public suffix
/// list, so `shop.example` covers `mail.shop.example` and not the other way round).
pub fn aligned(from_domain: &str, dkim_domain: &str) -> bool {
    let from = from_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let dkim = dkim_domain
        .trim()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    from == dkim || from.ends_with(&format!(".{dkim}"))
}

/// Signs messages for one shop's domain and selector.
pub struct Signer {
    /// One configuration per combination of optional headers, indexed by [`variant`].
    configs: Vec<DkimConfig>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer(..)")
    }
}

/// The configuration index for a message: bit 0 `Reply-To`, bit 1 the one-click pair.
fn variant(reply_to: bool, one_click: bool) -> usize {
    usize::from(reply_to) | (usize::from(one_click) << 1)
}

impl Signer {
    /// A signer for `domain` and `selector` (checked as the API checks them) with `key`.
    pub fn new(domain: &str, selector: &str, key: &DkimKey) -> Result<Self, DkimInputError> {
        let domain = parse_domain(domain)?;
        let selector = parse_selector(selector)?;
        let pkcs1 = key
            .0
            .to_pkcs1_pem(LineEnding::LF)
            .map_err(|e| DkimInputError::Unreadable(e.to_string()))?;
        let mut configs = Vec::with_capacity(4);
        for (reply_to, one_click) in [(false, false), (true, false), (false, true), (true, true)] {
            let mut names: Vec<&'static str> = ALWAYS_SIGNED.to_vec();
            if reply_to {
                names.extend(REPLY_TO);
            }
            if one_click {
                names.extend(ONE_CLICK);
            }
            // lettre's key is not `Clone`: each configuration reads its own copy.
            let signing_key = DkimSigningKey::new(&pkcs1, DkimSigningAlgorithm::Rsa)
                .map_err(|e| DkimInputError::Unreadable(e.to_string()))?;
            configs.push(DkimConfig::new(
                selector.clone(),
                domain.clone(),
                signing_key,
                names
                    .into_iter()
                    .map(HeaderName::new_from_ascii_str)
                    .collect(),
                DkimCanonicalization {
                    header: DkimCanonicalizationType::Relaxed,
                    body: DkimCanonicalizationType::Relaxed,
                },
            ));
        }
        Ok(Self { configs })
    }

    /// Adds a `DKIM-Signature` header covering the message's body and the headers it has of
    /// those listed above. A message without one of the always-signed headers (the app builds
    /// none) is still signed correctly: a listed header that is absent counts as empty.
    pub fn sign(&self, message: &mut Message) {
        let has = |name: &str| message.headers().get_raw(name).is_some();
        let reply_to = REPLY_TO.iter().all(|h| has(h));
        let one_click = ONE_CLICK.iter().all(|h| has(h));
        if let Some(config) = self.configs.get(variant(reply_to, one_click)) {
            message.sign(config);
        }
    }
}

#[cfg(test)]
mod tests;
