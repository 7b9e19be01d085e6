//! Maps Shopify webhook payloads (the REST JSON of API versions 2023-01 and later) into the
//! internal `Event`.
//!
//! Amounts are read from `*_set.shop_money` when present and from the plain fields otherwise
//! (older versions, where they are in shop currency too), so points are always counted in the
//! shop's currency even when the buyer paid in another presentment currency. An amount that
//! says it is in another currency than the shop's is an error, never a silent 100x award.
//!
//! Ids are read from the numeric `id` fields (exactly, as `u64`), not from
//! `admin_graphql_api_id`: refunds point at orders and lines by numeric id only, so the numeric
//! ids are the one key that links the topics together.
//!
//! Fields the domain cannot do without (ids, `created_at`, line items, subtotal, total) are
//! required; cosmetic or newer fields default when absent. A present field of the wrong type is
//! an error that names it, except in an order's provenance (landing page, IP, phones,
//! addresses, card), which the ledger never reads: those are read leniently (`provenance`).

pub(crate) mod json;
mod provenance;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::event::{
    normalise_email, CustomerFacts, CustomerRef, Event, FinancialStatus, MappingError, OrderFacts,
    OrderLine, PlatformId, Problem, RefundFacts, RefundLine,
};
use crate::domain::money::{Currency, Money};
use json::{Obj, Result};

/// Maps one Shopify webhook to an `Event`.
///
/// `Ok(None)` for a topic the app does not use; `Err` when the body does not have the shape the
/// topic promises (the error names the field). `shop_currency` is the shop's currency, in which
/// all amounts of the event are expressed.
pub fn map_shopify(
    topic: &str,
    body: &Value,
    shop_currency: &Currency,
) -> std::result::Result<Option<Event>, MappingError> {
    let topic = topic.trim().to_ascii_lowercase();
    let event = match topic.as_str() {
        "orders/create" | "orders/paid" | "orders/updated" => {
            order(body, shop_currency).map(Event::Order)
        }
        "orders/cancelled" => order(body, shop_currency).map(Event::OrderCancelled),
        "refunds/create" => refund(body, shop_currency).map(Event::Refund),
        "customers/create" | "customers/update" => customer(body).map(Event::Customer),
        "app/uninstalled" => json::root(body).map(|_| Event::AppUninstalled),
        "customers/data_request" => compliance(body, "orders_requested")
            .map(|(customer, orders)| Event::CustomerDataRequest { customer, orders }),
        "customers/redact" => compliance(body, "orders_to_redact")
            .map(|(customer, orders)| Event::CustomerRedact { customer, orders }),
        "shop/redact" => json::root(body).map(|_| Event::ShopRedact),
        "shop/update" => json::root(body).map(|_| {
            let s = super::shop_query::ShopSettings::from_webhook(body);
            Event::ShopUpdated {
                currency: s.currency,
                timezone: s.timezone,
                locale: s.locale,
            }
        }),
        _ => return Ok(None),
    };
    event.map(Some).map_err(|e| MappingError { topic, ..e })
}

fn add(sum: Money, more: Money, at: &Obj<'_>, key: &str) -> Result<Money> {
    sum.checked_add(more)
        .ok_or_else(|| at.invalid(key, "amounts add up beyond 64 bits".to_owned()))
}

fn non_negative(at: &Obj<'_>, key: &str) -> Result<i64> {
    let n = at.int(key)?;
    if n < 0 {
        return Err(at.invalid(key, format!("{n} is negative")));
    }
    Ok(n)
}

fn text(at: &Obj<'_>, key: &str) -> Result<Option<String>> {
    Ok(at
        .opt_str(key)?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned))
}

fn email(at: &Obj<'_>, key: &str) -> Result<Option<String>> {
    Ok(at.opt_str(key)?.and_then(normalise_email))
}

fn customer_ref(c: &Obj<'_>) -> Result<CustomerRef> {
    Ok(CustomerRef {
        id: c.opt_id("id")?,
        email: email(c, "email")?,
    })
}

fn order(body: &Value, shop: &Currency) -> Result<OrderFacts> {
    let o = json::root(body)?;
    if let Some(code) = o.opt_str("currency")? {
        if !code.trim().eq_ignore_ascii_case(&shop.code) {
            return Err(o.invalid(
                "currency",
                format!("order is in {code}, but the shop's currency is {shop}"),
            ));
        }
    }
    let lines = o
        .objects("line_items", true)?
        .iter()
        .map(|l| order_line(l, shop))
        .collect::<Result<Vec<_>>>()?;
    let customer = match o.opt_obj("customer")? {
        Some(c) => Some(customer_ref(&c)?).filter(|r| r.id.is_some() || r.email.is_some()),
        None => None,
    };
    let mut note_attributes = Vec::new();
    for attribute in o.objects("note_attributes", false)? {
        let name = attribute.opt_str("name")?.unwrap_or_default().to_owned();
        let value = match attribute.get("value") {
            None => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        note_attributes.push((name, value));
    }
    let mut discount_codes = Vec::new();
    for code in o.objects("discount_codes", false)? {
        discount_codes.extend(text(&code, "code")?);
    }
    let created_at = o.time("created_at")?;
    let order_id = o.id("id")?;
    // A refund made before the order reached us (or whose own webhook was lost) is carried
    // in the order's `refunds`: it must take its points back as a `refunds/create` would.
    let refunds = o
        .objects("refunds", false)?
        .iter()
        .map(|r| refund_at(r, shop, Some(&order_id)))
        .collect::<Result<Vec<_>>>()?;
    let name = match text(&o, "name")? {
        Some(name) => name,
        None => o
            .get("order_number")
            .map(|n| format!("#{n}"))
            .unwrap_or_default(),
    };
    Ok(OrderFacts {
        order_id,
        name,
        customer,
        email: match email(&o, "email")? {
            Some(e) => Some(e),
            None => email(&o, "contact_email")?,
        },
        financial_status: FinancialStatus::from(o.opt_str("financial_status")?.unwrap_or_default()),
        cancelled_at: o.opt_time("cancelled_at")?,
        test: o.bool_or("test", false)?,
        currency: shop.code.clone(),
        subtotal: o.money("subtotal_price", shop)?,
        total_discounts: o.opt_money("total_discounts", shop)?.unwrap_or_default(),
        total_tax: o.opt_money("total_tax", shop)?.unwrap_or_default(),
        shipping: shipping(&o, shop)?,
        total: o.money("total_price", shop)?,
        lines,
        created_at,
        processed_at: o.opt_time("processed_at")?,
        updated_at: o.opt_time("updated_at")?.unwrap_or(created_at),
        note_attributes,
        discount_codes,
        source_name: text(&o, "source_name")?,
        // Cosmetic: a value of another type is left out rather than failing the order.
        customer_locale: o
            .get("customer_locale")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|l| !l.is_empty() && l.len() <= 35)
            .map(str::to_owned),
        refunds,
        provenance: provenance::provenance(body),
    })
}

fn order_line(l: &Obj<'_>, shop: &Currency) -> Result<OrderLine> {
    Ok(OrderLine {
        line_id: l.id("id")?,
        product_id: l.opt_id("product_id")?,
        variant_id: l.opt_id("variant_id")?,
        quantity: non_negative(l, "quantity")?,
        unit_price: l.money("price", shop)?,
        total_discount: l.opt_money("total_discount", shop)?.unwrap_or_default(),
        gift_card: l.bool_or("gift_card", false)?,
        title: line_title(l.opt_str("title")?),
    })
}

/// A line's product title, kept only as one clean line: no control characters (it may end up
/// in a mail subject), trimmed, at most `MAX_LINE_TITLE_CHARS`; empty is none.
fn line_title(title: Option<&str>) -> Option<String> {
    let clean: String = title?
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let clean: String = clean
        .chars()
        .take(crate::domain::event::MAX_LINE_TITLE_CHARS)
        .collect();
    (!clean.is_empty()).then_some(clean)
}

/// What the buyer paid for shipping: the shipping lines after their discounts (removed lines
/// excluded), or `total_shipping_price_set` when the payload has no shipping lines.
fn shipping(o: &Obj<'_>, shop: &Currency) -> Result<Money> {
    if o.get("shipping_lines").is_none() {
        return Ok(o
            .opt_money("total_shipping_price", shop)?
            .unwrap_or_default());
    }
    let mut sum = Money::ZERO;
    for s in o.objects("shipping_lines", false)? {
        if s.bool_or("is_removed", false)? {
            continue;
        }
        let paid = match s.opt_money("discounted_price", shop)? {
            Some(paid) => paid,
            None => s.money("price", shop)?,
        };
        sum = add(sum, paid, o, "shipping_lines")?;
    }
    Ok(sum)
}

fn refund(body: &Value, shop: &Currency) -> Result<RefundFacts> {
    refund_at(&json::root(body)?, shop, None)
}

/// Negates an amount Shopify reports as negative when money went back (order adjustments).
fn returned(at: &Obj<'_>, key: &str, amount: Money) -> Result<Money> {
    Money::ZERO
        .checked_sub(amount)
        .ok_or_else(|| at.invalid(key, "amount beyond 64 bits".to_owned()))
}

/// A refund object, at the top of a `refunds/create` body or inside an order's `refunds`
/// (where `order_id` may be left out: it is the enclosing order's).
fn refund_at(r: &Obj<'_>, shop: &Currency, order_id: Option<&PlatformId>) -> Result<RefundFacts> {
    let mut lines = Vec::new();
    // The refund's own shop-money total, for when a transaction is only in another currency.
    let mut own_total = Money::ZERO;
    for l in r.objects("refund_line_items", false)? {
        let subtotal = l.opt_money("subtotal", shop)?.unwrap_or_default();
        let tax = l.opt_money("total_tax", shop)?.unwrap_or_default();
        own_total = add(
            add(own_total, subtotal, r, "refund_line_items")?,
            tax,
            r,
            "refund_line_items",
        )?;
        lines.push(RefundLine {
            line_item_id: l.id("line_item_id")?,
            quantity: non_negative(&l, "quantity")?,
            subtotal,
        });
    }
    // Shipping and the tax on it come back through `shipping_refund` adjustments (older API
    // versions) or `refund_shipping_lines` (newer ones), possibly both for one refund: the
    // larger of the two readings is taken rather than their sum.
    let (mut adjusted_shipping, mut adjusted_tax) = (Money::ZERO, Money::ZERO);
    for adjustment in r.objects("order_adjustments", false)? {
        // Adjustments are negative when more money went back (shipping refunds, discrepancies).
        let amount = adjustment.opt_money("amount", shop)?.unwrap_or_default();
        let tax = adjustment
            .opt_money("tax_amount", shop)?
            .unwrap_or_default();
        own_total = own_total
            .checked_sub(amount)
            .and_then(|t| t.checked_sub(tax))
            .ok_or_else(|| {
                r.invalid(
                    "order_adjustments",
                    "amounts add up beyond 64 bits".to_owned(),
                )
            })?;
        let tax_back = returned(&adjustment, "tax_amount", tax)?;
        adjusted_tax = add(adjusted_tax, tax_back, r, "order_adjustments")?;
        if adjustment.opt_str("kind")? == Some("shipping_refund") {
            let back = returned(&adjustment, "amount", amount)?;
            adjusted_shipping = add(adjusted_shipping, back, r, "order_adjustments")?;
        }
    }
    let (mut line_shipping, mut line_tax) = (Money::ZERO, Money::ZERO);
    for shipping_line in r.objects("refund_shipping_lines", false)? {
        let subtotal = match shipping_line.opt_money("subtotal_amount", shop)? {
            Some(amount) => amount,
            None => shipping_line.opt_money("amount", shop)?.unwrap_or_default(),
        };
        let tax = shipping_line
            .opt_money("tax_amount", shop)?
            .unwrap_or_default();
        line_shipping = add(line_shipping, subtotal, r, "refund_shipping_lines")?;
        line_tax = add(line_tax, tax, r, "refund_shipping_lines")?;
    }

    let mut amount = Money::ZERO;
    let mut in_other_currency = false;
    for t in r.objects("transactions", false)? {
        if t.opt_str("kind")? != Some("refund") || t.opt_str("status")? != Some("success") {
            continue;
        }
        let currency = t.opt_str("currency")?;
        if t.get("amount_set").is_none()
            && currency.is_some_and(|c| !c.trim().eq_ignore_ascii_case(&shop.code))
        {
            in_other_currency = true;
            continue;
        }
        amount = add(amount, t.money("amount", shop)?, r, "transactions")?;
    }
    let order_id = match order_id {
        Some(enclosing) => enclosing.clone(),
        None => r.id("order_id")?,
    };
    Ok(RefundFacts {
        refund_id: r.id("id")?,
        order_id,
        lines,
        amount: if in_other_currency { own_total } else { amount },
        shipping: adjusted_shipping.max(line_shipping).max(Money::ZERO),
        tax: adjusted_tax.max(line_tax).max(Money::ZERO),
        created_at: match r.opt_time("created_at")? {
            Some(at) => Some(at),
            None => r.opt_time("processed_at")?,
        },
    })
}

fn customer(body: &Value) -> Result<CustomerFacts> {
    let c = json::root(body)?;
    let consent = match c.opt_obj("email_marketing_consent")? {
        Some(consent) => consent.opt_str("state")?.map(str::to_owned),
        None => None,
    };
    let accepts_marketing = match &consent {
        Some(state) => state == "subscribed",
        None => c.bool_or("accepts_marketing", false)?,
    };
    // "unsubscribed" is a withdrawal; "not_subscribed" only says consent was never given.
    let marketing_withdrawn = consent.as_deref() == Some("unsubscribed");
    // Shopify has no birthday field; apps and forms that collect one use these names. A value
    // we cannot read is ignored rather than failing the whole customer.
    let birthday = ["birthday", "date_of_birth"]
        .iter()
        .filter_map(|key| c.get(key).and_then(Value::as_str))
        .find_map(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok());
    Ok(CustomerFacts {
        customer: CustomerRef {
            id: Some(c.id("id")?),
            email: email(&c, "email")?,
        },
        first_name: text(&c, "first_name")?,
        last_name: text(&c, "last_name")?,
        accepts_marketing,
        marketing_withdrawn,
        email_verified: c.bool_or("verified_email", false)?,
        birthday,
        created_at: c.opt_time("created_at")?,
        updated_at: c.opt_time("updated_at")?,
    })
}

/// The customer and order ids of a privacy-law webhook.
fn compliance(body: &Value, orders_key: &str) -> Result<(CustomerRef, Vec<PlatformId>)> {
    let b = json::root(body)?;
    let c = b.obj("customer")?;
    let customer = customer_ref(&c)?;
    if customer.id.is_none() && customer.email.is_none() {
        return Err(MappingError {
            topic: String::new(),
            field: format!("{} (or {})", c.field("id"), c.field("email")),
            problem: Problem::Missing,
        });
    }
    Ok((customer, b.ids(orders_key)?))
}
