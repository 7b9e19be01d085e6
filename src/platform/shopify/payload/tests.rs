use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;

/// Fixtures copied from shared/fixtures; one place to change if they move.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn load(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn cad() -> Currency {
    Currency::parse("CAD").unwrap()
}

fn map(topic: &str, body: &Value, currency: &Currency) -> Event {
    map_shopify(topic, body, currency).unwrap().unwrap()
}

fn order_of(topic: &str, body: &Value, currency: &Currency) -> OrderFacts {
    match map(topic, body, currency) {
        Event::Order(o) | Event::OrderCancelled(o) => o,
        other => panic!("not an order: {other:?}"),
    }
}

fn refund_of(body: &Value, currency: &Currency) -> RefundFacts {
    match map("refunds/create", body, currency) {
        Event::Refund(r) => r,
        other => panic!("not a refund: {other:?}"),
    }
}

fn customer_of(topic: &str, body: &Value) -> CustomerFacts {
    match map(topic, body, &usd()) {
        Event::Customer(c) => c,
        other => panic!("not a customer: {other:?}"),
    }
}

fn err(topic: &str, body: &Value, currency: &Currency) -> MappingError {
    map_shopify(topic, body, currency).unwrap_err()
}

fn id(s: &str) -> PlatformId {
    PlatformId::parse(s).unwrap()
}

/// Sets (or with `None` removes) `key` of the object at JSON pointer `at`.
fn edit(body: &mut Value, at: &str, key: &str, value: Option<Value>) {
    let object = body.pointer_mut(at).unwrap().as_object_mut().unwrap();
    match value {
        Some(v) => object.insert(key.to_owned(), v),
        None => object.remove(key),
    };
}

/// Every payload fixture, with the topic it was delivered under and the shop's currency.
const EVERY_FIXTURE: &[(&str, &str, &str)] = &[
    ("shopify/orders_create.json", "orders/create", "USD"),
    ("shopify/refunds_create.json", "refunds/create", "USD"),
    ("shopify/customers_create.json", "customers/create", "USD"),
    ("shopify/customers_redact.json", "customers/redact", "USD"),
    ("shopify/shop_redact.json", "shop/redact", "USD"),
    ("shopify/app_uninstalled.json", "app/uninstalled", "USD"),
    ("shopify-2023-01/orders_create.json", "orders/create", "CAD"),
    ("shopify-2023-01/orders_paid.json", "orders/paid", "CAD"),
    (
        "shopify-2023-01/orders_updated.json",
        "orders/updated",
        "CAD",
    ),
    (
        "shopify-2023-01/orders_cancelled.json",
        "orders/cancelled",
        "CAD",
    ),
    (
        "shopify-2023-01/refunds_create.json",
        "refunds/create",
        "CAD",
    ),
    (
        "shopify-2023-01/customers_update.json",
        "customers/update",
        "CAD",
    ),
];

#[test]
fn every_fixture_maps() {
    for (path, topic, currency) in EVERY_FIXTURE {
        let currency = Currency::parse(currency).unwrap();
        let event = map_shopify(topic, &load(path), &currency);
        assert!(matches!(event, Ok(Some(_))), "{path}: {event:?}");
    }
    // Nothing in the fixture folders is left out (headers files are not payloads).
    for folder in ["shopify", "shopify-2023-01"] {
        for entry in std::fs::read_dir(format!("{FIXTURES}/{folder}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            if name.ends_with(".json") && !name.ends_with(".headers.json") {
                let path = format!("{folder}/{name}");
                assert!(
                    EVERY_FIXTURE.iter().any(|(p, _, _)| *p == path),
                    "{path} untested"
                );
            }
        }
    }
}

#[test]
fn headers_fixture_names_the_topic() {
    let headers = load("shopify/orders_create.headers.json");
    let topic = headers["x-shopify-topic"].as_str().unwrap();
    let o = order_of(topic, &load("shopify/orders_create.json"), &usd());
    assert_eq!(o.name, "#9999");
}

#[test]
fn order_2024_10() {
    let o = order_of("orders/create", &load("shopify/orders_create.json"), &usd());
    assert_eq!(o.order_id, id("820982911946154500"));
    assert_eq!(o.name, "#9999");
    let customer = o.customer.unwrap();
    assert_eq!(customer.id, Some(id("115310627314723950")));
    assert_eq!(customer.email.as_deref(), Some("john@example.com"));
    assert_eq!(o.email.as_deref(), Some("jon@example.com"));
    assert_eq!(o.financial_status, FinancialStatus::Voided);
    let new_year = Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(
        (o.created_at, o.updated_at, o.cancelled_at),
        (new_year, new_year, Some(new_year))
    );
    assert!(o.test);
    assert_eq!(o.currency, "USD");
    let amounts = [
        o.subtotal,
        o.total_discounts,
        o.total_tax,
        o.shipping,
        o.total,
    ];
    assert_eq!(amounts.map(|m| m.minor), [38_800, 2000, 0, 1000, 38_800]);
    assert_eq!(o.lines.len(), 2);
    let first = &o.lines[0];
    assert_eq!(first.line_id, id("866550311766439000"));
    assert_eq!(o.lines[1].line_id, id("141249953214522980"));
    assert_eq!(
        (first.product_id.clone(), first.variant_id.clone()),
        (Some(id("632910392")), Some(id("808950810")))
    );
    assert_eq!(
        (
            first.quantity,
            first.unit_price.minor,
            first.total_discount.minor
        ),
        (1, 19_900, 0)
    );
    assert!(!first.gift_card);
    assert!(o.note_attributes.is_empty() && o.discount_codes.is_empty());
    assert_eq!(o.source_name.as_deref(), Some("web"));
}

#[test]
fn orders_2023_01_in_cad() {
    for (file, topic) in [
        ("orders_create", "orders/create"),
        ("orders_paid", "orders/paid"),
        ("orders_updated", "orders/updated"),
    ] {
        let event = map(
            topic,
            &load(&format!("shopify-2023-01/{file}.json")),
            &cad(),
        );
        assert!(matches!(event, Event::Order(_)), "{file}");
    }
    let cancelled = map(
        "orders/cancelled",
        &load("shopify-2023-01/orders_cancelled.json"),
        &cad(),
    );
    let Event::OrderCancelled(o) = cancelled else {
        panic!("{cancelled:?}")
    };
    assert_eq!(o.currency, "CAD");
    assert_eq!(
        o.created_at,
        Utc.with_ymd_and_hms(2023, 2, 21, 1, 49, 46).unwrap()
    );
    let amounts = [o.subtotal, o.total_discounts, o.shipping, o.total];
    assert_eq!(amounts.map(|m| m.minor), [2699, 500, 1000, 3699]);
    let prices: Vec<i64> = o.lines.iter().map(|l| l.unit_price.minor).collect();
    assert_eq!(prices, [199, 3000]);
    assert_eq!(o.lines[1].product_id, Some(id("7788537905364")));
}

#[test]
fn an_order_in_another_currency_than_the_shops_is_refused() {
    let e = err(
        "orders/paid",
        &load("shopify-2023-01/orders_paid.json"),
        &usd(),
    );
    assert_eq!(e.topic, "orders/paid");
    assert_eq!(e.field, "currency");
    let mut body = load("shopify-2023-01/orders_paid.json");
    edit(&mut body, "", "currency", None);
    let e = err("orders/paid", &body, &usd());
    assert_eq!(e.field, "line_items[0].price_set.shop_money.currency_code");
}

#[test]
fn shop_money_wins_over_presentment_money() {
    let mut body = load("shopify/orders_create.json");
    edit(&mut body, "", "presentment_currency", Some(json!("EUR")));
    edit(
        &mut body,
        "/subtotal_price_set",
        "presentment_money",
        Some(json!({"amount": "360.00", "currency_code": "EUR"})),
    );
    edit(&mut body, "", "subtotal_price", Some(json!("360.00")));
    let o = order_of("orders/paid", &body, &usd());
    assert_eq!(o.subtotal.minor, 38_800);
}

/// Removes every `*_set` field, as in payloads of API versions before price sets.
fn strip_sets(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|k, _| !k.ends_with("_set"));
            map.values_mut().for_each(strip_sets);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_sets),
        _ => {}
    }
}

#[test]
fn plain_amount_fields_are_the_fallback() {
    for (path, topic, currency) in EVERY_FIXTURE {
        let currency = Currency::parse(currency).unwrap();
        let mut body = load(path);
        strip_sets(&mut body);
        assert_eq!(
            map(topic, &body, &currency),
            map(topic, &load(path), &currency),
            "{path}"
        );
    }
}

#[test]
fn shipping_is_what_the_buyer_paid() {
    let mut body = load("shopify/orders_create.json");
    edit(&mut body, "/shipping_lines/0", "discounted_price_set", None);
    edit(
        &mut body,
        "/shipping_lines/0",
        "discounted_price",
        Some(json!("2.50")),
    );
    let mut removed = body["shipping_lines"][0].clone();
    removed["is_removed"] = json!(true);
    body["shipping_lines"].as_array_mut().unwrap().push(removed);
    assert_eq!(order_of("orders/paid", &body, &usd()).shipping.minor, 250);
    edit(&mut body, "", "shipping_lines", None);
    assert_eq!(order_of("orders/paid", &body, &usd()).shipping.minor, 1000);
    edit(&mut body, "", "total_shipping_price_set", None);
    assert_eq!(order_of("orders/paid", &body, &usd()).shipping.minor, 0);
}

#[test]
fn order_details_are_normalised() {
    let mut body = load("shopify/orders_create.json");
    edit(&mut body, "", "email", Some(json!("  Jo@Example.COM ")));
    edit(&mut body, "", "customer", None);
    edit(&mut body, "", "financial_status", None);
    edit(&mut body, "", "updated_at", None);
    edit(
        &mut body,
        "",
        "note_attributes",
        Some(json!([
            {"name": "referral", "value": "ABC"}, {"name": "count", "value": 3}
        ])),
    );
    edit(
        &mut body,
        "",
        "discount_codes",
        Some(json!([{"code": "SAVE10", "amount": "10.00", "type": "fixed_amount"}])),
    );
    let o = order_of("orders/paid", &body, &usd());
    assert_eq!(o.email.as_deref(), Some("jo@example.com"));
    assert_eq!(o.customer, None);
    assert_eq!(o.financial_status, FinancialStatus::Unknown(String::new()));
    assert_eq!(o.updated_at, o.created_at);
    let attributes = [
        ("referral".to_owned(), "ABC".to_owned()),
        ("count".to_owned(), "3".to_owned()),
    ];
    assert_eq!(o.note_attributes, attributes);
    assert_eq!(o.discount_codes, ["SAVE10"]);
    edit(&mut body, "", "email", None);
    assert_eq!(
        order_of("orders/paid", &body, &usd()).email.as_deref(),
        Some("jon@example.com")
    );
}

#[test]
fn refund_2024_10() {
    let r = refund_of(&load("shopify/refunds_create.json"), &usd());
    assert_eq!(r.refund_id, id("890088186047892400"));
    assert_eq!(r.order_id, id("820982911946154500"));
    let subtotals: Vec<i64> = r.lines.iter().map(|l| l.subtotal.minor).collect();
    assert_eq!(subtotals, [8999, 1999, 2499, 15_999, 11_999]);
    assert_eq!(r.lines[0].line_item_id, id("487817672276298560"));
    assert!(r.lines.iter().all(|l| l.quantity == 1));
    assert_eq!(r.amount.minor, 8500);
    assert_eq!(
        r.created_at,
        Some(Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap())
    );
}

#[test]
fn refund_2023_01_without_transactions_or_dates() {
    let r = refund_of(&load("shopify-2023-01/refunds_create.json"), &cad());
    let lines: Vec<(PlatformId, i64)> = r
        .lines
        .iter()
        .map(|l| (l.line_item_id.clone(), l.subtotal.minor))
        .collect();
    assert_eq!(
        lines,
        [
            (id("866550311766439000"), 199),
            (id("141249953214522980"), 3000)
        ]
    );
    assert_eq!((r.amount, r.created_at), (Money::ZERO, None));
}

#[test]
fn refund_amount_counts_successful_refunds_in_shop_money() {
    let mut body = load("shopify/refunds_create.json");
    body["transactions"][0]["status"] = json!("failure");
    body["transactions"][1]["amount_set"] =
        json!({"shop_money": {"amount": "12.00", "currency_code": "USD"}});
    let mut sale = body["transactions"][1].clone();
    sale["kind"] = json!("sale");
    body["transactions"].as_array_mut().unwrap().push(sale);
    assert_eq!(refund_of(&body, &usd()).amount.minor, 1200);
    // Only in the buyer's currency: fall back to the refund's own shop-money parts.
    let mut body = load("shopify/refunds_create.json");
    body["transactions"][0]["currency"] = json!("EUR");
    body["order_adjustments"] = json!([{"kind": "shipping_refund", "amount": "-5.00",
        "amount_set": {"shop_money": {"amount": "-5.00", "currency_code": "USD"}}}]);
    assert_eq!(
        refund_of(&body, &usd()).amount.minor,
        8999 + 1999 + 2499 + 15_999 + 11_999 + 500
    );
}

#[test]
fn a_shipping_only_refund_says_what_went_back_for_shipping_and_tax() {
    // Older API versions: a `shipping_refund` adjustment, negative when money went back.
    let mut body = load("shopify/refunds_create.json");
    body["refund_line_items"] = json!([]);
    body["transactions"] = json!([{"kind": "refund", "status": "success", "amount": "10.80"}]);
    body["order_adjustments"] = json!([{"kind": "shipping_refund", "amount": "-10.00",
        "tax_amount": "-0.80", "reason": "Shipping refund"}]);
    let r = refund_of(&body, &usd());
    assert!(r.lines.is_empty());
    assert_eq!(
        (r.amount.minor, r.shipping.minor, r.tax.minor),
        (1080, 1000, 80)
    );
    // Newer ones: `refund_shipping_lines`; a payload with both is not counted twice.
    body["refund_shipping_lines"] = json!([{"id": 1, "shipping_line_id": 2,
        "subtotal_amount_set": {"shop_money": {"amount": "10.00", "currency_code": "USD"}},
        "tax_amount_set": {"shop_money": {"amount": "0.80", "currency_code": "USD"}}}]);
    let r = refund_of(&body, &usd());
    assert_eq!((r.shipping.minor, r.tax.minor), (1000, 80));
    body["order_adjustments"] = json!([]);
    let r = refund_of(&body, &usd());
    assert_eq!((r.shipping.minor, r.tax.minor), (1000, 80));
    // A goodwill discrepancy is not shipping.
    body["refund_shipping_lines"] = json!([]);
    body["order_adjustments"] =
        json!([{"kind": "refund_discrepancy", "amount": "-10.80", "tax_amount": "0.00"}]);
    let r = refund_of(&body, &usd());
    assert_eq!((r.shipping.minor, r.tax.minor), (0, 0));
}

#[test]
fn orders_carry_their_processing_date_and_embedded_refunds() {
    let mut body = load("shopify/orders_create.json");
    body["processed_at"] = json!("2021-12-30T10:00:00Z");
    let mut refund = load("shopify/refunds_create.json");
    refund.as_object_mut().unwrap().remove("order_id");
    body["refunds"] = json!([refund]);
    let o = order_of("orders/paid", &body, &usd());
    let processed = Utc.with_ymd_and_hms(2021, 12, 30, 10, 0, 0).unwrap();
    assert_eq!(o.processed_at, Some(processed));
    assert_eq!(o.date(), processed);
    assert_eq!(o.refunds.len(), 1);
    assert_eq!(o.refunds[0].refund_id, id("890088186047892400"));
    assert_eq!(
        o.refunds[0].order_id, o.order_id,
        "the enclosing order's id"
    );
    assert_eq!(o.refunds[0].amount.minor, 8500);
    // A bad embedded refund is named by its path.
    body["refunds"][0]["transactions"][0]["amount"] = json!(true);
    let e = err("orders/paid", &body, &usd());
    assert_eq!(e.field, "refunds[0].transactions[0].amount");
}

#[test]
fn customers() {
    let c = customer_of("customers/create", &load("shopify/customers_create.json"));
    assert_eq!(c.customer.id, Some(id("706405506930370000")));
    assert_eq!(c.customer.email.as_deref(), Some("bob@biller.com"));
    assert_eq!(
        (c.first_name.as_deref(), c.last_name.as_deref()),
        (Some("Bob"), Some("Biller"))
    );
    assert!(!c.accepts_marketing);
    assert!(c.email_verified);
    assert_eq!(
        c.created_at,
        Some(Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap())
    );
    assert_eq!(c.birthday, None);
    let u = customer_of(
        "customers/update",
        &load("shopify-2023-01/customers_update.json"),
    );
    assert!(u.accepts_marketing);
    assert_eq!((u.created_at, u.updated_at), (None, None));

    let mut body = load("shopify/customers_create.json");
    body["email_marketing_consent"] =
        json!({"state": "subscribed", "opt_in_level": "single_opt_in"});
    body["birthday"] = json!("1990-02-28");
    body["first_name"] = json!("  ");
    let c = customer_of("customers/update", &body);
    assert!(c.accepts_marketing);
    assert_eq!(c.birthday, NaiveDate::from_ymd_opt(1990, 2, 28));
    assert_eq!(c.first_name, None);
    body["birthday"] = json!("28/02/1990");
    assert_eq!(customer_of("customers/update", &body).birthday, None);
    body["verified_email"] = json!(false);
    assert!(!customer_of("customers/update", &body).email_verified);
    body.as_object_mut().unwrap().remove("verified_email");
    assert!(
        !customer_of("customers/update", &body).email_verified,
        "unverified unless the platform says so"
    );
}

#[test]
fn compliance_topics() {
    let redact = map(
        "customers/redact",
        &load("shopify/customers_redact.json"),
        &usd(),
    );
    let customer = CustomerRef {
        id: Some(id("191167")),
        email: Some("john@example.com".to_owned()),
    };
    let orders = vec![id("299938"), id("280263"), id("220458")];
    assert_eq!(
        redact,
        Event::CustomerRedact {
            customer: customer.clone(),
            orders: orders.clone()
        }
    );
    let request = json!({"shop_id": 954889, "shop_domain": "x.myshopify.com", "orders_requested": [299938, "280263", 220458],
        "customer": {"id": 191167, "email": "John@Example.com", "phone": "555-625-1199"}, "data_request": {"id": 9999}});
    assert_eq!(
        map("customers/data_request", &request, &usd()),
        Event::CustomerDataRequest { customer, orders }
    );
    assert_eq!(
        map("shop/redact", &load("shopify/shop_redact.json"), &usd()),
        Event::ShopRedact
    );
    assert_eq!(
        map(
            "app/uninstalled",
            &load("shopify/app_uninstalled.json"),
            &usd()
        ),
        Event::AppUninstalled
    );
    let nobody = json!({"shop_id": 1, "customer": {"phone": "555"}, "orders_to_redact": []});
    assert_eq!(
        err("customers/redact", &nobody, &usd()).field,
        "customer.id (or customer.email)"
    );
    let e = err(
        "customers/redact",
        &json!({"customer": {"id": 1}, "orders_to_redact": [1, 2.5]}),
        &usd(),
    );
    assert_eq!(e.field, "orders_to_redact[1]");
}

#[test]
fn topics_we_do_not_use_are_ignored() {
    let body = load("shopify/orders_create.json");
    for topic in ["orders/fulfilled", "products/update", "", "orders"] {
        assert_eq!(map_shopify(topic, &body, &usd()), Ok(None), "{topic}");
    }
    assert!(matches!(
        map(" Orders/Paid ", &body, &usd()),
        Event::Order(_)
    ));
}

#[test]
fn missing_fields_are_named() {
    let cases: &[(&str, &str, &str)] = &[
        ("", "id", "id"),
        ("", "created_at", "created_at"),
        ("", "line_items", "line_items"),
        (
            "",
            "total_price_set",
            "total_price_set.shop_money.amount (or total_price)",
        ),
        ("/line_items/1", "id", "line_items[1].id"),
        ("/line_items/1", "quantity", "line_items[1].quantity"),
        (
            "/line_items/1/price_set/shop_money",
            "amount",
            "line_items[1].price_set.shop_money.amount",
        ),
    ];
    for (at, key, field) in cases {
        let mut body = load("shopify/orders_create.json");
        edit(&mut body, at, key, None);
        if *key == "total_price_set" {
            edit(&mut body, "", "total_price", None);
        }
        let e = err("orders/paid", &body, &usd());
        assert_eq!(
            (e.field.as_str(), &e.problem),
            (*field, &Problem::Missing),
            "{at}/{key}"
        );
    }
    let mut body = load("shopify/orders_create.json");
    edit(&mut body, "", "subtotal_price_set", None);
    edit(&mut body, "", "subtotal_price", Some(Value::Null));
    assert_eq!(
        err("orders/paid", &body, &usd()).field,
        "subtotal_price_set.shop_money.amount (or subtotal_price)"
    );
    for (topic, key) in [("refunds/create", "order_id"), ("customers/update", "id")] {
        let path = if topic == "refunds/create" {
            "shopify/refunds_create.json"
        } else {
            "shopify/customers_create.json"
        };
        let mut body = load(path);
        edit(&mut body, "", key, None);
        assert_eq!(err(topic, &body, &usd()).field, key);
    }
    let mut body = load("shopify/refunds_create.json");
    edit(&mut body, "/refund_line_items/2", "line_item_id", None);
    assert_eq!(
        err("refunds/create", &body, &usd()).field,
        "refund_line_items[2].line_item_id"
    );
}

#[test]
fn wrong_types_are_named() {
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("", "test", json!("yes"), "test"),
        ("", "line_items", json!({}), "line_items"),
        (
            "/line_items/0",
            "quantity",
            json!("1"),
            "line_items[0].quantity",
        ),
        (
            "/line_items/0",
            "quantity",
            json!(1.5),
            "line_items[0].quantity",
        ),
        (
            "/line_items/0",
            "gift_card",
            json!(0),
            "line_items[0].gift_card",
        ),
        (
            "/line_items/0/price_set/shop_money",
            "amount",
            json!(true),
            "line_items[0].price_set.shop_money.amount",
        ),
        ("", "customer", json!("john"), "customer"),
        ("", "email", json!(42), "email"),
        ("", "created_at", json!(1_640_995_200), "created_at"),
    ];
    for (at, key, value, field) in cases {
        let mut body = load("shopify/orders_create.json");
        edit(&mut body, at, key, Some(value));
        let e = err("orders/paid", &body, &usd());
        assert!(
            matches!(e.problem, Problem::WrongType { .. }),
            "{field}: {e}"
        );
        assert_eq!(e.field, field);
    }
    let mut body = load("shopify/orders_create.json");
    body["line_items"][1] = json!(5);
    assert_eq!(err("orders/paid", &body, &usd()).field, "line_items[1]");
    let e = err("app/uninstalled", &json!([1, 2]), &usd());
    assert_eq!(
        (e.field.as_str(), e.to_string().as_str()),
        (
            "(body)",
            "app/uninstalled: `(body)` should be an object, not an array"
        )
    );
}

#[test]
fn bad_values_are_named() {
    let cases: Vec<(&str, &str, Value, &str)> = vec![
        ("", "created_at", json!("yesterday"), "created_at"),
        (
            "/line_items/0/price_set/shop_money",
            "amount",
            json!("1e3"),
            "line_items[0].price_set.shop_money.amount",
        ),
        (
            "/line_items/0/price_set/shop_money",
            "amount",
            json!("19.999"),
            "line_items[0].price_set.shop_money.amount",
        ),
        (
            "/line_items/0",
            "quantity",
            json!(-1),
            "line_items[0].quantity",
        ),
        (
            "/total_tax_set/shop_money",
            "currency_code",
            json!("EUR"),
            "total_tax_set.shop_money.currency_code",
        ),
    ];
    for (at, key, value, field) in cases {
        let mut body = load("shopify/orders_create.json");
        edit(&mut body, at, key, Some(value));
        let e = err("orders/paid", &body, &usd());
        assert!(matches!(e.problem, Problem::Invalid(_)), "{field}: {e}");
        assert_eq!(e.field, field);
    }
}

#[test]
fn ids_are_exact_whatever_their_form() {
    let mut body = load("shopify/orders_create.json");
    body["id"] = serde_json::from_str("18446744073709551615").unwrap();
    body["line_items"][0]["id"] = json!("820982911946154508");
    body["line_items"][1]["product_id"] = json!("gid://shopify/Product/632910393");
    body["customer"]["id"] = json!(null);
    let o = order_of("orders/paid", &body, &usd());
    assert_eq!(o.order_id.as_str(), "18446744073709551615");
    assert_eq!(o.lines[0].line_id.as_str(), "820982911946154508");
    assert_eq!(o.lines[1].product_id, Some(id("632910393")));
    assert_eq!(o.customer.map(|c| c.id), Some(None));
    for bad in [
        "18446744073709551616",
        "-5",
        "1.5",
        "\"12ab\"",
        "\"\"",
        "true",
    ] {
        body["id"] = serde_json::from_str(bad).unwrap();
        let e = err("orders/paid", &body, &usd());
        assert_eq!(e.field, "id", "{bad}");
    }
}
