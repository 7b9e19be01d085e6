//! A v3 refund (`GET v3/orders/{id}/payment_actions/refunds`) as a refund fact, and the
//! order's provenance (IP, phone, billing address) for referral fraud signals.

use serde_json::Value;

use super::fields::{add, amount, opt_amount, opt_date, text};
use crate::domain::event::{OrderProvenance, PlatformId, PostalAddress, RefundFacts, RefundLine};
use crate::domain::money::{Currency, Money};
use crate::platform::shopify::payload::json::{Obj, Result};

/// One v3 refund; `None` when every payment of it was declined (no money went back).
pub(super) fn refund(
    r: &Obj<'_>,
    order_id: &PlatformId,
    shop: &Currency,
) -> Result<Option<RefundFacts>> {
    let payments = r.objects("payments", false)?;
    let mut declined = 0;
    for p in &payments {
        declined += usize::from(p.bool_or("is_declined", false)?);
    }
    if !payments.is_empty() && declined == payments.len() {
        return Ok(None);
    }
    let mut lines = Vec::new();
    let mut shipping = Money::ZERO;
    for item in r.objects("items", false)? {
        let kind = item.opt_str("item_type")?.unwrap_or_default().trim();
        let requested = opt_amount(&item, "requested_amount", shop)?.unwrap_or_default();
        match kind.to_ascii_uppercase().as_str() {
            "PRODUCT" => {
                let quantity = item.get("quantity").and_then(Value::as_i64).unwrap_or(0);
                if quantity > 0 {
                    lines.push(RefundLine {
                        line_item_id: item.id("item_id")?,
                        quantity,
                        subtotal: requested,
                    });
                }
            }
            // Shipping and handling went back, not goods (they earn nothing by default).
            "SHIPPING" | "HANDLING" => {
                shipping = add(shipping, requested, &item, "requested_amount")?
            }
            // An order-level amount, wrapping or a fee: counted against the goods by amount.
            _ => {}
        }
    }
    Ok(Some(RefundFacts {
        refund_id: r.id("id")?,
        order_id: order_id.clone(),
        lines,
        amount: amount(r, "total_amount", shop)?,
        shipping,
        // A negative total tax (tax kept by refunding less) returns no tax.
        tax: Money::new(
            opt_amount(r, "total_tax", shop)?
                .unwrap_or_default()
                .minor
                .max(0),
        ),
        created_at: opt_date(r, "created")?,
    }))
}

/// IP, phone and billing address for referral fraud signals, read leniently (the shipping
/// addresses are a resource of their own, not read).
pub(super) fn provenance(o: &Obj<'_>) -> OrderProvenance {
    let billing = o.get("billing_address");
    let part = |key: &str| text(billing.and_then(|b| b.get(key)));
    let address = PostalAddress {
        address1: part("street_1"),
        address2: part("street_2"),
        city: part("city"),
        zip: part("zip"),
        province_code: part("state"),
        country_code: part("country_iso2"),
    };
    OrderProvenance {
        landing_site: None,
        browser_ip: text(o.get("ip_address")).or_else(|| text(o.get("ip_address_v6"))),
        phones: part("phone").into_iter().collect(),
        shipping_address: None,
        billing_address: (!address.is_empty()).then_some(address),
        card_bin: None,
        card_last4: None,
    }
}
