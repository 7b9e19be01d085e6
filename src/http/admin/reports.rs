//! `GET /api/admin/v1/reports/liability?from=YYYY-MM-DD&to=YYYY-MM-DD` (both days included;
//! default: the last 30 days).

use actix_web::{web, HttpResponse};
use chrono::{Duration, NaiveDate, Utc};
use serde::Deserialize;

use crate::db::DbError;
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::liability;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Range {
    from: Option<String>,
    to: Option<String>,
}

fn day(name: &str, value: Option<&str>, default: NaiveDate) -> Result<NaiveDate, AppError> {
    match value {
        None => Ok(default),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| AppError::bad_request(format!("{name} must be a date like 2026-11-23"))),
    }
}

pub async fn liability(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let today = Utc::now().date_naive();
    let to = day("to", range.to.as_deref(), today)?;
    let from = day("from", range.from.as_deref(), to - Duration::days(29))?;
    if from > to {
        return Err(AppError::bad_request("from is after to"));
    }
    let (start, end) = (
        from.and_time(chrono::NaiveTime::MIN),
        (to + Duration::days(1)).and_time(chrono::NaiveTime::MIN),
    );
    let report = state
        .db
        .run(move |c| liability::report(c, &session.shop, start, end).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(report))
}
