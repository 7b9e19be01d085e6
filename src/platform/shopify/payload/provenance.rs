//! An order's provenance (landing page, buyer IP, phones, addresses, card): the facts referral
//! fraud signals compare.
//!
//! Unlike ids and amounts these count for nothing in the ledger, so they are read leniently: a
//! value of the wrong shape (a number where a string belongs, a string where an address
//! belongs) is left out instead of failing the order, which would hold back its points over a
//! field the ledger never reads. `serde_json::Value::get` answers `None` on anything that is not
//! an object, which is what makes every lookup below lenient.

use serde_json::Value;

use crate::domain::event::{OrderProvenance, PostalAddress};

/// The provenance facts of a Shopify order payload (REST shape, any API version).
pub(super) fn provenance(order: &Value) -> OrderProvenance {
    let customer = order.get("customer");
    let shipping = order.get("shipping_address");
    let billing = order.get("billing_address");
    let payment = order.get("payment_details");
    let mut phones: Vec<String> = Vec::new();
    for phone in [
        order.get("phone"),
        field(customer, "phone"),
        field(shipping, "phone"),
        field(billing, "phone"),
    ]
    .into_iter()
    .filter_map(text)
    {
        if !phones.contains(&phone) {
            phones.push(phone);
        }
    }
    OrderProvenance {
        landing_site: text(order.get("landing_site")),
        browser_ip: text(order.get("browser_ip"))
            .or_else(|| text(field(order.get("client_details"), "browser_ip"))),
        phones,
        shipping_address: address(shipping),
        billing_address: address(billing),
        card_bin: text(field(payment, "credit_card_bin")),
        card_last4: text(field(payment, "credit_card_number")).and_then(|n| last4(&n)),
    }
}

/// `object.key` when `object` is an object that has it.
fn field<'a>(object: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    object?.get(key)
}

/// A string value, trimmed; `None` for blank, null or another type.
fn text(value: Option<&Value>) -> Option<String> {
    let trimmed = value?.as_str()?.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

/// The parts of an address object fraud signals compare; `None` when it is not an object or
/// has none of them.
fn address(value: Option<&Value>) -> Option<PostalAddress> {
    let part = |key: &str| text(field(value, key));
    let address = PostalAddress {
        address1: part("address1"),
        address2: part("address2"),
        city: part("city"),
        zip: part("zip"),
        province_code: part("province_code"),
        country_code: part("country_code"),
    };
    (!address.is_empty()).then_some(address)
}

/// The last four digits of a masked card number (`•••• •••• •••• 4242`, `XXXX-4242`); `None`
/// when it shows fewer than four.
fn last4(masked: &str) -> Option<String> {
    let digits: Vec<char> = masked.chars().filter(char::is_ascii_digit).collect();
    let start = digits.len().checked_sub(4)?;
    digits.get(start..).map(|tail| tail.iter().collect())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::map_shopify;
    use crate::domain::event::{Event, OrderFacts, OrderProvenance, PostalAddress};
    use crate::domain::money::Currency;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    fn load(path: &str) -> Value {
        let text = std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn order(body: &Value, currency: &str) -> OrderFacts {
        let currency = Currency::parse(currency).unwrap();
        match map_shopify("orders/paid", body, &currency) {
            Ok(Some(Event::Order(o))) => o,
            other => panic!("not an order: {other:?}"),
        }
    }

    /// The 2024-10 fixture with every provenance source filled in, as a real storefront order
    /// on an API version that still has `payment_details` carries them.
    fn storefront_order() -> Value {
        let mut body = load("shopify/orders_create.json");
        body["landing_site"] = json!("/?ref=ABCD2345&utm_source=x");
        body["browser_ip"] = json!(" 203.0.113.7 ");
        body["phone"] = json!("+1 555 0100");
        body["customer"]["phone"] = json!("+1 555 0100");
        body["billing_address"]["phone"] = json!("  ");
        body["payment_details"] = json!({
            "credit_card_bin": "424242",
            "avs_result_code": null,
            "cvv_result_code": null,
            "credit_card_number": "•••• •••• •••• 4242",
            "credit_card_company": "Visa"
        });
        body
    }

    fn fixture_address() -> PostalAddress {
        PostalAddress {
            address1: Some("123 Shipping Street".into()),
            address2: None,
            city: Some("Shippington".into()),
            zip: Some("40003".into()),
            province_code: Some("KY".into()),
            country_code: Some("US".into()),
        }
    }

    #[test]
    fn the_fixtures_carry_their_addresses_and_the_address_phone_only() {
        // Shopify's test deliveries have no session (landing page, IP null), no order or
        // customer phone and no card details; both addresses are the same, phone included.
        // (`customer.default_address.phone` is the account's, not the order's: not read.)
        for (path, currency) in [
            ("shopify/orders_create.json", "USD"),
            ("shopify-2023-01/orders_create.json", "CAD"),
            ("shopify-2023-01/orders_paid.json", "CAD"),
            ("shopify-2023-01/orders_updated.json", "CAD"),
            ("shopify-2023-01/orders_cancelled.json", "CAD"),
        ] {
            let o = order(&load(path), currency);
            assert_eq!(
                o.provenance,
                OrderProvenance {
                    phones: vec!["555-555-SHIP".into()],
                    shipping_address: Some(fixture_address()),
                    billing_address: Some(fixture_address()),
                    ..OrderProvenance::default()
                },
                "{path}"
            );
        }
    }

    #[test]
    fn every_source_is_read_trimmed_and_phones_deduped() {
        let o = order(&storefront_order(), "USD");
        assert_eq!(
            o.provenance,
            OrderProvenance {
                landing_site: Some("/?ref=ABCD2345&utm_source=x".into()),
                browser_ip: Some("203.0.113.7".into()),
                phones: vec!["+1 555 0100".into(), "555-555-SHIP".into()],
                shipping_address: Some(fixture_address()),
                billing_address: Some(fixture_address()),
                card_bin: Some("424242".into()),
                card_last4: Some("4242".into()),
            }
        );
    }

    #[test]
    fn the_ip_falls_back_to_the_client_details() {
        let mut body = storefront_order();
        body["browser_ip"] = Value::Null;
        body["client_details"] = json!({"browser_ip": "2001:db8::1", "user_agent": "x"});
        assert_eq!(
            order(&body, "USD").provenance.browser_ip.as_deref(),
            Some("2001:db8::1")
        );
        // A top-level IP of the wrong type is no IP: the fallback still applies.
        body["browser_ip"] = json!(203_000_113_007_u64);
        assert_eq!(
            order(&body, "USD").provenance.browser_ip.as_deref(),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn values_of_the_wrong_shape_are_left_out_and_the_order_still_maps() {
        let expected = OrderFacts {
            provenance: OrderProvenance::default(),
            ..order(&load("shopify/orders_create.json"), "USD")
        };
        let mut body = storefront_order();
        body["landing_site"] = json!({"path": "/"});
        body["browser_ip"] = json!(false);
        body["client_details"] = json!("203.0.113.7");
        body["phone"] = json!(15_550_100);
        body["customer"]["phone"] = json!(["+1 555 0100"]);
        body["shipping_address"] = json!("123 Shipping Street");
        body["billing_address"] =
            json!({"address1": 123, "city": ["x"], "zip": " 40003 ", "phone": {}});
        body["payment_details"] = json!([424_242, 4242]);
        let o = order(&body, "USD");
        assert_eq!(
            o.provenance,
            OrderProvenance {
                billing_address: Some(PostalAddress {
                    zip: Some("40003".into()),
                    ..PostalAddress::default()
                }),
                ..OrderProvenance::default()
            }
        );
        // Everything the ledger reads is as without the odd values.
        assert_eq!(
            OrderFacts {
                provenance: OrderProvenance::default(),
                ..o
            },
            expected
        );
        // Card fields of the wrong type inside a proper object are left out too.
        body["payment_details"] = json!({"credit_card_bin": 424_242, "credit_card_number": 4242});
        let o = order(&body, "USD");
        assert_eq!(
            (o.provenance.card_bin, o.provenance.card_last4),
            (None, None)
        );
        // An address object with none of the compared parts is no address.
        body["shipping_address"] = json!({"first_name": "Steve", "address1": "  "});
        assert_eq!(order(&body, "USD").provenance.shipping_address, None);
    }

    #[test]
    fn the_last_four_digits_are_read_from_any_masking() {
        for (masked, last4) in [
            ("•••• •••• •••• 4242", Some("4242")),
            ("XXXX-XXXX-XXXX-1881", Some("1881")),
            ("4242", Some("4242")),
            ("•••• 42", None),
            ("••••", None),
        ] {
            assert_eq!(super::last4(masked).as_deref(), last4, "{masked}");
        }
    }
}
