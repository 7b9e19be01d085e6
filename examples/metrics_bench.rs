//! Metrics benchmark: a shop with N orders over D days (default 1,000,000 over 365) by a skewed
//! customer base (80 % accounts, 20 % guests; some order often, most once or twice), 5 % of
//! orders partly refunded and 2 % cancelled, and one confirmed earning line per member order
//! plus a redemption per 20; then the metric roll-ups are built from the stored orders (what an
//! upgraded instance does once per shop) and `GET /api/admin/v1/metrics`'s query is timed for
//! the whole year and for its last 30 days, several runs each (min and median).
//!
//!   cargo run --release --example metrics_bench -- --orders 1000000
//!   cargo run --release --example metrics_bench -- --orders 1000000 \
//!       --database-url 'postgres://postgres@127.0.0.1:5432/metrics_bench'   # an empty database
//!
//! SQLite runs in a temporary directory. Seeding is timed apart from the build and the query.

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use clap::Parser;
use diesel::connection::SimpleConnection;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use boomerang::crypto::Keys;
use boomerang::db::models::Shop;
use boomerang::db::{new_id, now, write_transaction, DatabaseUrl, Db};
use boomerang::services::retention::{metrics_build, metrics_report};
use boomerang::services::shops::{add_shop, ShopSpec};

#[derive(Debug, Parser)]
#[command(about = "Boomerang metrics benchmark")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    orders: u64,
    #[arg(long, default_value_t = 300_000)]
    customers: u64,
    #[arg(long, default_value_t = 365)]
    days: i64,
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// An empty PostgreSQL database; SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
}

const ROWS_PER_STATEMENT: u64 = 2_000;
const ROWS_PER_TRANSACTION: u64 = 50_000;

fn ts(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn member_id(n: u64) -> String {
    uuid::Uuid::from_u64_pair(42, n + 1).to_string()
}

/// Statements of generated values (numbers, dates, ids we make, never outside input).
fn seed(
    conn: &mut boomerang::db::DbConnection,
    shop: &Shop,
    args: &Args,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let created = ts(now() - Duration::days(args.days + 30));
    let mut n = 0;
    while n < args.customers {
        let end = (n + ROWS_PER_TRANSACTION).min(args.customers);
        write_transaction(conn, |c| {
            while n < end {
                let stop = (n + ROWS_PER_STATEMENT).min(end);
                let values: Vec<String> = (n..stop)
                    .map(|i| {
                        // One in five a guest: no account, known by e-mail only.
                        let account = if i % 5 == 4 { "NULL".to_owned() } else { format!("'bench-{i}'") };
                        format!(
                            "('{}','{}',{account},'b{i}@example.com','0',0,0,0,'{created}','{created}','0','qualified')",
                            member_id(i),
                            shop.id
                        )
                    })
                    .collect();
                let sql = format!("INSERT INTO members (id, shop_id, platform_customer_id, email, accepts_marketing, points_balance, pending_points, lifetime_points, created_at, updated_at, email_verified, tier_held_by) VALUES {}", values.join(","));
                boomerang::per_backend!(&mut *c, |b| b.batch_execute(&sql))?;
                n = stop;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    let mut rng = StdRng::seed_from_u64(1);
    let mut o = 0;
    while o < args.orders {
        let end = (o + ROWS_PER_TRANSACTION).min(args.orders);
        write_transaction(conn, |c| {
            while o < end {
                let stop = (o + ROWS_PER_STATEMENT).min(end);
                let (mut orders, mut lines) = (Vec::new(), Vec::new());
                for i in o..stop {
                    // Skewed: a few customers order often, most rarely.
                    let r: f64 = rng.gen();
                    let customer = ((r * r * r) * args.customers as f64) as u64;
                    let member = member_id(customer.min(args.customers - 1));
                    let day = today - Duration::days(rng.gen_range(0..args.days));
                    let at = ts(day
                        .and_hms_opt(rng.gen_range(0..24), 0, 0)
                        .unwrap_or_default());
                    let total: i64 = rng.gen_range(1_000..20_000);
                    let roll = rng.gen_range(0..100);
                    let refunded = if roll < 5 { total / 4 } else { 0 };
                    let cancelled = if (5..7).contains(&roll) { "1" } else { "0" };
                    orders.push(format!(
                        "('bo-{i}','{}','{i}','{member}','paid','{cancelled}','USD',{total},{total},{refunded},'{{}}','{at}','{at}','{at}','{at}')",
                        shop.id
                    ));
                    if customer % 5 != 4 {
                        lines.push(format!(
                            "('bl-{i}','{}','{member}',{},'earn','confirmed','order','{i}','earn','order:{i}:earn','{at}','{at}')",
                            shop.id,
                            total / 100
                        ));
                        if i % 20 == 0 {
                            lines.push(format!(
                                "('br-{i}','{}','{member}',-500,'redeem','confirmed','redemption','{i}','redeem','redeem:{i}','{at}','{at}')",
                                shop.id
                            ));
                        }
                    }
                }
                let sql = format!(
                    "INSERT INTO orders (id, shop_id, platform_order_id, member_id, financial_status, cancelled, currency, subtotal_minor, total_minor, refunded_minor, snapshot, placed_at, platform_updated_at, created_at, updated_at) VALUES {};
                     INSERT INTO ledger_entries (id, shop_id, member_id, delta, kind, status, source, source_id, action, idempotency_key, created_at, updated_at) VALUES {};",
                    orders.join(","),
                    lines.join(",")
                );
                let sql = if matches!(c, boomerang::db::DbConnection::Postgresql(_)) {
                    sql.replace("'0','USD'", "false,'USD'")
                        .replace("'1','USD'", "true,'USD'")
                } else {
                    sql
                };
                boomerang::per_backend!(&mut *c, |b| b.batch_execute(&sql))?;
                o = stop;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    Ok(())
}

fn timed<T>(
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<(f64, f64, T)> {
    let mut ms = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let started = Instant::now();
        last = Some(f()?);
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let min = ms.first().copied().unwrap_or_default();
    let median = ms.get(ms.len() / 2).copied().unwrap_or_default();
    Ok((min, median, last.ok_or_else(|| anyhow::anyhow!("no run"))?))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!("sqlite://{}", dir.path().join("bench.sqlite3").display()),
    };
    let url = DatabaseUrl::parse(&url).map_err(anyhow::Error::msg)?;
    let db = Db::connect(&url, 4)?;
    db.migrate()?;
    let mut conn = db.get()?;
    let keys = Keys::derive(&"b".repeat(32).into());
    let shop = add_shop(
        &mut conn,
        &keys,
        &ShopSpec {
            platform: Some(boomerang::db::types::Platform::Shopify),
            domain: format!("bench-{}.myshopify.com", new_id().to_lowercase()),
            ..ShopSpec::default()
        },
    )?
    .shop;
    let today = now().date();
    let started = Instant::now();
    seed(&mut conn, &shop, &args, today)?;
    println!(
        "seeded {} orders by {} customers over {} days in {:.1} s",
        args.orders,
        args.customers,
        args.days,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let walked = metrics_build::build_once(&mut conn, &shop.id, now())?;
    println!(
        "roll-ups built from {:?} stored orders in {:.1} s",
        walked,
        started.elapsed().as_secs_f64()
    );
    let shop = Shop::find(&mut conn, &shop.id)?;
    let year = (today - Duration::days(args.days - 1), today);
    let month = (today - Duration::days(29), today);
    for (name, (from, to)) in [("the whole period", year), ("its last 30 days", month)] {
        let (min, median, report) = timed(args.runs, || {
            Ok(metrics_report::report(&mut conn, &shop, from, to)?)
        })?;
        println!(
            "metrics for {name} ({from}..{to}), {} runs: min {min:.1} ms, median {median:.1} ms",
            args.runs
        );
        let mut shown = serde_json::to_value(&report)?;
        if let Some(series) = shown.get_mut("series").and_then(|s| s.as_array_mut()) {
            let days = series.len();
            series.truncate(1);
            println!("  ({days} series days; the first shown)");
        }
        println!("  {shown}");
    }
    Ok(())
}
