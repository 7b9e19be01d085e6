//! The loop every REST platform's reconciliation runs: read a page of the orders modified
//! since the shop's watermark, store each one, move the watermark past what was stored, and
//! stop at the last page or at the run's page bound. Only how a page is read and stored
//! differs between platforms: that is the [`PageReader`].

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use super::{ReconcileError, ReconcileReport};
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::{write_transaction, DbConnection};

/// How far back a shop's first run reads.
pub(super) const FIRST_RUN_LOOKBACK_DAYS: i64 = 60;
/// Re-read a little before the watermark: orders modified in the same second as the last one
/// read may not have been listed yet, and re-reading a stored state changes nothing.
pub(super) const OVERLAP: Duration = Duration::minutes(5);

/// Where a run starts reading: a little before the shop's watermark, or the lookback before
/// `now` on its first run.
pub(super) fn start(shop: &Shop, now: NaiveDateTime) -> NaiveDateTime {
    shop.reconciled_until
        .map(|t| t - OVERLAP)
        .unwrap_or_else(|| now - Duration::days(FIRST_RUN_LOOKBACK_DAYS))
}

/// What reading one page did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PageRead {
    /// The newest change among the page's orders (`None`: none had a readable time).
    pub read_until: Option<NaiveDateTime>,
    /// Whether the listing goes on after this page.
    pub more: bool,
}

/// A platform's way through its order listing. Each call reads the next page and stores its
/// orders (counting them in `report`); the reader keeps its own position in the listing.
pub(super) trait PageReader {
    fn read_page(
        &mut self,
        conn: &mut DbConnection,
        report: &mut ReconcileReport,
    ) -> Result<PageRead, ReconcileError>;
}

/// Reads up to `max_pages` pages with `reader`, moving `shop`'s watermark after each one.
/// A run that stops anywhere (the bound, an error) resumes after its last stored page.
pub(super) fn follow(
    conn: &mut DbConnection,
    shop: &Shop,
    max_pages: u32,
    reader: &mut impl PageReader,
) -> Result<ReconcileReport, ReconcileError> {
    let mut report = ReconcileReport::default();
    for _ in 0..max_pages {
        let page = reader.read_page(conn, &mut report)?;
        // Every order of the page is committed: only now may the watermark pass them.
        if let Some(read_until) = page.read_until {
            advance(conn, &shop.id, read_until)?;
        }
        if !page.more {
            break;
        }
    }
    Ok(report)
}

/// Moves the shop's watermark forward to `to`, never back (a re-read overlap or a concurrent
/// run must not undo progress).
fn advance(
    conn: &mut DbConnection,
    shop_id: &str,
    to: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
    write_transaction(conn, |c| {
        diesel::update(shops::table.find(shop_id))
            .filter(
                shops::reconciled_until
                    .is_null()
                    .or(shops::reconciled_until.lt(to)),
            )
            .set(shops::reconciled_until.eq(Some(to)))
            .execute(c)
            .map(|_| ())
    })
}

/// The newest of `seen` and `at`.
pub(super) fn newest(seen: Option<NaiveDateTime>, at: NaiveDateTime) -> Option<NaiveDateTime> {
    Some(seen.map_or(at, |s| s.max(at)))
}
