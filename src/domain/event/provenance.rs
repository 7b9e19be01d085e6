//! Where an order came from and who placed it, beyond the customer record: the facts referral
//! fraud signals compare between a friend's order and the referrer's (CONTRACT.md "Referrals").
//!
//! Why a separate, all-optional struct: none of it counts for points, so an adapter reads it
//! leniently (a value of the wrong shape is left out, never a failed order), and snapshots
//! stored before these facts existed still load (`#[serde(default)]`). Values are kept as the
//! platform wrote them, only trimmed: comparing them is `domain::referrals`' job, which
//! normalises each kind its own way.

use serde::{Deserialize, Serialize};

/// What the platform says about how and by whom an order was placed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OrderProvenance {
    /// The first page of the session that placed the order (`landing_site`), e.g. `/?ref=ABCD2345`.
    pub landing_site: Option<String>,
    /// The buyer's IP as the platform saw it (`browser_ip`, else `client_details.browser_ip`).
    pub browser_ip: Option<String>,
    /// Phones on the order: `phone`, `customer.phone`, `shipping_address.phone`,
    /// `billing_address.phone` (raw, trimmed, deduped, non-empty).
    pub phones: Vec<String>,
    /// Where the order ships to.
    pub shipping_address: Option<PostalAddress>,
    /// The address of the means of payment.
    pub billing_address: Option<PostalAddress>,
    /// The paying card's BIN when the platform says (`payment_details.credit_card_bin`); newer
    /// API versions drop it.
    pub card_bin: Option<String>,
    /// The paying card's last four digits (from the masked `payment_details.credit_card_number`,
    /// e.g. "•••• •••• •••• 4242"), when the platform says.
    pub card_last4: Option<String>,
}

/// A postal address, in the parts fraud signals compare (names and companies are left out).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PostalAddress {
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub zip: Option<String>,
    pub province_code: Option<String>,
    pub country_code: Option<String>,
}

impl PostalAddress {
    /// Whether no part is known (such an address says nothing and is not kept).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
