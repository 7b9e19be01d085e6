//! The webhook hot path, piece by piece: HMAC verification, payload mapping, earning rules.
//! `cargo bench --bench hot_path`; compare runs with criterion's saved baselines.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use secrecy::SecretString;

use boomerang::domain::earning::{award_for_order, EarningRules};
use boomerang::domain::event::Event;
use boomerang::domain::money::Currency;
use boomerang::platform::shopify::payload::map_shopify;
use boomerang::platform::shopify::webhook::{sign, verify};

const ORDER: &str = include_str!("../tests/fixtures/shopify/orders_create.json");

fn hot_path(c: &mut Criterion) {
    let secret = SecretString::from("benchmark-secret".to_owned());
    let signature = sign(ORDER.as_bytes(), "benchmark-secret");
    c.bench_function("verify_webhook_hmac", |b| {
        b.iter(|| {
            verify(
                black_box(ORDER.as_bytes()),
                black_box(&signature),
                &secret,
                None,
            )
        })
    });

    let usd = Currency::parse("USD").unwrap_or_else(|_| Currency {
        code: "USD".into(),
        exponent: 2,
    });
    c.bench_function("parse_and_map_order", |b| {
        b.iter(|| {
            let json: serde_json::Value =
                serde_json::from_str(black_box(ORDER)).unwrap_or_default();
            map_shopify("orders/paid", &json, &usd)
        })
    });

    let json: serde_json::Value = serde_json::from_str(ORDER).unwrap_or_default();
    let Ok(Some(Event::Order(order))) = map_shopify("orders/paid", &json, &usd) else {
        return;
    };
    let rules = EarningRules::default();
    c.bench_function("award_for_order", |b| {
        b.iter(|| award_for_order(black_box(&rules), black_box(&order), &|_| Vec::new(), 100))
    });
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
