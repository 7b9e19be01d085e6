//! `GET /api/admin/v1/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD`: the shop's retention and loyalty
//! figures for the shop-local days `[from, to]` (both required, at most three years), read from
//! the daily roll-ups (`services::retention::metrics_report`). The first request of a shop whose
//! roll-ups were never built (orders stored before them) builds them first.

use actix_web::{web, HttpResponse};
use chrono::{NaiveDate, Utc};

use crate::db::now;
use crate::error::AppError;
use crate::http::admin::reports::{period, PeriodError, Range};
use crate::http::extract::ShopSession;
use crate::services::retention::{metrics_build, metrics_report};
use crate::state::AppState;

/// The longest period asked at once, in days (three years, one of them leap).
pub const MAX_DAYS: i64 = 3 * 365 + 1;

/// The period from the query, both days required and included.
pub fn metrics_period(range: &Range) -> Result<(NaiveDate, NaiveDate), String> {
    let from = range.from.as_deref().ok_or(PeriodError::Missing("from"));
    let to = range.to.as_deref().ok_or(PeriodError::Missing("to"));
    let (start, end) = from
        .and_then(|from| Ok((from, to?)))
        .and_then(|(from, to)| period(Some(from), Some(to), Utc::now().date_naive()))
        .map_err(|e| e.to_string())?;
    let (from, to) = (start.date(), end.date().pred_opt().unwrap_or(end.date()));
    if (to - from).num_days() + 1 > MAX_DAYS {
        return Err(format!(
            "the period is longer than {MAX_DAYS} days (three years): ask for less"
        ));
    }
    Ok((from, to))
}

pub async fn show(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (from, to) = metrics_period(&range).map_err(AppError::bad_request)?;
    let shop = session.shop;
    let report = state
        .db
        .run(move |c| {
            metrics_build::build_once(c, &shop.id, now())?;
            metrics_report::report(c, &shop, from, to).map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(from: Option<&str>, to: Option<&str>) -> Range {
        Range {
            from: from.map(str::to_owned),
            to: to.map(str::to_owned),
        }
    }

    #[test]
    fn both_days_are_required_valid_ordered_and_at_most_three_years_apart() {
        let ok = metrics_period(&range(Some("2025-01-01"), Some("2025-12-31"))).unwrap();
        assert_eq!(ok.0.to_string(), "2025-01-01");
        assert_eq!(ok.1.to_string(), "2025-12-31");
        assert!(metrics_period(&range(Some("2023-01-01"), Some("2025-12-31"))).is_ok());
        for (from, to, says) in [
            (None, Some("2025-01-01"), "from is required"),
            (Some("2025-01-01"), None, "to is required"),
            (
                Some("2025-13-01"),
                Some("2025-12-31"),
                "from must be a date",
            ),
            (Some("2025-01-01"), Some("soon"), "to must be a date"),
            (Some("2025-02-01"), Some("2025-01-31"), "from is after to"),
            (Some("2023-01-01"), Some("2026-01-01"), "longer than"),
        ] {
            let err = metrics_period(&range(from, to)).unwrap_err();
            assert!(err.contains(says), "{from:?} {to:?}: {err}");
        }
    }
}
