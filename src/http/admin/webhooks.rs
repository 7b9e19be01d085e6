//! The shop's webhook inbox as the owner sees it: `GET /api/admin/v1/webhooks?status=failed`,
//! `POST /api/admin/v1/webhooks/{id}/replay` to apply a failed event again (after a fix) and
//! `POST /api/admin/v1/webhooks/{id}/dismiss` to give up on one, so retention erases its body.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::models::InboxEvent;
use crate::db::types::InboxStatus;
use crate::db::{now, write_transaction, DbError};
use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::apply::apply_stored;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct EventView {
    id: String,
    topic: String,
    delivery_id: String,
    event_id: Option<String>,
    status: InboxStatus,
    error: Option<String>,
    attempts: i32,
    received_at: String,
    /// Set once retention erased the raw body: the event can no longer be replayed.
    body_erased_at: Option<String>,
}

/// Shown instead of the error of an event still pending: that error is the database's own
/// wording of a temporary failure (logged in full), not something the owner can act on.
const RETRYING: &str = "applying failed for a temporary reason; it is retried automatically";

impl From<InboxEvent> for EventView {
    fn from(e: InboxEvent) -> Self {
        let error = match e.status {
            InboxStatus::Pending => e.error.map(|_| RETRYING.to_owned()),
            _ => e.error,
        };
        Self {
            id: e.id,
            topic: e.topic,
            delivery_id: e.delivery_id,
            event_id: e.event_id,
            status: e.status,
            error,
            attempts: e.attempts,
            received_at: rfc3339(e.received_at),
            body_erased_at: e.body_erased_at.map(rfc3339),
        }
    }
}

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub async fn list(
    session: ShopSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let status: InboxStatus = query
        .status
        .as_deref()
        .unwrap_or("failed")
        .parse()
        .map_err(|_| {
            AppError::bad_request(
                "status must be one of pending, applied, failed, ignored, dismissed",
            )
        })?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let events = state
        .db
        .run(move |c| {
            InboxEvent::list_by_status(c, &session.shop.id, status, limit).map_err(DbError::from)
        })
        .await?;
    let events: Vec<EventView> = events.into_iter().map(Into::into).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "events": events })))
}

pub async fn replay(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let shop = session.shop;
    let event = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                let event = InboxEvent::find(c, &shop.id, &id)?;
                if event.body_erased_at.is_some() {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        "this webhook's body was erased by retention; it cannot be replayed",
                    ));
                }
                if matches!(event.status, InboxStatus::Failed | InboxStatus::Pending) {
                    apply_stored(c, &shop, &event, now())?;
                }
                Ok(InboxEvent::find(c, &shop.id, &id)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}

/// Marks a failed event `dismissed`: the owner will not replay it, so retention may erase its
/// body like an applied one's. Only a failed event can be dismissed (`409` otherwise).
pub async fn dismiss(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let shop_id = session.shop.id;
    let event = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                let event = InboxEvent::find(c, &shop_id, &id)?;
                if event.status != InboxStatus::Failed {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        format!(
                            "only a failed webhook can be dismissed; this one is {}",
                            event.status
                        ),
                    ));
                }
                InboxEvent::dismiss(c, &shop_id, &id)?;
                Ok(InboxEvent::find(c, &shop_id, &id)?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(EventView::from(event)))
}
