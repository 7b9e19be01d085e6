//! The owner's reports for one period, together: the points liability, the win-back lift, NPS
//! and donations, each from the service its `/api/admin/v1/reports/…` endpoint calls, with the
//! same reading of the days (so the admin page and the API never disagree).

use chrono::{Days, NaiveDate, NaiveDateTime};
use serde::Serialize;

use crate::db::models::Shop;
use crate::db::DbConnection;
use crate::domain::calendar;
use crate::domain::donations::DonationTotals;
use crate::domain::retention::{NpsReport, WinBackReport};
use crate::services::fulfilments::{self, FulfilmentError};
use crate::services::liability::{self, LiabilityReport};
use crate::services::nps;
use crate::services::retention::winback;

/// Why the reports could not be read: the database failed (nothing here is the owner's input).
#[derive(Debug, thiserror::Error)]
pub enum ReportsError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error(transparent)]
    Donations(#[from] FulfilmentError),
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodReports {
    pub liability: LiabilityReport,
    pub win_back: WinBackReport,
    pub nps: NpsReport,
    pub donations: DonationTotals,
}

/// From the instant `from` begins in the shop's time zone to the instant the day after `to`
/// begins there, as the API's periods are (`to` is at most 9999-12-31, so the day after
/// exists; it saturates rather than panics if not).
fn bounds(shop: &Shop, from: NaiveDate, to: NaiveDate) -> (NaiveDateTime, NaiveDateTime) {
    let zone = calendar::zone(&shop.timezone);
    let end = to.checked_add_days(Days::new(1)).unwrap_or(to);
    (
        calendar::day_start_utc(zone, from),
        calendar::day_start_utc(zone, end),
    )
}

/// The four reports of the days `from..=to`.
pub fn for_period(
    conn: &mut DbConnection,
    shop: &Shop,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<PeriodReports, ReportsError> {
    let (start, end) = bounds(shop, from, to);
    Ok(PeriodReports {
        liability: liability::report(conn, shop, start, end)?,
        win_back: winback::report::report(conn, &shop.id, from, to)?,
        nps: nps::report(conn, &shop.id, from, to)?,
        donations: fulfilments::donations_report(conn, &shop.id, start, end)?,
    })
}
