//! `GET /api/admin/v1/alerts`: what needs the owner's attention — reversals that could not take
//! back points already spent (shortfalls), webhooks kept as failed, outgoing webhook
//! subscriptions disabled after a day of failed deliveries, and background tasks that failed
//! for good (`GET /api/admin/v1/jobs`), and the orders the owner's figures are missing because
//! their reporting roll-ups could not be written (`POST /api/admin/v1/reporting/retry`).

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::{inbox_events, ledger_entries, members};
use crate::db::{write_transaction, DbError};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::state::AppState;

/// (customer id, order id, ledger detail, reason, when).
type ShortfallRow = (
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    chrono::NaiveDateTime,
);

#[derive(Debug, Serialize)]
struct Shortfall {
    customer_id: Option<String>,
    order_id: String,
    shortfall: i64,
    reason: Option<String>,
    created_at: String,
}

pub async fn list(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id.clone();
    let (rows, failed, disabled, failed_jobs, reporting_set_aside) = state
        .db
        .run(move |c| {
            let rows: Vec<ShortfallRow> = ledger_entries::table
                .inner_join(members::table)
                .filter(ledger_entries::shop_id.eq(&shop_id))
                .filter(ledger_entries::detail.like("%\"shortfall\"%"))
                .order(ledger_entries::created_at.desc())
                .limit(200)
                .select((
                    members::platform_customer_id,
                    ledger_entries::source_id,
                    ledger_entries::detail,
                    ledger_entries::reason,
                    ledger_entries::created_at,
                ))
                .load(c)?;
            let failed: i64 = inbox_events::table
                .filter(inbox_events::shop_id.eq(&shop_id))
                .filter(inbox_events::status.eq("failed"))
                .count()
                .get_result(c)?;
            let disabled = crate::services::outgoing::disabled_alerts(c, &shop_id)?;
            let failed_jobs = crate::queue::dead_letters::count_failed(c, &shop_id)?;
            let reporting_set_aside =
                crate::services::retention::backlog::set_aside_count(c, &shop_id)?;
            Ok::<_, DbError>((rows, failed, disabled, failed_jobs, reporting_set_aside))
        })
        .await?;
    let shortfalls: Vec<Shortfall> = rows
        .into_iter()
        .filter_map(|(customer_id, order_id, detail, reason, at)| {
            let shortfall = serde_json::from_str::<serde_json::Value>(detail.as_deref()?)
                .ok()?
                .get("shortfall")?
                .as_i64()?;
            Some(Shortfall {
                customer_id,
                order_id,
                shortfall,
                reason,
                created_at: at
                    .and_utc()
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "shortfalls": shortfalls,
        "failed_webhooks": failed,
        "disabled_webhook_subscriptions": disabled,
        "failed_jobs": failed_jobs,
        "reporting_rows_set_aside": reporting_set_aside,
    })))
}

/// `POST /api/admin/v1/reporting/retry`: the shop's reporting roll-ups that could not be
/// written (`reporting_rows_set_aside` in the alerts) back in line, to be written by the
/// applier's next catch-up; `{"retried": n}`.
pub async fn retry_reporting(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let retried = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                crate::services::retention::backlog::retry_set_aside(c, &shop_id)
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "retried": retried })))
}
