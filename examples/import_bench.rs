//! Customer import benchmark: a CSV of N rows (new customers with a balance, a tier on every
//! tenth row, a birthday on every fifth) through `services::customers::import::run`, timed
//! twice: the first import enrols and credits everyone, the second recognises every row.
//!
//!   cargo run --release --example import_bench -- --rows 100000
//!   cargo run --release --example import_bench -- --rows 100000 \
//!       --database-url 'postgres://postgres@127.0.0.1:5432/import_bench'   # an empty database
//!
//! SQLite runs in a temporary directory. Writing the CSV is not timed.

use std::fmt::Write as _;
use std::time::Instant;

use clap::Parser;
use diesel::prelude::*;

use boomerang::crypto::Keys;
use boomerang::db::schema::shops;
use boomerang::db::{new_id, now, DatabaseUrl, Db};
use boomerang::services::customers::import;
use boomerang::services::shops::{add_shop, ShopSpec};

#[derive(Debug, Parser)]
#[command(about = "Boomerang customer import benchmark")]
struct Args {
    #[arg(long, default_value_t = 100_000)]
    rows: usize,
    /// An empty PostgreSQL database; SQLite in a temporary directory when absent.
    #[arg(long)]
    database_url: Option<String>,
}

const PROGRAM: &str = r#"{"tiers": {"basis": "orders", "window": "lifetime", "grace_days": 0,
  "levels": [{"id": "silver", "name": "Silver", "threshold": 1},
             {"id": "gold", "name": "Gold", "threshold": 5}]}}"#;

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
    let shop = boomerang::db::models::Shop::find(&mut conn, &shop.id)?;

    let mut csv = String::from("customer_id,email,points,tier,birthday\n");
    for i in 0..args.rows {
        let tier = if i % 10 == 0 { "gold" } else { "" };
        let birthday = if i % 5 == 0 { "1990-06-15" } else { "" };
        writeln!(
            csv,
            "{},customer{i}@example.com,{},{tier},{birthday}",
            5_000_000 + i,
            100 + i % 900
        )?;
    }
    println!(
        "{} rows, {:.1} MiB",
        args.rows,
        csv.len() as f64 / 1048576.0
    );
    for pass in ["first import", "same file again"] {
        let started = Instant::now();
        let report = import::run(&mut conn, &shop, csv.as_bytes(), now())?;
        let took = started.elapsed();
        println!(
            "{pass}: {:.2} s ({:.0} rows/s): imported {}, unchanged {}, failed {}",
            took.as_secs_f64(),
            args.rows as f64 / took.as_secs_f64(),
            report.imported,
            report.unchanged,
            report.failed
        );
    }
    Ok(())
}
