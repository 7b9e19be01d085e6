//! `boomerang seed-customers` and `segment-customers`: a shop filled with customers and orders,
//! and its daily segmentation run and timed, for measuring retention at scale.

use clap::Args;

use crate::config::Config;
use crate::db::types::Platform;
use crate::db::write_transaction;
use crate::services::shops::{add_shop, find_shop, ShopSpec};
use crate::startup::prepare;

use super::blocking;

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
    /// How many customers.
    #[arg(long, default_value_t = 1_000_000)]
    pub count: u64,
    /// The random seed (the same seed makes the same customers).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also switch win-back on for the shop (the contract's example: lapsed after 90 days, two
    /// steps, a 10 % hold-out, two subject variants), so the daily pass selects lapsed customers.
    #[arg(long)]
    pub win_back: bool,
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    /// The shop's domain.
    #[arg(long)]
    pub domain: String,
}

/// `seed-customers`: fills a shop with customers and years of orders, for measuring at scale.
pub async fn seed_customers(config: Config, args: SeedArgs) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let seeded = blocking(move || {
        let (db, keys) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = match find_shop(&mut conn, &args.domain, None) {
            Ok(shop) => shop,
            Err(crate::services::shops::FindShopError::NotFound(_)) => {
                let spec = ShopSpec {
                    platform: Some(Platform::Shopify),
                    domain: args.domain.clone(),
                    ..Default::default()
                };
                write_transaction(&mut conn, |c| add_shop(c, &keys, &spec))?.shop
            }
            Err(e) => return Err(e.into()),
        };
        let now = crate::db::now();
        let today =
            crate::domain::calendar::local_date(crate::domain::calendar::zone(&shop.timezone), now);
        let seeded = crate::services::retention::seed::seed(
            &mut conn, &shop.id, args.count, args.seed, today, now,
        )?;
        crate::services::retention::backfill::mark_done(&mut conn, &shop.id, now)?;
        if args.win_back {
            crate::services::retention::seed::switch_on_win_back(&mut conn, &shop.id)?;
        }
        Ok::<_, anyhow::Error>(seeded)
    })
    .await??;
    println!(
        "seeded {} customers and {} orders in {:.1} s",
        seeded.customers,
        seeded.orders,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `segment-customers`: the shop's daily segmentation now, with what it did and its time.
pub async fn segment_customers(config: Config, args: SegmentArgs) -> anyhow::Result<()> {
    let (report, elapsed) = blocking(move || {
        let (db, _) = prepare(&config)?;
        let mut conn = db.get()?;
        let shop = find_shop(&mut conn, &args.domain, None)?;
        let started = std::time::Instant::now();
        let daily = crate::services::retention::daily_pass(&mut conn, &shop, crate::db::now())?;
        Ok::<_, anyhow::Error>((daily, started.elapsed()))
    })
    .await??;
    let entered = report.entered_win_back;
    let report = report.segments;
    let counts: Vec<String> = crate::domain::retention::Segment::ALL
        .iter()
        .zip(report.counts)
        .map(|(s, n)| format!("{}={n}", s.as_str()))
        .collect();
    println!(
        "segmented {} customers in {:.2} s ({} changed; {entered} entered win-back; shop median gap {:?} days; {})",
        report.customers,
        elapsed.as_secs_f64(),
        report.changed,
        report.shop_median_gap,
        counts.join(" ")
    );
    Ok(())
}
