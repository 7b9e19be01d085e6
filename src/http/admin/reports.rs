//! `GET /api/admin/v1/reports/liability?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included;
//! default: the last 30 days) and `GET /api/admin/v1/reports/donations?from=…&to=…` (both
//! required: a donations report is for a stated period, often a tax year).

use actix_web::{web, HttpResponse};
use chrono::{Days, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::Deserialize;

use crate::db::DbError;
use crate::domain::calendar;
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::{fulfilments, liability};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Range {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Why a report period cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("{0} must be a date like 2026-11-23, between 1970-01-01 and 9999-12-31")]
    BadDay(&'static str),
    #[error("from is after to")]
    FromAfterTo,
    #[error("{0} is required (a date like 2026-11-23)")]
    Missing(&'static str),
}

/// The days a report may name. The app keeps no ledger before 1970, and four-digit years keep
/// the day after `to` inside what chrono and both databases can represent (chrono accepts years
/// up to +262142, where adding a day panicked).
fn allowed_days() -> std::ops::RangeInclusive<NaiveDate> {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN)
        ..=NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX)
}

fn day(name: &'static str, value: &str) -> Result<NaiveDate, PeriodError> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .ok()
        .filter(|d| allowed_days().contains(d))
        .ok_or(PeriodError::BadDay(name))
}

/// The report's period in the shop's own days: from the instant `from` begins there to the
/// instant the day after `to` begins (UTC instants, as stored). `to` defaults to the shop's
/// today, `from` to 29 days before `to`.
pub fn local_period(
    from: Option<&str>,
    to: Option<&str>,
    shop_timezone: &str,
) -> Result<LocalPeriod, PeriodError> {
    let zone = calendar::zone(shop_timezone);
    let today = calendar::local_date(zone, Utc::now().naive_utc());
    let (start, end) = period(from, to, today)?;
    let (first, after) = (start.date(), end.date());
    Ok(LocalPeriod {
        from: first,
        to: after.pred_opt().unwrap_or(after),
        start: calendar::day_start_utc(zone, first),
        end: calendar::day_start_utc(zone, after),
    })
}

/// A period of the shop's days and the UTC instants it spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalPeriod {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// When `from` begins in the shop's time zone.
    pub start: NaiveDateTime,
    /// When the day after `to` begins there.
    pub end: NaiveDateTime,
}

/// The report's period from the query: `[start of from, start of the day after to)`. `to`
/// defaults to `today`, `from` to 29 days before `to`.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
    today: NaiveDate,
) -> Result<(NaiveDateTime, NaiveDateTime), PeriodError> {
    let to = match to {
        Some(v) => day("to", v)?,
        None => today,
    };
    let from = match from {
        Some(v) => day("from", v)?,
        None => to.checked_sub_days(Days::new(29)).unwrap_or(to),
    };
    if from > to {
        return Err(PeriodError::FromAfterTo);
    }
    let end = to
        .checked_add_days(Days::new(1))
        .ok_or(PeriodError::BadDay("to"))?;
    Ok((from.and_time(NaiveTime::MIN), end.and_time(NaiveTime::MIN)))
}

pub async fn liability(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let LocalPeriod { start, end, .. } = local_period(
        range.from.as_deref(),
        range.to.as_deref(),
        &session.shop.timezone,
    )
    .map_err(|e| AppError::bad_request(e.to_string()))?;
    let report = state
        .db
        .run(move |c| liability::report(c, &session.shop, start, end).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// `GET /api/admin/v1/reports/donations?from&to`: the donations not cancelled, created in the
/// period (the shop's days), per charity.
pub async fn donations(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let from = range.from.as_deref().ok_or(PeriodError::Missing("from"));
    let to = range.to.as_deref().ok_or(PeriodError::Missing("to"));
    let (from, to) = from
        .and_then(|from| Ok((from, to?)))
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let LocalPeriod {
        from,
        to,
        start,
        end,
    } = local_period(Some(from), Some(to), &session.shop.timezone)
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let shop_id = session.shop.id;
    let totals = state
        .db
        .run(move |c| {
            fulfilments::donations_report(c, &shop_id, start, end).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "from": from,
        "to": to,
        "charities": totals.charities,
        "total_minor": totals.total_minor,
    })))
}

/// `GET /api/admin/v1/reports/nps?from&to` (both required, shop-local days, both included):
/// `{"responses","promoters","passives","detractors","nps"}` of the answers given in the period.
pub async fn nps(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let from = range.from.as_deref().ok_or(PeriodError::Missing("from"));
    let to = range.to.as_deref().ok_or(PeriodError::Missing("to"));
    let (start, end) = from
        .and_then(|from| Ok((from, to?)))
        .and_then(|(from, to)| period(Some(from), Some(to), Utc::now().date_naive()))
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let (from, to) = (start.date(), end.date().pred_opt().unwrap_or(end.date()));
    let shop_id = session.shop.id;
    let report = state
        .db
        .run(move |c| crate::services::nps::report(c, &shop_id, from, to).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_period_covers_both_days_and_defaults_to_thirty_days() {
        let today = d(2026, 11, 30);
        let (start, end) = period(None, None, today).unwrap();
        assert_eq!(start.date(), d(2026, 11, 1));
        assert_eq!(end.date(), d(2026, 12, 1));
        let (start, end) = period(Some("2026-01-01"), Some("2026-01-01"), today).unwrap();
        assert_eq!((start.date(), end.date()), (d(2026, 1, 1), d(2026, 1, 2)));
        let (_, end) = period(None, Some("9999-12-31"), today).unwrap();
        assert_eq!(end.date(), d(10000, 1, 1));
    }

    #[test]
    fn dates_outside_four_digit_years_are_refused_not_panicked_on() {
        let today = d(2026, 11, 30);
        for (from, to, field) in [
            (None, Some("+262142-12-31"), "to"),
            (None, Some("+262143-01-01"), "to"),
            (None, Some("-262143-01-01"), "to"),
            (Some("-262143-01-01"), None, "from"),
            (Some("1969-12-31"), None, "from"),
            (None, Some("10000-01-01"), "to"),
            (None, Some("2026-02-30"), "to"),
            (None, Some("yesterday"), "to"),
        ] {
            assert_eq!(
                period(from, to, today),
                Err(PeriodError::BadDay(field)),
                "{from:?} {to:?}"
            );
        }
        assert_eq!(
            period(Some("2026-02-01"), Some("2026-01-01"), today),
            Err(PeriodError::FromAfterTo)
        );
        assert!(period(None, Some("1970-01-01"), today).is_ok());
        assert!(period(None, None, NaiveDate::MAX).is_err());
    }
}
