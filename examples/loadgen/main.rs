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
//! `--platform woocommerce --shop shop.example --webhook-secret S --shop-api-key K` loads the
//! WooCommerce path instead (the shop added with `boomerang shop add --platform woocommerce`).
//!
//! Only loopback or your own test hosts are valid targets.

use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::Value;

mod bigcommerce;
mod platform;

/// The server's allocator: the generator shares the machine's cores with the server it
/// measures, and glibc's allocator was a third of its samples (freeing the deliveries' bodies).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use platform::Target;

#[derive(Debug, Parser)]
#[command(about = "Boomerang load generator")]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// More instances of the app on the same database: webhooks and state reads are spread
    /// over `--url` and these in turn, as a load balancer would (a redelivery goes to the next
    /// instance); the admin calls go to `--url`.
    #[arg(long)]
    also_url: Vec<String>,
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
    /// The webhook path loaded: `shopify` (the app's secret signs, `--shop` is a
    /// myshopify domain) or `woocommerce` (the shop's own `--webhook-secret` signs, admin calls
    /// use `--shop-api-key`, state reads go through `/widget/v1` with the customer digest).
    ///
    /// `bigcommerce`: thin webhooks with the shop's header secret (`--webhook-secret`); this
    /// process serves the fake BigCommerce API the shop was added with (`shop add --platform
    /// bigcommerce --domain store-load --access-token T --api-base http://{--fake-api}`), and
    /// the server must run jobs (`RUN_JOBS=true`): each order is read back by a job.
    #[arg(long, default_value = "shopify", value_parser = ["shopify", "woocommerce", "bigcommerce"])]
    platform: String,
    /// BigCommerce: where this process serves the fake API.
    #[arg(long, default_value = "127.0.0.1:18099")]
    fake_api: String,
    /// WooCommerce: the secret the shop's webhooks are signed with; BigCommerce: the header
    /// secret its webhooks carry (both `shop add --webhook-secret`).
    #[arg(long, env = "WOO_WEBHOOK_SECRET", default_value = "")]
    webhook_secret: String,
    /// WooCommerce and BigCommerce: the shop's admin API key (printed by `shop add`).
    #[arg(long, env = "SHOP_API_KEY", default_value = "")]
    shop_api_key: String,
}

/// The platform the run loads, with what it needs to sign and authenticate.
async fn target(client: &reqwest::Client, args: &Args) -> anyhow::Result<Target> {
    if args.platform != "shopify" {
        anyhow::ensure!(
            !args.webhook_secret.is_empty() && !args.shop_api_key.is_empty(),
            "--platform {} needs --webhook-secret and --shop-api-key",
            args.platform
        );
        let shop: Value = client
            .get(format!("{}/api/admin/v1/shop", args.url))
            .bearer_auth(&args.shop_api_key)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let widget_secret = shop
            .get("widget_secret")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow::anyhow!("the shop's answer has no widget_secret"))?;
        if args.platform == "bigcommerce" {
            let template: Value = serde_json::from_str(include_str!(
                "../../tests/fixtures/bigcommerce/order_document.json"
            ))?;
            let orders = bigcommerce::Orders::default();
            let fake_api = bigcommerce::serve(&args.fake_api, template, orders.clone()).await?;
            return Ok(Target::BigCommerce {
                shop: args.shop.clone(),
                header_secret: args.webhook_secret.clone(),
                shop_api_key: args.shop_api_key.clone(),
                widget_secret: widget_secret.to_owned(),
                orders,
                _fake_api: fake_api,
            });
        }
        return Ok(Target::WooCommerce {
            shop: args.shop.clone(),
            webhook_secret: args.webhook_secret.clone(),
            shop_api_key: args.shop_api_key.clone(),
            widget_secret: widget_secret.to_owned(),
            template: serde_json::from_str(include_str!(
                "../../tests/fixtures/woocommerce/order_created.json"
            ))?,
        });
    }
    Ok(Target::Shopify {
        shop: args.shop.clone(),
        api_key: args.api_key.clone(),
        secret: args.secret.clone(),
        template: serde_json::from_str(include_str!(
            "../../tests/fixtures/shopify/orders_create.json"
        ))?,
    })
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

/// A request ready to send: signed before the clock starts, as the platform signs on its side.
#[derive(Clone)]
pub struct Prepared {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
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

/// Every point the shop holds (pending and spendable), from the liability report.
async fn held_points(
    client: &reqwest::Client,
    args: &Args,
    target: &Target,
) -> anyhow::Result<i64> {
    let report: Value = client
        .get(format!("{}/api/admin/v1/reports/liability", args.url))
        .bearer_auth(target.admin_bearer())
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let points = |key: &str| {
        report
            .pointer(&format!("/{key}/points"))
            .and_then(Value::as_i64)
            .unwrap_or(0)
    };
    Ok(points("pending") + points("outstanding"))
}

/// Customers whose total (spendable + pending) differs from what was sent.
/// Whether the shop's inbox still holds deliveries waiting to be applied.
async fn pending_webhooks(
    client: &reqwest::Client,
    args: &Args,
    target: &Target,
) -> anyhow::Result<bool> {
    let token = target.admin_bearer();
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
    target: &Target,
    expected: &std::collections::HashMap<u64, i64>,
    report: bool,
) -> anyhow::Result<usize> {
    let mut wrong = 0;
    for (customer, points) in expected {
        let token = target.admin_bearer();
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

// One thread: the generator shares the machine's two cores with the server it measures, and
// a second runtime thread only added wake-ups between them (its CPU per burst −20 %).
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;
    let target = target(&client, &args).await?;
    let program = match args.program.as_str() {
        "tiers" => TIERS_PROGRAM,
        _ => "{}",
    };
    client
        .put(format!("{}/api/admin/v1/program", args.url))
        .bearer_auth(target.admin_bearer())
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
    let instances: Vec<&str> = std::iter::once(args.url.as_str())
        .chain(args.also_url.iter().map(String::as_str))
        .collect();
    let instance = |n: u64| {
        let n = usize::try_from(n).unwrap_or(0) % instances.len();
        instances.get(n).copied().unwrap_or(args.url.as_str())
    };
    for i in 0..args.orders as u64 {
        let customer = *customers.choose(&mut rng).unwrap_or(&run);
        let units = rng.gen_range(5..500);
        *expected.entry(customer).or_default() += i64::try_from(units)?;
        // Signed once: a redelivery is the same bytes under the same delivery id.
        let delivery = target.delivery(
            instance(i),
            run + i,
            customer,
            units,
            &format!("lg-{run}-{i}"),
        );
        if rng.gen_bool(args.duplicate_rate.clamp(0.0, 1.0)) {
            let mut again = delivery.clone();
            again.url = again.url.replacen(instance(i), instance(i + 1), 1);
            deliveries.push(again);
        }
        deliveries.push(delivery);
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
    while pending_webhooks(&client, &args, &target).await? && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if matches!(target, Target::BigCommerce { .. }) {
        // A thin webhook is applied by queueing a read of the order; the points arrive when
        // the read's document is applied. Wait until the shop holds every point sent.
        let sent: i64 = expected.values().sum();
        while held_points(&client, &args, &target).await? < sent && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let applied_after = (webhooks.elapsed + waiting.elapsed()).as_secs_f64();
    let mut wrong = wrong_totals(&client, &args, &target, &expected, false).await?;
    while wrong > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        wrong = wrong_totals(&client, &args, &target, &expected, false).await?;
    }
    if wrong > 0 {
        wrong = wrong_totals(&client, &args, &target, &expected, true).await?;
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
                let customer = customers
                    .get(i % customers.len().max(1))
                    .copied()
                    .unwrap_or(run);
                target.state_read(instance(u64::try_from(i).unwrap_or(0)), customer)
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
