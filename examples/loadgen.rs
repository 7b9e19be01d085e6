//! Load generator: sends N distinct signed `orders/paid` webhooks (the real fixture's shape),
//! with duplicates and shuffling at a chosen rate, at a chosen concurrency; reads back every
//! customer's points through the admin API and checks them against what was sent; then drives
//! widget state reads. Prints throughput, latency percentiles, non-2xx counts and the check.
//!
//! Run against a server with the default program (1 point per whole unit, paid orders earn):
//!   cargo run --release                                   # terminal 1
//!   cargo run --release --example loadgen -- --orders 20000 --concurrency 64
//!
//! `--program plain` (the default) first resets the shop's program to the defaults (the demo
//! shop's tiers multiply points); `--program tiers` runs with tiers evaluated on every order.
//!
//! Only loopback or your own test hosts are valid targets.

use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};

#[derive(Debug, Parser)]
#[command(about = "Boomerang load generator")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    #[arg(long, default_value = "boomerang-demo.myshopify.com")]
    shop: String,
    #[arg(
        long,
        env = "SHOPIFY_API_SECRET",
        default_value = "boomerang-demo-secret"
    )]
    secret: String,
    #[arg(long, env = "SHOPIFY_API_KEY", default_value = "boomerang-demo-key")]
    api_key: String,
    /// Distinct orders to send.
    #[arg(long, default_value_t = 10_000)]
    orders: usize,
    /// Distinct customers the orders spread over.
    #[arg(long, default_value_t = 500)]
    customers: u64,
    /// Share of deliveries sent a second time (same webhook id).
    #[arg(long, default_value_t = 0.2)]
    duplicate_rate: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Widget state reads after the webhooks (0: none).
    #[arg(long, default_value_t = 20_000)]
    state_reads: usize,
    /// The program the shop runs during the load: `plain` (the default program, no tiers) or
    /// `tiers` (three points-earned tiers with x1 multipliers, so every order is also evaluated
    /// for a tier while the expected totals stay 1 point per unit). Set through the admin API
    /// before the first delivery; it replaces the shop's program.
    #[arg(long, default_value = "plain", value_parser = ["plain", "tiers"])]
    program: String,
}

const TIERS_PROGRAM: &str = r#"{"earning": {"pending_days": 0}, "tiers": {"basis": "points_earned",
  "window": "rolling_12_months", "levels": [
    {"id": "bronze", "name": "Bronze", "threshold": 0},
    {"id": "silver", "name": "Silver", "threshold": 1000},
    {"id": "gold", "name": "Gold", "threshold": 3000}]}}"#;

/// Latency summary of one phase.
struct Phase {
    name: &'static str,
    latencies: Vec<Duration>,
    non_2xx: usize,
    errors: usize,
    elapsed: Duration,
}

impl Phase {
    fn print(&mut self) {
        self.latencies.sort();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or_default()
        };
        let n = self.latencies.len();
        println!(
            "{:<9} {n:>7} requests in {:>6.2} s = {:>8.0}/s   p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   non-2xx {}   errors {}",
            self.name,
            self.elapsed.as_secs_f64(),
            n as f64 / self.elapsed.as_secs_f64().max(1e-9),
            pct(0.50).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
            self.latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
            self.non_2xx,
            self.errors,
        );
    }
}

/// Replaces one top-level field of the order.
fn set(order: &mut Value, key: &str, value: Value) {
    if let Some(map) = order.as_object_mut() {
        map.insert(key.to_owned(), value);
    }
}

fn order_body(template: &Value, order_id: u64, customer_id: u64, units: u64) -> String {
    let mut o = template.clone();
    // The fixture's money in shop currency (`*_set`) and net of edits (`current_*`) would take
    // precedence over the plain fields set below: drop them.
    if let Some(map) = o.as_object_mut() {
        map.retain(|k, _| !(k.ends_with("_set") || k.starts_with("current_")));
    }
    let price = format!("{units}.00");
    set(&mut o, "id", json!(order_id));
    set(&mut o, "name", json!(format!("#LG{order_id}")));
    set(
        &mut o,
        "email",
        json!(format!("load-{customer_id}@example.com")),
    );
    set(&mut o, "financial_status", json!("paid"));
    set(&mut o, "cancelled_at", Value::Null);
    set(&mut o, "test", json!(false));
    set(&mut o, "currency", json!("USD"));
    set(&mut o, "subtotal_price", json!(price));
    set(&mut o, "total_price", json!(price));
    set(&mut o, "total_discounts", json!("0.00"));
    set(&mut o, "total_tax", json!("0.00"));
    set(
        &mut o,
        "customer",
        json!({"id": customer_id, "email": format!("load-{customer_id}@example.com")}),
    );
    set(&mut o, "shipping_lines", json!([]));
    set(
        &mut o,
        "total_shipping_price_set",
        json!({"shop_money": {"amount": "0.00", "currency_code": "USD"}}),
    );
    set(&mut o, "discount_codes", json!([]));
    set(&mut o, "discount_applications", json!([]));
    set(
        &mut o,
        "line_items",
        json!([{
            "id": order_id * 10, "product_id": 1, "variant_id": 2, "quantity": 1, "current_quantity": 1,
            "price": price, "total_discount": "0.00", "gift_card": false, "title": "Load item",
            "price_set": {"shop_money": {"amount": price, "currency_code": "USD"}},
            "total_discount_set": {"shop_money": {"amount": "0.00", "currency_code": "USD"}},
            "discount_allocations": [], "tax_lines": []
        }]),
    );
    o.to_string()
}

fn session_token(shop: &str, api_key: &str, secret: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = json!({"iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"), "aud": api_key,
        "sub": "1", "exp": now + 60, "nbf": now - 1, "iat": now, "jti": now.to_string(), "sid": "loadgen"});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap_or_default()
}

/// A request ready to send: signed before the clock starts, as the platform signs on its side.
struct Prepared {
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Option<String>,
}

/// Sends `requests` with `concurrency` in flight; times each.
async fn measure(
    name: &'static str,
    client: &reqwest::Client,
    requests: Vec<Prepared>,
    concurrency: usize,
) -> Phase {
    let started = Instant::now();
    let results: Vec<(Duration, Option<u16>)> = stream::iter(requests)
        .map(|r| {
            let client = client.clone();
            async move {
                let mut request = match r.body {
                    Some(body) => client.post(&r.url).body(body),
                    None => client.get(&r.url),
                };
                for (name, value) in r.headers {
                    request = request.header(name, value);
                }
                let t = Instant::now();
                let status = request.send().await.ok().map(|r| r.status().as_u16());
                (t.elapsed(), status)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    Phase {
        name,
        non_2xx: results
            .iter()
            .filter(|(_, s)| s.is_some_and(|s| !(200..300).contains(&s)))
            .count(),
        errors: results.iter().filter(|(_, s)| s.is_none()).count(),
        latencies: results.into_iter().map(|(d, _)| d).collect(),
        elapsed: started.elapsed(),
    }
}

/// Customers whose total (spendable + pending) differs from what was sent.
/// Whether the shop's inbox still holds deliveries waiting to be applied.
async fn pending_webhooks(client: &reqwest::Client, args: &Args) -> anyhow::Result<bool> {
    let token = session_token(&args.shop, &args.api_key, &args.secret);
    let page: Value = client
        .get(format!(
            "{}/api/admin/v1/webhooks?status=pending&limit=1",
            args.url
        ))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(page
        .get("events")
        .and_then(Value::as_array)
        .is_none_or(|events| !events.is_empty()))
}

async fn wrong_totals(
    client: &reqwest::Client,
    args: &Args,
    expected: &std::collections::HashMap<u64, i64>,
    report: bool,
) -> anyhow::Result<usize> {
    let mut wrong = 0;
    for (customer, points) in expected {
        // Shopify's tokens live a minute (the app refuses longer ones): one per read.
        let token = session_token(&args.shop, &args.api_key, &args.secret);
        let got: Value = client
            .get(format!("{}/api/admin/v1/customers/{customer}", args.url))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let points_of = |key: &str| got.get(key).and_then(Value::as_i64);
        let total =
            points_of("pending_points").unwrap_or(-1) + points_of("points_balance").unwrap_or(0);
        if total != *points {
            wrong += 1;
            if report && wrong <= 5 {
                eprintln!("customer {customer}: expected {points}, got {got}");
            }
        }
    }
    Ok(wrong)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let template: Value =
        serde_json::from_str(include_str!("../tests/fixtures/shopify/orders_create.json"))?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let program = match args.program.as_str() {
        "tiers" => TIERS_PROGRAM,
        _ => "{}",
    };
    client
        .put(format!("{}/api/admin/v1/program", args.url))
        .bearer_auth(session_token(&args.shop, &args.api_key, &args.secret))
        .header("Content-Type", "application/json")
        .body(program)
        .send()
        .await?
        .error_for_status()?;
    let mut rng = rand::thread_rng();
    // Ids unique to this run, so runs against the same database do not mix.
    let run = u64::try_from(chrono::Utc::now().timestamp())? * 1_000_000;
    let customers: Vec<u64> = (0..args.customers).map(|i| run + i).collect();
    let mut expected = std::collections::HashMap::<u64, i64>::new();
    let mut deliveries: Vec<Prepared> = Vec::with_capacity(args.orders * 2);
    let url = format!("{}/webhooks/shopify", args.url);
    for i in 0..args.orders as u64 {
        let customer = *customers.choose(&mut rng).unwrap_or(&run);
        let units = rng.gen_range(5..500);
        *expected.entry(customer).or_default() += i64::try_from(units)?;
        let body = order_body(&template, run + i, customer, units);
        let delivery = || Prepared {
            url: url.clone(),
            headers: vec![
                ("Content-Type", "application/json".into()),
                ("X-Shopify-Topic", "orders/paid".into()),
                ("X-Shopify-Shop-Domain", args.shop.clone()),
                ("X-Shopify-Webhook-Id", format!("lg-{run}-{i}")),
                (
                    "X-Shopify-Hmac-Sha256",
                    boomerang::platform::shopify::webhook::sign(body.as_bytes(), &args.secret),
                ),
            ],
            body: Some(body.clone()),
        };
        if rng.gen_bool(args.duplicate_rate.clamp(0.0, 1.0)) {
            deliveries.push(delivery());
        }
        deliveries.push(delivery());
    }
    deliveries.shuffle(&mut rng);
    println!(
        "sending {} deliveries ({} orders, {} customers) at concurrency {}",
        deliveries.len(),
        args.orders,
        args.customers,
        args.concurrency
    );
    let mut webhooks = measure("webhooks", &client, deliveries, args.concurrency).await;
    webhooks.print();

    // Acknowledged means stored; under a burst the applier may still be applying. Wait until
    // the shop's inbox has nothing pending (one cheap admin request every 20 ms, so the wait
    // does not slow the applier down), then read every customer's total back and compare.
    let waiting = Instant::now();
    let deadline = waiting + Duration::from_secs(300);
    while pending_webhooks(&client, &args).await? && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied_after = (webhooks.elapsed + waiting.elapsed()).as_secs_f64();
    let mut wrong = wrong_totals(&client, &args, &expected, false).await?;
    while wrong > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        wrong = wrong_totals(&client, &args, &expected, false).await?;
    }
    if wrong > 0 {
        wrong = wrong_totals(&client, &args, &expected, true).await?;
    }
    println!(
        "applied   all {} orders within {:.2} s of the first delivery = {:.0} orders/s end to end",
        args.orders,
        applied_after,
        args.orders as f64 / applied_after.max(1e-9)
    );
    println!(
        "check     {} customers, {} with a wrong total: {}",
        expected.len(),
        wrong,
        if wrong == 0 { "EXACT" } else { "MISMATCH" }
    );

    if args.state_reads > 0 {
        let reads: Vec<Prepared> = (0..args.state_reads)
            .map(|i| {
                let customer = customers.get(i % customers.len().max(1)).copied().unwrap_or(run);
                let q = format!(
                    "shop={}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
                    args.shop,
                    chrono::Utc::now().timestamp()
                );
                let signature = boomerang::platform::shopify::app_proxy::sign(&q, &args.secret);
                Prepared {
                    url: format!("{}/proxy/state?{q}&signature={signature}", args.url),
                    headers: Vec::new(),
                    body: None,
                }
            })
            .collect();
        measure("state", &client, reads, args.concurrency)
            .await
            .print();
    }
    if wrong > 0 {
        anyhow::bail!("{wrong} customers have a wrong total");
    }
    Ok(())
}
