//! Maps what BigCommerce tells the app into the same internal events as Shopify's and
//! WooCommerce's.
//!
//! BigCommerce's webhooks are thin (`{scope, data{type,id}, hash, producer, …}`): an order
//! webhook only says *which* order changed. Mapping one gives [`Mapped::FetchOrder`]; a job then
//! reads the order over the REST API (never inside the transaction that stored the webhook) and
//! submits the whole state as one document under [`ORDER_DOCUMENT_TOPIC`]:
//! `{"order": GET v2/orders/{id}, "products": […], "coupons": […], "refunds": […]}` (the refunds
//! from `GET v3/orders/{id}/payment_actions/refunds`). That document maps to an order event.
//!
//! - `status_id` (PLATFORMS.md §7): 2, 3, 8, 9, 10, 11 (shipped, awaiting shipment…) are paid;
//!   4 refunded and 14 partially refunded follow payment, with their amounts from the refunds
//!   list; 5 is a cancellation; 1, 7, 12, 13 are not paid yet (nothing earned), and 0
//!   (incomplete: the checkout was never finished) and 6 (declined) never will be (voided: they
//!   earn nothing even in a program that awards orders on creation).
//! - Refunds are a set, as WooCommerce's: each keyed by its BigCommerce id, stored once, and the
//!   reversal is computed from the stored set, so reading the same order twice takes back
//!   nothing more and an older document after a newer one never undoes a reversal. A refund
//!   whose every payment was declined returned no money and is left out. Status 4 with refunds
//!   adding up to less than the total (set by hand) reads as one more refund of the rest, keyed
//!   by [`rest_refund_id`].
//! - The subtotal that earns is each product line's `total_ex_tax` less the discounts applied to
//!   it (`applied_discounts[].amount`: coupons, promotions, manual discounts): what the buyer
//!   paid for the goods before tax and shipping, as `subtotal_price` is for Shopify. BigCommerce
//!   gives no per-line total after discounts ex tax, and a discount is one amount whatever the
//!   tax display, so with tax-inclusive prices the discount's tax share is taken off too: the
//!   line earns a little less, never more, than its goods' net price.
//! - Amounts are decimal strings with four places (`"336.3200"`, ex-tax prices of tax-inclusive
//!   shops may use all four) or, in v3 refunds, numbers; they are rounded half away from zero to
//!   the currency's minor unit. They are in the order's transactional currency
//!   (`default_currency_code`, else `currency_code`), which must be the shop's.
//! - Dates are RFC 2822 (`"Tue, 20 Nov 2012 00:00:00 +0000"`): the order's date is
//!   `date_created`, which snapshot is newer is `date_modified`.
//! - Guests (`customer_id` 0) earn by `billing_address.email`. Coupon codes used
//!   (`coupons[].code`) are the order's discount codes: referral attribution by code.

mod fields;
mod refunds;
#[cfg(test)]
mod tests;

use serde_json::Value;

use crate::domain::event::{
    normalise_email, CustomerRef, Event, FinancialStatus, MappingError, OrderFacts, OrderLine,
    PlatformId, RefundFacts, MAX_LINE_TITLE_CHARS,
};
use crate::domain::money::{Currency, Money};
use crate::platform::shopify::payload::json::{self, Obj, Result};
use fields::{add, amount, opt_amount, opt_date, opt_nonzero_id, text};
use refunds::{provenance, refund};

/// The internal topic of an order's whole state as read over the API (never a webhook's).
pub const ORDER_DOCUMENT_TOPIC: &str = "bigcommerce/order.document";

/// Thin order webhooks: each means "read order `data.id` again".
pub const ORDER_TOPICS: &[&str] = &[
    "store/order/created",
    "store/order/updated",
    "store/order/statusUpdated",
    "store/order/refund/created",
];

/// The shop removed the app.
pub const UNINSTALLED_TOPIC: &str = "store/app/uninstalled";

/// The topic a signed delivery is stored under when its `scope` cannot be read: stored (as
/// failed, replayable) rather than lost.
pub const UNREADABLE_TOPIC: &str = "bigcommerce/unreadable";

/// Whether a BigCommerce event of `topic` is stored (the webhooks the app acts on, and the
/// documents and unreadable deliveries it files itself).
pub fn is_stored_topic(topic: &str) -> bool {
    ORDER_TOPICS.contains(&topic)
        || [UNINSTALLED_TOPIC, ORDER_DOCUMENT_TOPIC, UNREADABLE_TOPIC].contains(&topic)
}

/// What a stored BigCommerce event calls for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapped {
    /// Apply this event (boxed: an order's facts are large, a fetch is an id).
    Event(Box<Event>),
    /// A thin order webhook: read this order over the API (from a job) and submit its document.
    FetchOrder(PlatformId),
}

/// Maps one stored BigCommerce event. `Ok(None)` for a topic the app does not use; `Err` when
/// the body does not have the shape of its topic (the error names the field).
pub fn map_bigcommerce(
    topic: &str,
    body: &Value,
    shop_currency: &Currency,
) -> std::result::Result<Option<Mapped>, MappingError> {
    let topic = topic.trim();
    let mapped = if ORDER_TOPICS.contains(&topic) {
        thin_order(body).map(Mapped::FetchOrder)
    } else if topic == UNINSTALLED_TOPIC {
        thin(body).map(|_| Mapped::Event(Box::new(Event::AppUninstalled)))
    } else if topic == ORDER_DOCUMENT_TOPIC {
        order_document(body, shop_currency).map(|(facts, cancelled)| {
            Mapped::Event(Box::new(if cancelled {
                Event::OrderCancelled(facts)
            } else {
                Event::Order(facts)
            }))
        })
    } else if topic == UNREADABLE_TOPIC {
        Err(unreadable(body))
    } else {
        return Ok(None);
    };
    mapped.map(Some).map_err(|e| MappingError {
        topic: topic.to_owned(),
        ..e
    })
}

/// A thin webhook's envelope: an object naming its `scope` and `producer`.
fn thin<'a>(body: &'a Value) -> Result<Obj<'a>> {
    let o = json::root(body)?;
    for key in ["scope", "producer"] {
        if o.opt_str(key)?.is_none_or(|s| s.trim().is_empty()) {
            return Err(o.invalid(key, "is missing".to_owned()));
        }
    }
    Ok(o)
}

/// Why a delivery filed as unreadable (its `scope` could not be read on receipt) cannot be
/// applied: it names no topic.
fn unreadable(body: &Value) -> MappingError {
    let o = match json::root(body) {
        Ok(o) => o,
        Err(e) => return e,
    };
    match o.opt_str("scope") {
        Err(e) => e,
        Ok(Some(scope)) => o.invalid("scope", format!("{scope:?} was not readable on receipt")),
        Ok(None) => o.invalid("scope", "is missing".to_owned()),
    }
}

/// The order a thin `store/order/*` webhook is about.
fn thin_order(body: &Value) -> Result<PlatformId> {
    let data = thin(body)?.obj("data")?;
    match data.opt_str("type")? {
        Some("order") | None => data.id("id"),
        Some(other) => Err(data.invalid("type", format!("{other:?} is not an order"))),
    }
}

/// The synthetic id of "the rest" of a fully refunded order whose refunds add up to less than
/// its total: above 2^63, where BigCommerce's refund ids (counting up from 1) never reach, and
/// distinct per order.
pub fn rest_refund_id(order_id: &PlatformId) -> PlatformId {
    PlatformId::from_u64((1u64 << 63) | order_id.as_u64())
}

/// What `status_id` says about payment, given whether any refund is listed.
fn financial_status(status_id: i64, refunded: bool) -> FinancialStatus {
    match status_id {
        2 | 3 | 8 | 9 | 10 | 11 if refunded => FinancialStatus::PartiallyRefunded,
        2 | 3 | 8 | 9 | 10 | 11 => FinancialStatus::Paid,
        4 => FinancialStatus::Refunded,
        14 => FinancialStatus::PartiallyRefunded,
        // Incomplete (an abandoned checkout) and declined: no payment will follow.
        0 | 6 => FinancialStatus::Voided,
        // Pending, awaiting payment, manual verification, disputed; and cancelled, which never
        // earns (its payment, if any, comes back as refunds).
        1 | 5 | 7 | 12 | 13 => FinancialStatus::Pending,
        other => FinancialStatus::Unknown(format!("status_id {other}")),
    }
}

/// The order document: the order's facts, and whether it is cancelled.
fn order_document(body: &Value, shop: &Currency) -> Result<(OrderFacts, bool)> {
    let doc = json::root(body)?;
    let o = doc.obj("order")?;
    let currency = match o.opt_str("default_currency_code")? {
        Some(code) if !code.trim().is_empty() => code,
        _ => o
            .opt_str("currency_code")?
            .ok_or_else(|| o.invalid("currency_code", "is missing".to_owned()))?,
    };
    if !currency.trim().eq_ignore_ascii_case(&shop.code) {
        return Err(o.invalid(
            "currency_code",
            format!("order is in {currency}, but the shop's currency is {shop}"),
        ));
    }
    let order_id = o.id("id")?;
    let status_id = o.int("status_id")?;
    let created_at = opt_date(&o, "date_created")?
        .ok_or_else(|| o.invalid("date_created", "is missing".into()))?;
    let updated_at = opt_date(&o, "date_modified")?.unwrap_or(created_at);

    let mut lines = Vec::new();
    let mut subtotal = Money::ZERO;
    for p in doc.objects("products", true)? {
        let (line, earning) = product_line(&p, shop)?;
        subtotal = add(subtotal, earning, &doc, "products")?;
        lines.push(line);
    }
    let total = amount(&o, "total_inc_tax", shop)?;
    let mut refunds = Vec::new();
    let mut refunded = Money::ZERO;
    for r in doc.objects("refunds", false)? {
        if let Some(refund) = refund(&r, &order_id, shop)? {
            refunded = add(refunded, refund.amount, &doc, "refunds")?;
            refunds.push(refund);
        }
    }
    if status_id == 4 && refunded.minor < total.minor {
        refunds.push(RefundFacts {
            refund_id: rest_refund_id(&order_id),
            order_id: order_id.clone(),
            lines: Vec::new(),
            amount: Money::new(total.minor - refunded.minor),
            shipping: Money::ZERO,
            tax: Money::ZERO,
            created_at: Some(updated_at),
        });
    }
    let cancelled = status_id == 5;
    let billing = o.opt_obj("billing_address")?;
    let email = match &billing {
        Some(b) => b.opt_str("email")?.and_then(normalise_email),
        None => None,
    };
    // As WooCommerce's: the order's billing e-mail (where its confirmation went) is what a
    // guest's points are claimed by; an account is known by its id.
    let customer = opt_nonzero_id(&o, "customer_id")?.map(|id| CustomerRef {
        id: Some(id),
        email: None,
    });
    let mut discount_codes = Vec::new();
    for coupon in doc.objects("coupons", false)? {
        if let Some(code) = coupon.opt_str("code")?.map(str::trim) {
            if !code.is_empty() && !discount_codes.iter().any(|c: &String| c == code) {
                discount_codes.push(code.to_owned());
            }
        }
    }
    let discounts = add(
        opt_amount(&o, "discount_amount", shop)?.unwrap_or_default(),
        opt_amount(&o, "coupon_discount", shop)?.unwrap_or_default(),
        &o,
        "coupon_discount",
    )?;
    let facts = OrderFacts {
        name: format!("#{order_id}"),
        order_id,
        customer,
        email,
        financial_status: financial_status(status_id, !refunds.is_empty()),
        cancelled_at: cancelled.then_some(updated_at),
        test: false,
        currency: shop.code.clone(),
        subtotal,
        total_discounts: discounts,
        total_tax: opt_amount(&o, "total_tax", shop)?.unwrap_or_default(),
        shipping: opt_amount(&o, "shipping_cost_ex_tax", shop)?.unwrap_or_default(),
        total,
        lines,
        created_at,
        processed_at: None,
        updated_at,
        // BigCommerce orders carry no cart attributes: referrals are attributed by code.
        note_attributes: Vec::new(),
        discount_codes,
        source_name: text(o.get("order_source")),
        customer_locale: text(o.get("customer_locale")),
        refunds,
        provenance: provenance(&o),
    };
    Ok((facts, cancelled))
}

/// One product line, and the money it earns on: `total_ex_tax` less its applied discounts.
fn product_line(p: &Obj<'_>, shop: &Currency) -> Result<(OrderLine, Money)> {
    let quantity = p.int("quantity")?;
    if quantity < 0 {
        return Err(p.invalid("quantity", format!("{quantity} is negative")));
    }
    let total_ex_tax = amount(p, "total_ex_tax", shop)?;
    let mut discount = Money::ZERO;
    for d in p.objects("applied_discounts", false)? {
        discount = add(
            discount,
            amount(&d, "amount", shop)?,
            p,
            "applied_discounts",
        )?;
    }
    let earning = Money::new(total_ex_tax.minor.saturating_sub(discount.minor).max(0));
    // The unit price only weighs lines against each other (the subtotal is what earns).
    let unit_price = opt_amount(p, "price_ex_tax", shop)?
        .unwrap_or_else(|| Money::new(total_ex_tax.minor.checked_div(quantity).unwrap_or(0)));
    let line = OrderLine {
        line_id: p.id("id")?,
        product_id: opt_nonzero_id(p, "product_id")?,
        variant_id: opt_nonzero_id(p, "variant_id")?,
        quantity,
        unit_price,
        total_discount: discount,
        // Buying a gift certificate is not spending.
        gift_card: p
            .opt_str("type")?
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("giftcertificate")),
        title: p
            .get("name")
            .and_then(Value::as_str)
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(MAX_LINE_TITLE_CHARS).collect()),
    };
    Ok((line, earning))
}
