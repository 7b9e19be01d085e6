//! `GET /api/admin/v1/reports/win-back?from=YYYY-MM-DD&to=YYYY-MM-DD`: the lapses that entered
//! the sequence or its hold-out in the period (the shop's days, both included; default the
//! last 30 days), their orders in the 30 days from entry, and the lift of the mail over the
//! hold-out, per subject variant too.

use actix_web::{web, HttpResponse};

use crate::db::DbError;
use crate::domain::calendar;
use crate::error::AppError;
use crate::http::admin::reports::{period, Range};
use crate::http::extract::ShopSession;
use crate::services::retention::winback;
use crate::state::AppState;

pub async fn report(
    session: ShopSession,
    range: web::Query<Range>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let today = calendar::local_date(calendar::zone(&session.shop.timezone), crate::db::now());
    let (start, end) = period(range.from.as_deref(), range.to.as_deref(), today)
        .map_err(|e| AppError::bad_request(e.to_string()))?;
    let (from, to) = (start.date(), end.date().pred_opt().unwrap_or(end.date()));
    let shop_id = session.shop.id;
    let report = state
        .db
        .run(move |c| winback::report::report(c, &shop_id, from, to).map_err(DbError::from))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "from": from,
        "to": to,
        "treated": report.treated,
        "holdout": report.holdout,
        "lift": report.lift,
        "variants": report.variants,
    })))
}
