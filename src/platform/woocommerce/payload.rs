//! Maps WooCommerce `order.*` webhook bodies (the REST v3 order document) into the same
//! internal events as Shopify's.
//!
//! WooCommerce sends the whole order on every change and has no webhook of its own for a
//! refund: the order's `refunds[]` lists every refund so far. Each is mapped to a refund fact
//! keyed by its WooCommerce id; the earning service stores refunds once and takes back what
//! the stored set calls for minus what was already taken back. So the same body twice takes
//! back nothing more, and an older body arriving after a newer one (fewer refunds) never undoes
//! a reversal: refunds are never un-stored.
//!
//! - Paid: status `processing` or `completed` with a `date_paid_gmt` (or `refunded`, which
//!   follows payment). Cancelled: status `cancelled`, as Shopify's `orders/cancelled`.
//! - Status `refunded` with refunds adding up to less than the total (the owner set the status
//!   by hand) reads as one more refund of the rest, keyed by the order's own id: orders and
//!   refunds share WooCommerce's id sequence, so no real refund has that id.
//! - Money strings (`"12.50"`) are in the order's currency, which must be the shop's. The
//!   subtotal that earns is the sum of the lines' `total` (after discounts, before shipping
//!   and tax). Refund totals are negative in WooCommerce and read as positive amounts.
//! - Times `*_gmt` carry no offset and are UTC. The order's date is `date_created_gmt`; its
//!   platform update time (which snapshot is newer) is `date_modified_gmt`.
//! - Guests (`customer_id` 0) earn by `billing.email`.

#[cfg(test)]
mod tests;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;

use crate::domain::event::{
    normalise_email, CustomerRef, Event, FinancialStatus, MappingError, OrderFacts, OrderLine,
    OrderProvenance, PlatformId, PostalAddress, RefundFacts, MAX_LINE_TITLE_CHARS,
};
use crate::domain::money::{Currency, Money};
use crate::platform::shopify::payload::json::{self, Obj, Result};

/// Maps one WooCommerce webhook to an `Event`.
///
/// `Ok(None)` for a topic the app does not use; `Err` when the body does not have the shape of
/// an order (the error names the field).
pub fn map_woocommerce(
    topic: &str,
    body: &Value,
    shop_currency: &Currency,
) -> std::result::Result<Option<Event>, MappingError> {
    let topic = topic.trim().to_ascii_lowercase();
    let event = match topic.as_str() {
        "order.created" | "order.updated" => {
            order(body, shop_currency).map(|(facts, cancelled)| {
                if cancelled {
                    Event::OrderCancelled(facts)
                } else {
                    Event::Order(facts)
                }
            })
        }
        _ => return Ok(None),
    };
    event.map(Some).map_err(|e| MappingError { topic, ..e })
}

/// A `*_gmt` time: `YYYY-MM-DDTHH:MM:SS` in UTC without an offset (an RFC 3339 time with one is
/// accepted too).
fn opt_gmt(o: &Obj<'_>, key: &str) -> Result<Option<DateTime<Utc>>> {
    let Some(text) = o.opt_str(key)? else {
        return Ok(None);
    };
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(naive) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Ok(Some(naive.and_utc()));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| {
            o.invalid(
                key,
                format!("{text:?} is not a time like 2026-11-20T10:00:00"),
            )
        })
}

fn add(sum: Money, more: Money, at: &Obj<'_>, key: &str) -> Result<Money> {
    sum.checked_add(more)
        .ok_or_else(|| at.invalid(key, "amounts add up beyond 64 bits".to_owned()))
}

/// An id where WooCommerce writes 0 for "none" (a guest, a line without a product).
fn opt_nonzero_id(o: &Obj<'_>, key: &str) -> Result<Option<PlatformId>> {
    Ok(o.opt_id(key)?.filter(|id| id.as_u64() != 0))
}

/// The order, and whether it is cancelled.
fn order(body: &Value, shop: &Currency) -> Result<(OrderFacts, bool)> {
    let o = json::root(body)?;
    let currency = o
        .opt_str("currency")?
        .ok_or_else(|| o.invalid("currency", "is missing".to_owned()))?;
    if !currency.trim().eq_ignore_ascii_case(&shop.code) {
        return Err(o.invalid(
            "currency",
            format!("order is in {currency}, but the shop's currency is {shop}"),
        ));
    }
    let order_id = o.id("id")?;
    let status = o
        .opt_str("status")?
        .ok_or_else(|| o.invalid("status", "is missing".to_owned()))?
        .trim()
        .to_ascii_lowercase();
    let created_at = opt_gmt(&o, "date_created_gmt")?
        .ok_or_else(|| o.invalid("date_created_gmt", "is missing".to_owned()))?;
    let updated_at = opt_gmt(&o, "date_modified_gmt")?.unwrap_or(created_at);
    let paid_at = opt_gmt(&o, "date_paid_gmt")?;

    let mut lines = Vec::new();
    let mut subtotal = Money::ZERO;
    for l in o.objects("line_items", true)? {
        let line = order_line(&l, shop)?;
        subtotal = add(subtotal, l.money("total", shop)?, &o, "line_items")?;
        lines.push(line);
    }
    let total = o.money("total", shop)?;
    let mut refunds = Vec::new();
    let mut refunded = Money::ZERO;
    for r in o.objects("refunds", false)? {
        // WooCommerce writes a refund's total as a negative amount: money going back.
        let amount = Money::new(r.money("total", shop)?.minor.saturating_abs());
        refunded = add(refunded, amount, &o, "refunds")?;
        refunds.push(RefundFacts {
            refund_id: r.id("id")?,
            order_id: order_id.clone(),
            lines: Vec::new(),
            amount,
            shipping: Money::ZERO,
            tax: Money::ZERO,
            // The embedded refund carries no date: the body that first lists it is the nearest.
            created_at: Some(updated_at),
        });
    }
    if status == "refunded" && refunded.minor < total.minor {
        refunds.push(RefundFacts {
            refund_id: order_id.clone(),
            order_id: order_id.clone(),
            lines: Vec::new(),
            amount: Money::new(total.minor - refunded.minor),
            shipping: Money::ZERO,
            tax: Money::ZERO,
            created_at: Some(updated_at),
        });
    }
    let paid = matches!(status.as_str(), "processing" | "completed") && paid_at.is_some();
    let financial_status = match status.as_str() {
        "refunded" => FinancialStatus::Refunded,
        _ if paid && !refunds.is_empty() => FinancialStatus::PartiallyRefunded,
        _ if paid => FinancialStatus::Paid,
        "failed" => FinancialStatus::Voided,
        "pending" | "on-hold" | "processing" | "completed" => FinancialStatus::Pending,
        // `cancelled` after payment keeps the order's paid history (it never earns anyway).
        "cancelled" if paid_at.is_some() => FinancialStatus::Paid,
        "cancelled" => FinancialStatus::Pending,
        other => FinancialStatus::Unknown(other.to_owned()),
    };
    let cancelled = status == "cancelled";
    let billing = o.opt_obj("billing")?;
    let email = match &billing {
        Some(b) => b.opt_str("email")?.and_then(normalise_email),
        None => None,
    };
    // The account's own e-mail is not in the order: the order's billing e-mail (where its
    // confirmation went) is what a guest's points are claimed by, as for Shopify.
    let customer = opt_nonzero_id(&o, "customer_id")?.map(|id| CustomerRef {
        id: Some(id),
        email: None,
    });
    let mut discount_codes = Vec::new();
    for coupon in o.objects("coupon_lines", false)? {
        if let Some(code) = coupon.opt_str("code")?.map(str::trim) {
            if !code.is_empty() {
                discount_codes.push(code.to_owned());
            }
        }
    }
    let name = match o.get("number") {
        Some(Value::String(n)) if !n.trim().is_empty() => format!("#{}", n.trim()),
        Some(Value::Number(n)) => format!("#{n}"),
        _ => format!("#{order_id}"),
    };
    let facts = OrderFacts {
        order_id,
        name,
        customer,
        email,
        financial_status,
        cancelled_at: cancelled.then_some(updated_at),
        test: false,
        currency: shop.code.clone(),
        subtotal,
        total_discounts: o.opt_money("discount_total", shop)?.unwrap_or_default(),
        total_tax: o.opt_money("total_tax", shop)?.unwrap_or_default(),
        shipping: o.opt_money("shipping_total", shop)?.unwrap_or_default(),
        total,
        lines,
        created_at,
        processed_at: None,
        updated_at,
        note_attributes: note_attributes(body),
        discount_codes,
        source_name: o
            .get("created_via")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned),
        customer_locale: None,
        refunds,
        provenance: provenance(body),
    };
    Ok((facts, cancelled))
}

fn order_line(l: &Obj<'_>, shop: &Currency) -> Result<OrderLine> {
    let quantity = l.int("quantity")?;
    if quantity < 0 {
        return Err(l.invalid("quantity", format!("{quantity} is negative")));
    }
    let total = l.money("total", shop)?;
    // `subtotal` is the line before discounts; the unit price only weighs lines against each
    // other (the order's subtotal is what earns), so a cent lost dividing does not matter.
    let before_discounts = l.opt_money("subtotal", shop)?.unwrap_or(total);
    let unit_price = Money::new(before_discounts.minor.checked_div(quantity).unwrap_or(0));
    let gross = unit_price.minor.saturating_mul(quantity);
    Ok(OrderLine {
        line_id: l.id("id")?,
        product_id: opt_nonzero_id(l, "product_id")?,
        variant_id: opt_nonzero_id(l, "variation_id")?,
        quantity,
        unit_price,
        total_discount: Money::new(gross.saturating_sub(total.minor).max(0)),
        gift_card: false,
        title: l
            .get("name")
            .and_then(Value::as_str)
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(MAX_LINE_TITLE_CHARS).collect()),
    })
}

/// The order's public meta data (`meta_data[]{key,value}` with a string value, keys not
/// starting with `_`), as Shopify's cart attributes: a `boomerang_ref` set by the storefront
/// attributes a referral. Read leniently: none of it earns.
fn note_attributes(body: &Value) -> Vec<(String, String)> {
    body.get("meta_data")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|m| {
                    let key = m.get("key")?.as_str()?;
                    let value = m.get("value")?.as_str()?;
                    (!key.starts_with('_')).then(|| (key.to_owned(), value.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// IP, phone and addresses for referral fraud signals, read leniently.
fn provenance(body: &Value) -> OrderProvenance {
    let text = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let address = |key: &str| {
        let a = body.get(key)?;
        let address = PostalAddress {
            address1: text(a.get("address_1")),
            address2: text(a.get("address_2")),
            city: text(a.get("city")),
            zip: text(a.get("postcode")),
            province_code: text(a.get("state")),
            country_code: text(a.get("country")),
        };
        (!address.is_empty()).then_some(address)
    };
    let mut phones: Vec<String> = ["billing", "shipping"]
        .iter()
        .filter_map(|key| text(body.get(key)?.get("phone")))
        .collect();
    phones.dedup();
    OrderProvenance {
        landing_site: None,
        browser_ip: text(body.get("customer_ip_address")),
        phones,
        shipping_address: address("shipping"),
        billing_address: address("billing"),
        card_bin: None,
        card_last4: None,
    }
}
