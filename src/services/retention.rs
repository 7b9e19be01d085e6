//! Customer retention, persisted: the purchase facts kept current as orders are applied
//! ([`facts`]), the daily RFM segmentation ([`segments`]) and the segments' queries ([`query`]),
//! win-back ([`winback`]): entry in the daily pass, the steps, the end on an order, the report;
//! replenishment reminders ([`replenishment`]) and the shop metrics' daily roll-ups
//! ([`metrics`], [`metrics_customers`], [`metrics_build`], [`metrics_report`]); [`rollups`] writes what an order row
//! moves, at once or once per applier batch.
//! The rules are pure, in `domain::retention`; this keeps the records.

pub mod backfill;
pub mod backlog;
pub mod facts;
pub mod metrics;
pub mod metrics_build;
pub mod metrics_customers;
pub mod metrics_engagement;
pub mod metrics_report;
pub mod query;
pub mod replenishment;
pub mod rollups;
pub mod seed;
pub mod segments;
pub mod winback;

use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::{now, DbConnection};
use crate::platform::shopify::api::ShopifyApi;
use crate::queue::{Job, JobError};
use crate::services::program::Program;

/// What the daily pass did: the segments, and the lapsed customers who entered win-back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DailyReport {
    pub segments: segments::Report,
    pub entered_win_back: u64,
}

/// The streamed daily pass over the shop's purchase facts: each customer's segment, and (when
/// win-back is on) newly lapsed customers entering the sequence or its hold-out, in one read.
pub fn daily_pass(
    conn: &mut DbConnection,
    shop: &Shop,
    at: chrono::NaiveDateTime,
) -> diesel::QueryResult<DailyReport> {
    if let Some(walked) = backfill::backfill_once(conn, shop, at)? {
        tracing::info!(
            walked,
            "purchase facts built from the orders stored before them"
        );
    }
    if let Some(walked) = metrics_build::build_once(conn, &shop.id, at)? {
        tracing::info!(
            walked,
            "metric roll-ups built from the orders stored before them"
        );
    }
    metrics::fold_changes(conn, &shop.id)?;
    let program = Program::of(shop);
    match program.win_back.as_ref().filter(|w| w.enabled) {
        Some(win_back) => {
            let mut enter = winback::EnterLapsed {
                shop_id: &shop.id,
                program: win_back,
                now: at,
                entered: 0,
            };
            let segments = segments::run(conn, shop, at, &mut enter)?;
            Ok(DailyReport {
                segments,
                entered_win_back: enter.entered,
            })
        }
        None => Ok(DailyReport {
            segments: segments::run(conn, shop, at, &mut segments::SegmentsOnly)?,
            entered_win_back: 0,
        }),
    }
}

/// The daily job (`segment_customers`, daily and on demand): the daily pass, then the win-back
/// steps now due and the replenishment reminders.
pub fn daily_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let shop = Shop::find(conn, &job.shop_id)?;
    let program = Program::of(&shop);
    let at = now();
    let report = daily_pass(conn, &shop, at)?;
    tracing::info!(?report, "segments recomputed");
    let steps = winback::steps::run(conn, runtime, shopify, keys, &shop, at)?;
    tracing::info!(?steps, "win-back steps ran");
    if let Some(settings) = program.replenishment.as_ref().filter(|r| r.enabled) {
        let today =
            crate::domain::calendar::local_date(crate::domain::calendar::zone(&shop.timezone), at);
        let report = crate::db::write_transaction(conn, |c| {
            replenishment::run(c, &shop, settings, today, at)
        })?;
        tracing::info!(?report, "replenishment reminders ran");
    }
    Ok(())
}
