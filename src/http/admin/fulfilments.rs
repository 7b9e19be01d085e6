//! Donation and custom rewards the owner gives by hand:
//! `GET /api/admin/v1/fulfilments?status=open|done|cancelled&limit=N` (newest first),
//! `POST /api/admin/v1/fulfilments/{id}/done` and `POST /api/admin/v1/fulfilments/{id}/cancel`
//! (open ones only; the points come back).

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::models::FulfilmentWithCustomer;
use crate::db::types::FulfilmentStatus;
use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::fulfilments::{self, FulfilmentError};
use crate::state::AppState;

impl From<FulfilmentError> for AppError {
    fn from(e: FulfilmentError) -> Self {
        let code = match &e {
            FulfilmentError::NotFound => ErrorCode::NotFound,
            FulfilmentError::Settled(_) | FulfilmentError::Refund(_) => ErrorCode::Conflict,
            FulfilmentError::Database(_) => return AppError::internal(e),
        };
        AppError::new(code, e.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

#[derive(Debug, Serialize)]
struct FulfilmentView {
    id: String,
    /// The platform's id of the member who redeemed it (`null` once redacted or for a guest).
    customer_id: Option<String>,
    reward_id: String,
    reward_title: String,
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    charity: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amount_minor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    points: i64,
    status: FulfilmentStatus,
    created_at: String,
    done_at: Option<String>,
    done_by: Option<String>,
}

impl From<FulfilmentWithCustomer> for FulfilmentView {
    fn from(row: FulfilmentWithCustomer) -> Self {
        let FulfilmentWithCustomer {
            fulfilment: f,
            customer_id,
        } = row;
        Self {
            id: f.id,
            customer_id,
            reward_id: f.reward_id,
            reward_title: f.reward_title,
            kind: f.kind,
            charity: f.charity,
            amount_minor: f.amount_minor,
            description: f.description,
            points: f.points,
            status: f.status,
            created_at: rfc3339(f.created_at),
            done_at: f.done_at.map(rfc3339),
            done_by: f.done_by,
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
    let status = query
        .status
        .as_deref()
        .map(str::parse::<FulfilmentStatus>)
        .transpose()
        .map_err(|_| AppError::bad_request("status must be one of open, done, cancelled"))?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let shop_id = session.shop.id;
    let rows = state
        .db
        .run(move |c| fulfilments::list(c, &shop_id, status, limit).map_err(AppError::from))
        .await?;
    let views: Vec<FulfilmentView> = rows.into_iter().map(FulfilmentView::from).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "fulfilments": views })))
}

/// `POST …/fulfilments/{id}/done`: records who marked it done and when; asking again answers
/// the same record.
pub async fn done(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, id, actor) = (session.shop.id, path.into_inner(), session.actor);
    let f = state
        .db
        .run(move |c| fulfilments::mark_done(c, &shop_id, &id, &actor).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(FulfilmentView::from(f)))
}

/// `POST …/fulfilments/{id}/cancel`: an open fulfilment is cancelled and its points returned
/// (once); asking again answers the same record; one already done answers `409`.
pub async fn cancel(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, id) = (session.shop.id, path.into_inner());
    let f = state
        .db
        .run(move |c| fulfilments::cancel(c, &shop_id, &id).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(FulfilmentView::from(f)))
}
