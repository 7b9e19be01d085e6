//! Shopify webhook bodies through `payload::map_shopify`, for every topic the app subscribes to
//! (and one it does not). Mapping must never panic; an `Err` is a fine answer to a bad body.
//!
//! The input is the raw body, read as the app reads a stored delivery (lossy UTF-8, then JSON).
//! The shop's currency is the body's own top-level `currency` when it names a valid one (so the
//! fuzzer can reach JPY's 0 and KWD's 3 decimal places), else USD.

#![no_main]

use boomerang::domain::event::Event;
use boomerang::domain::money::Currency;
use boomerang::platform::shopify::payload::map_shopify;
use boomerang::platform::shopify::webhook::TOPICS;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn shop_currency(body: &Value) -> Currency {
    body.get("currency")
        .and_then(Value::as_str)
        .and_then(|c| Currency::parse(c).ok())
        .unwrap_or_else(|| Currency {
            code: "USD".to_owned(),
            exponent: 2,
        })
}

/// Facts the rest of the app relies on, for any event the mapper accepted.
fn check(topic: &str, event: &Event, shop: &Currency) {
    match event {
        Event::Order(o) | Event::OrderCancelled(o) => {
            assert_eq!(
                o.currency, shop.code,
                "{topic}: order not in the shop's currency"
            );
            for line in &o.lines {
                assert!(line.quantity >= 0, "{topic}: negative quantity accepted");
            }
        }
        Event::Refund(r) => {
            for line in &r.lines {
                assert!(
                    line.quantity >= 0,
                    "{topic}: negative refund quantity accepted"
                );
            }
        }
        Event::Customer(c) => assert!(c.customer.id.is_some(), "{topic}: customer without id"),
        Event::CustomerDataRequest { customer, .. } | Event::CustomerRedact { customer, .. } => {
            assert!(
                customer.id.is_some() || customer.email.is_some(),
                "{topic}: privacy request names nobody"
            );
        }
        _ => {}
    }
    // Events are stored as JSON and read back later: that must give the same event.
    let stored = serde_json::to_string(event)
        .unwrap_or_else(|e| panic!("{topic}: event does not serialise: {e}"));
    let back: Event = serde_json::from_str(&stored)
        .unwrap_or_else(|e| panic!("{topic}: stored event does not read back: {e}\n{stored}"));
    assert_eq!(&back, event, "{topic}: event changed through storage");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return;
    };
    let shop = shop_currency(&body);
    for topic in TOPICS {
        let result = map_shopify(topic, &body, &shop);
        match &result {
            Ok(Some(event)) => check(topic, event, &shop),
            Ok(None) => panic!("{topic} is subscribed but was ignored"),
            Err(e) => {
                // The error names a field and renders without panicking.
                let _ = e.to_string();
            }
        }
    }
    // Topic names are matched case- and space-insensitively; an unknown topic is ignored.
    let i = data.len() % TOPICS.len();
    if let Some(topic) = TOPICS.get(i) {
        let shouted = format!(" {}\n", topic.to_ascii_uppercase());
        assert_eq!(
            map_shopify(&shouted, &body, &shop),
            map_shopify(topic, &body, &shop),
            "{shouted:?} mapped differently from {topic:?}"
        );
    }
    assert_eq!(map_shopify("products/create", &body, &shop), Ok(None));
});
