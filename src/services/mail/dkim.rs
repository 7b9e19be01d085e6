//! A shop's DKIM key: checked and stored sealed (`PUT /api/admin/v1/emails/dkim`), shown
//! without the private key, removed, and opened into a [`Signer`] once per deliver run.
//!
//! The private key is sealed with the instance key, bound to the shop and field, so it rides
//! the start-up re-sealing when `APP_SECRET` rotates. A key that no longer opens is never
//! skipped silently: the shop asked for signed mail, so the deliver job holds its mail back
//! (a transient failure, retried) until the operator restores the secret or the owner puts a
//! new key.

use diesel::prelude::*;
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::{now, DbConnection};
use crate::mail::dkim::{
    aligned, dns_name, parse_domain, parse_selector, DkimInputError, DkimKey, Signer, ALGORITHM,
};

/// The body of the `PUT`: no `private_key` asks the app to generate one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimRequest {
    pub domain: String,
    pub selector: String,
    pub private_key: Option<String>,
}

/// A request whose names are checked and whose key (when given) is read.
#[derive(Debug)]
pub struct CheckedRequest {
    pub domain: String,
    pub selector: String,
    /// `None`: generate one.
    pub key: Option<DkimKey>,
}

impl DkimRequest {
    /// Checks the names, then reads the key: each problem names its field.
    pub fn check(&self) -> Result<CheckedRequest, DkimInputError> {
        let domain = parse_domain(&self.domain)?;
        let selector = parse_selector(&self.selector)?;
        let name = dns_name(&domain, &selector);
        if name.len() > 253 {
            return Err(DkimInputError::NameTooLong(name));
        }
        let key = self
            .private_key
            .as_deref()
            .map(DkimKey::from_pem)
            .transpose()?;
        Ok(CheckedRequest {
            domain,
            selector,
            key,
        })
    }
}

/// What the owner sees: the DNS record to publish, never the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DkimView {
    pub domain: String,
    pub selector: String,
    pub algorithm: &'static str,
    pub key_bits: usize,
    /// Where to publish the TXT record.
    pub dns_name: String,
    /// The TXT record's value.
    pub dns_txt: String,
    /// Whether the shop's sender address is in the DKIM domain (DMARC alignment).
    pub aligned: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error(transparent)]
    Invalid(#[from] DkimInputError),
    #[error("no DKIM key is configured for this shop")]
    NotConfigured,
    /// The stored key does not open with any known `APP_SECRET`.
    #[error("the shop's DKIM key cannot be opened: it was sealed with another APP_SECRET (restore it, or put the key again)")]
    Unreadable,
    #[error("the shop's DKIM key could not be encoded: {0}")]
    Encoding(String),
    #[error(transparent)]
    Db(#[from] diesel::result::Error),
}

/// A shop's DKIM settings with the key opened.
#[derive(Debug)]
pub struct DkimSetting {
    pub domain: String,
    pub selector: String,
    pub key: DkimKey,
}

fn sealed_for(shop_id: &str) -> SealedFor<'_> {
    SealedFor::new(shop_id, SealedField::DkimKey)
}

/// Stores the settings, replacing any before (the key sealed to the shop).
pub fn store(
    conn: &mut DbConnection,
    keys: &Keys,
    shop_id: &str,
    setting: &DkimSetting,
) -> Result<(), DkimError> {
    let pem = setting
        .key
        .to_pem()
        .map_err(|e| DkimError::Encoding(e.to_string()))?;
    let sealed = keys.seal(pem.expose_secret(), sealed_for(shop_id));
    diesel::update(shops::table.find(shop_id))
        .set((
            shops::dkim_domain.eq(Some(&setting.domain)),
            shops::dkim_selector.eq(Some(&setting.selector)),
            shops::dkim_private_key_enc.eq(Some(sealed)),
            shops::updated_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The shop's settings with the key opened; `None` when it has none.
pub fn load(keys: &Keys, shop: &Shop) -> Result<Option<DkimSetting>, DkimError> {
    let (Some(domain), Some(selector), Some(sealed)) = (
        &shop.dkim_domain,
        &shop.dkim_selector,
        &shop.dkim_private_key_enc,
    ) else {
        return Ok(None);
    };
    let pem = keys
        .unseal(sealed, sealed_for(&shop.id))
        .map_err(|_| DkimError::Unreadable)?;
    // Stored keys were checked when put; one that no longer reads is as good as unopenable.
    let key = DkimKey::from_pem(pem.expose_secret()).map_err(|_| DkimError::Unreadable)?;
    Ok(Some(DkimSetting {
        domain: domain.clone(),
        selector: selector.clone(),
        key,
    }))
}

/// The owner's view of `setting`, for mail sent from an address at `from_domain`.
pub fn view(setting: &DkimSetting, from_domain: &str) -> Result<DkimView, DkimError> {
    Ok(DkimView {
        dns_name: dns_name(&setting.domain, &setting.selector),
        dns_txt: setting
            .key
            .dns_txt()
            .map_err(|e| DkimError::Encoding(e.to_string()))?,
        key_bits: setting.key.bits(),
        algorithm: ALGORITHM,
        aligned: aligned(from_domain, &setting.domain),
        domain: setting.domain.clone(),
        selector: setting.selector.clone(),
    })
}

/// Removes the shop's settings; false when there were none.
pub fn remove(conn: &mut DbConnection, shop_id: &str) -> QueryResult<bool> {
    let changed = diesel::update(
        shops::table
            .find(shop_id)
            .filter(shops::dkim_private_key_enc.is_not_null()),
    )
    .set((
        shops::dkim_domain.eq(None::<String>),
        shops::dkim_selector.eq(None::<String>),
        shops::dkim_private_key_enc.eq(None::<String>),
        shops::updated_at.eq(now()),
    ))
    .execute(conn)?;
    Ok(changed > 0)
}

/// The signer for the shop's mail: `None` when it signs nothing, an error when it asked for
/// signing and the key does not open (its mail must then wait, not go unsigned). Reads only
/// the shop row the caller loaded.
pub fn signer_for(keys: &Keys, shop: &Shop) -> Result<Option<Signer>, DkimError> {
    let Some(setting) = load(keys, shop)? else {
        return Ok(None);
    };
    Ok(Some(Signer::new(
        &setting.domain,
        &setting.selector,
        &setting.key,
    )?))
}
