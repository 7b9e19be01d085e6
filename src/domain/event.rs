//! The one internal event type every platform adapter maps its webhooks into.
//!
//! Why one type: earning, reversal and privacy handling are written once, against these facts,
//! and nothing platform-specific leaks past the adapters. The facts keep what the domain needs
//! (amounts in the shop's currency, ids, statuses, times) and nothing about how a platform spells
//! them.
//!
//! Why ids are strings of digits: Shopify ids are unsigned 64-bit integers, larger than a float
//! can hold exactly (JavaScript tools round `820982911946154508` to `…500`). `PlatformId` is
//! therefore built from the integer or string form without ever passing through `f64`.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::money::Money;

mod provenance;
pub use provenance::{OrderProvenance, PostalAddress};

/// A platform's id for an order, line, refund, customer, product or collection: the canonical
/// decimal digits of an unsigned 64-bit integer (no sign, no leading zeros).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlatformId(String);

/// Why a value is not a platform id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a 64-bit unsigned id")]
pub struct InvalidId(pub String);

impl PlatformId {
    /// The id of an integer.
    pub fn from_u64(id: u64) -> Self {
        Self(id.to_string())
    }

    /// Reads decimal digits (`"007"` becomes `"7"`) or a GraphQL global id such as
    /// `gid://shopify/Order/820982911946154508`.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        let digits = match s.strip_prefix("gid://") {
            Some(rest) => rest.rsplit('/').next().unwrap_or(rest),
            None => s,
        };
        let digits = digits.split('?').next().unwrap_or(digits);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidId(s.to_owned()));
        }
        digits
            .parse::<u64>()
            .map(Self::from_u64)
            .map_err(|_| InvalidId(s.to_owned()))
    }

    /// The decimal digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as an integer (always fits: construction checked it).
    pub fn as_u64(&self) -> u64 {
        self.0.parse().unwrap_or(0)
    }
}

impl fmt::Display for PlatformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for PlatformId {
    type Err = InvalidId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

// Numeric order, so sorted ids read naturally: canonical digits compare by length first.
impl Ord for PlatformId {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.cmp(&other.0))
    }
}

impl PartialOrd for PlatformId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for PlatformId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Accepts a JSON integer or string; a float is refused because it may already have lost digits.
impl<'de> Deserialize<'de> for PlatformId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl de::Visitor<'_> for IdVisitor {
            type Value = PlatformId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an unsigned 64-bit id as an integer or a string of digits")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PlatformId, E> {
                Ok(PlatformId::from_u64(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PlatformId, E> {
                u64::try_from(v)
                    .map(PlatformId::from_u64)
                    .map_err(|_| E::custom(InvalidId(v.to_string())))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PlatformId, E> {
                PlatformId::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// Trims and lower-cases an email address; blank becomes `None`. Used for every email we keep,
/// so a guest's `Jo@Example.com ` and an account's `jo@example.com` are one person.
pub fn normalise_email(raw: &str) -> Option<String> {
    let email = raw.trim();
    (!email.is_empty()).then(|| email.to_lowercase())
}

/// Who a fact is about: the platform's customer id when there is an account, and the email
/// (normalised) so guests can earn and claim later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRef {
    /// Platform customer id; `None` for a guest.
    pub id: Option<PlatformId>,
    /// Normalised email, if known and shared with the app.
    pub email: Option<String>,
}

/// The payment state of an order as the platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum FinancialStatus {
    /// Awaiting payment.
    Pending,
    /// Payment authorised, not yet captured.
    Authorized,
    /// Part of the total paid.
    PartiallyPaid,
    /// Fully paid.
    Paid,
    /// Paid, then partly refunded.
    PartiallyRefunded,
    /// Paid, then fully refunded.
    Refunded,
    /// Authorisation voided: never paid.
    Voided,
    /// A status this code does not know (kept verbatim; empty when the platform sent none).
    Unknown(String),
}

impl FinancialStatus {
    /// The platform's snake_case name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "pending",
            Self::Authorized => "authorized",
            Self::PartiallyPaid => "partially_paid",
            Self::Paid => "paid",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
            Self::Unknown(s) => s,
        }
    }

    /// Whether the order has been fully paid at some point (refunds come after payment).
    pub fn has_been_paid(&self) -> bool {
        matches!(self, Self::Paid | Self::PartiallyRefunded | Self::Refunded)
    }
}

impl From<&str> for FinancialStatus {
    fn from(s: &str) -> Self {
        match s {
            "pending" => Self::Pending,
            "authorized" => Self::Authorized,
            "partially_paid" => Self::PartiallyPaid,
            "paid" => Self::Paid,
            "partially_refunded" => Self::PartiallyRefunded,
            "refunded" => Self::Refunded,
            "voided" => Self::Voided,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

impl From<String> for FinancialStatus {
    fn from(s: String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<FinancialStatus> for String {
    fn from(s: FinancialStatus) -> String {
        s.as_str().to_owned()
    }
}

/// One line of an order. Amounts are in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The line's id (refunds point at it).
    pub line_id: PlatformId,
    /// `None` for custom items and deleted products.
    pub product_id: Option<PlatformId>,
    /// `None` for custom items.
    pub variant_id: Option<PlatformId>,
    /// Units ordered (as originally ordered; refunds are separate events).
    pub quantity: i64,
    /// Price of one unit before discounts.
    pub unit_price: Money,
    /// Discounts allocated to this line (whole line, not per unit).
    pub total_discount: Money,
    /// Buying a gift card is not spending: such lines never earn.
    pub gift_card: bool,
    /// The product's title as the shop names it (for a replenishment reminder); one line,
    /// at most [`MAX_LINE_TITLE_CHARS`] characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

/// The longest product title kept from an order line.
pub const MAX_LINE_TITLE_CHARS: usize = 255;

/// What we know about an order. Amounts are in the shop's currency (`currency`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFacts {
    /// The platform's order id.
    pub order_id: PlatformId,
    /// The name shoppers see, e.g. `#1001`.
    pub name: String,
    /// The account that placed it; `None` for a guest without a customer record.
    pub customer: Option<CustomerRef>,
    /// The order's contact email, normalised (guests earn on it).
    pub email: Option<String>,
    /// Payment state.
    pub financial_status: FinancialStatus,
    /// When it was cancelled, if it was.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// A test order (bogus gateway, test mode).
    pub test: bool,
    /// Upper-case ISO code of the shop currency all amounts are in.
    pub currency: String,
    /// Line items after all discounts, before shipping and tax.
    pub subtotal: Money,
    /// All discounts (line-level and order-level; may include shipping discounts).
    pub total_discounts: Money,
    /// Tax charged.
    pub total_tax: Money,
    /// Shipping the buyer paid, after shipping discounts.
    pub shipping: Money,
    /// What the buyer was charged in total.
    pub total: Money,
    /// The order's lines.
    pub lines: Vec<OrderLine>,
    /// When the order was placed (campaigns are matched on this).
    pub created_at: DateTime<Utc>,
    /// When the platform processed it (imported and draft orders carry their real date here);
    /// see [`OrderFacts::date`].
    #[serde(default)]
    pub processed_at: Option<DateTime<Utc>>,
    /// Last change; the newest wins when deliveries arrive out of order.
    pub updated_at: DateTime<Utc>,
    /// Cart attributes `(name, value)`, e.g. a referral code.
    pub note_attributes: Vec<(String, String)>,
    /// Discount codes used.
    pub discount_codes: Vec<String>,
    /// Where the order came from (`web`, `pos`, `shopify_draft_order`, …), if said.
    pub source_name: Option<String>,
    /// The language the customer shopped in (`en-GB`, `ar`), if said: their mail's language.
    #[serde(default)]
    pub customer_locale: Option<String>,
    /// Refunds the order payload already carries: a refund made before the order reached us
    /// may never be announced by a refund webhook of its own.
    #[serde(default)]
    pub refunds: Vec<RefundFacts>,
    /// Landing page, IP, phones, addresses and card: what referral fraud signals compare.
    /// Cosmetic for the ledger; empty in snapshots stored before it existed.
    #[serde(default)]
    pub provenance: OrderProvenance,
}

impl OrderFacts {
    /// The order's date: `processed_at` when the platform gives it, else `created_at`, never
    /// when a webhook arrived. History sent late, replayed or imported counts on the day it
    /// happened (CONTRACT.md).
    pub fn date(&self) -> DateTime<Utc> {
        self.processed_at.unwrap_or(self.created_at)
    }
}

/// One refunded line. Amounts are in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    /// The order line refunded.
    pub line_item_id: PlatformId,
    /// Units refunded by this refund.
    pub quantity: i64,
    /// Money refunded for those units, before tax.
    pub subtotal: Money,
}

/// A refund of (part of) an order. Amounts are in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundFacts {
    /// The platform's refund id (the idempotency key of its reversal).
    pub refund_id: PlatformId,
    /// The order refunded.
    pub order_id: PlatformId,
    /// Lines refunded, if any (an amount-only refund has none).
    pub lines: Vec<RefundLine>,
    /// Money returned: the sum of successful refund transactions. (When a transaction is only
    /// in the buyer's currency, the adapter uses the refund's own shop-money total instead.)
    pub amount: Money,
    /// The part of `amount` returned for shipping (before its tax). Shipping earns nothing by
    /// default, so a shipping-only refund must not take points back as if goods were refunded.
    #[serde(default)]
    pub shipping: Money,
    /// The part of `amount` that is tax returned outside the refunded lines (e.g. the tax on
    /// refunded shipping); tax earns nothing by default either.
    #[serde(default)]
    pub tax: Money,
    /// When the refund was made, when the platform says.
    pub created_at: Option<DateTime<Utc>>,
}

/// A customer account as created or updated on the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerFacts {
    /// Id and normalised email.
    pub customer: CustomerRef,
    /// Given name, when shared.
    pub first_name: Option<String>,
    /// Family name, when shared.
    pub last_name: Option<String>,
    /// Consent to marketing email.
    pub accepts_marketing: bool,
    /// The customer withdrew that consent (not merely never gave it): their address goes on the
    /// shop's suppression list.
    #[serde(default)]
    pub marketing_withdrawn: bool,
    /// Whether the platform has verified that the account holder owns `customer.email`. Only a
    /// verified account may claim a guest's points on its e-mail (see `services::members`).
    #[serde(default)]
    pub email_verified: bool,
    /// Date of birth, when the platform (or a form) provides one.
    pub birthday: Option<NaiveDate>,
    /// When the account was created, when said.
    pub created_at: Option<DateTime<Utc>>,
    /// Last change, when said; the newest wins when deliveries arrive out of order.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Everything a platform can tell us that the app acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Event {
    /// An order was created, paid or updated (one event: awards are idempotent per order).
    Order(OrderFacts),
    /// An order was cancelled: its award is taken back.
    OrderCancelled(OrderFacts),
    /// A refund: the refunded share of the award is taken back.
    Refund(RefundFacts),
    /// A customer account was created or changed.
    Customer(CustomerFacts),
    /// The shop removed the app.
    AppUninstalled,
    /// A customer asked for their data (privacy law).
    CustomerDataRequest {
        /// Who asked.
        customer: CustomerRef,
        /// Their orders the request covers.
        orders: Vec<PlatformId>,
    },
    /// A customer's data must be erased (privacy law).
    CustomerRedact {
        /// Whose data.
        customer: CustomerRef,
        /// Orders to erase.
        orders: Vec<PlatformId>,
    },
    /// All of the shop's data must be erased (sent some time after uninstall).
    ShopRedact,
    /// The shop changed its settings; `None` fields are absent or not valid (kept as they are).
    ShopUpdated {
        /// ISO 4217 code.
        currency: Option<String>,
        /// IANA time zone.
        timezone: Option<String>,
        locale: Option<String>,
    },
}

/// What is wrong with a field of a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Absent or null where a value is required.
    Missing,
    /// Present with the wrong JSON type.
    WrongType {
        /// What we expected, e.g. "a decimal string".
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// Right type, unusable value.
    Invalid(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("is missing"),
            Self::WrongType { expected, found } => write!(f, "should be {expected}, not {found}"),
            Self::Invalid(why) => write!(f, "is invalid: {why}"),
        }
    }
}

/// A signed payload that is JSON but not the shape we expect. The caller stores the event as
/// failed (visible to the shop owner, replayable after a fix) rather than losing it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{topic}: `{field}` {problem}")]
pub struct MappingError {
    /// The webhook topic being mapped.
    pub topic: String,
    /// Path of the offending field, e.g. `line_items[1].price_set.shop_money.amount`.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

#[cfg(test)]
mod tests;
