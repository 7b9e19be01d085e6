//! Tier re-evaluation benchmark: seeds a fresh database with N members, each with a few dated
//! settled orders, then times `services::tiers::reevaluate_all` (what a program edit runs in the
//! background) twice: the first pass assigns everyone a tier, the second finds nothing to change.
//!
//!   cargo run --release --example tier_bench -- --members 100000
//!   cargo run --release --example tier_bench -- --members 100000 \
//!       --database-url 'postgres://postgres@127.0.0.1:5432/tier_bench'   # an empty database
//!
//! SQLite runs in a temporary directory. Seeding is not timed.

use std::time::Instant;

use chrono::{Duration, NaiveDate};
use clap::Parser;
use diesel::prelude::*;

use boomerang::crypto::Keys;
use boomerang::db::schema::{members, shops, tier_activity};
use boomerang::db::{new_id, now, write_transaction, DatabaseUrl, Db};
use boomerang::services::shops::{add_shop, ShopSpec};

#[derive(Debug, Parser)]
#[command(about = "Boomerang tier re-evaluation benchmark")]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    members: usize,
    /// Settled orders per member.
    #[arg(long, default_value_t = 3)]
    orders: usize,
    /// An empty PostgreSQL database; SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
}

const PROGRAM: &str = r#"{"tiers": {"basis": "amount_spent", "window": "rolling_12_months",
  "grace_days": 30, "levels": [
    {"id": "bronze", "name": "Bronze", "threshold": 0},
    {"id": "silver", "name": "Silver", "threshold": 30000, "earn_multiplier_pct": 125},
    {"id": "gold", "name": "Gold", "threshold": 90000, "earn_multiplier_pct": 150}]}}"#;

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
    diesel::update(shops::table.find(&shop.id))
        .set(shops::program.eq(PROGRAM))
        .execute(&mut conn)?;

    let seeded = Instant::now();
    let today = now().date();
    let at = now();
    for chunk in (0..args.members).collect::<Vec<_>>().chunks(2000) {
        write_transaction(&mut conn, |c| {
            let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
            let rows: Vec<_> = chunk
                .iter()
                .zip(&ids)
                .map(|(i, id)| {
                    (
                        members::id.eq(id.clone()),
                        members::shop_id.eq(shop.id.clone()),
                        members::platform_customer_id.eq(Some(format!("{}", 1_000_000 + i))),
                        members::accepts_marketing.eq(false),
                        members::created_at.eq(at),
                        members::updated_at.eq(at),
                    )
                })
                .collect();
            boomerang::per_backend!(&mut *c, |b| diesel::insert_into(members::table)
                .values(rows.clone())
                .execute(b))?;
            let mut activity = Vec::new();
            for (i, id) in chunk.iter().zip(&ids) {
                for o in 0..args.orders {
                    // Spread over two years so the rolling window has something to slide.
                    let days = ((i * 7 + o * 131) % 700) as i64;
                    let on: NaiveDate = today - Duration::days(days);
                    activity.push((
                        tier_activity::shop_id.eq(shop.id.clone()),
                        tier_activity::source.eq(format!("order:{i}-{o}")),
                        tier_activity::member_id.eq(id.clone()),
                        tier_activity::occurred_on.eq(on),
                        tier_activity::points.eq(((i + o) % 500) as i64),
                        tier_activity::spent_minor.eq(((i * 37 + o * 101) % 600) as i64 * 100),
                        tier_activity::orders.eq(1i64),
                        tier_activity::counts_from.eq(at),
                        tier_activity::counted.eq(true),
                        tier_activity::updated_at.eq(at),
                    ));
                }
            }
            for part in activity.chunks(1000) {
                boomerang::per_backend!(&mut *c, |b| diesel::insert_into(tier_activity::table)
                    .values(part.to_vec())
                    .execute(b))?;
            }
            Ok::<_, diesel::result::Error>(())
        })?;
    }
    println!(
        "seeded {} members with {} settled orders each in {:.1} s",
        args.members,
        args.orders,
        seeded.elapsed().as_secs_f64()
    );
    for pass in [
        "first pass (assigns tiers)",
        "second pass (nothing changes)",
    ] {
        let started = Instant::now();
        let done = boomerang::services::tiers::reevaluate_all(&mut conn, &shop.id, now())?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "{pass}: {} members evaluated, {} changed, {secs:.2} s ({:.0} members/s)",
            done.evaluated,
            done.changed,
            done.evaluated as f64 / secs
        );
    }
    Ok(())
}
