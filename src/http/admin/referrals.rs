//! The referral review queue:
//! `GET /api/admin/v1/referrals?status=pending|flagged|approved|rejected|void&limit=N` (newest
//! first), `POST /api/admin/v1/referrals/{id}/approve` and `/reject` (open ones only; a decided
//! referral answers `409`). Decisions record who (the session's staff user, or `api key`) and
//! when; approving rewards the referrer at once.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::db::{now, write_transaction};
use crate::domain::referrals::{Decision, Status};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::referrals::{self, ReferralView};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    session: ShopSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let status = query
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s).ok_or_else(|| {
                AppError::bad_request(
                    "status must be one of pending, flagged, approved, rejected, void",
                )
            })
        })
        .transpose()?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let shop_id = session.shop.id;
    let views = state
        .db
        .run(move |c| referrals::list(c, &shop_id, status, limit).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "referrals": views })))
}

pub async fn approve(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    decide(session, path.into_inner(), Decision::Approve, state).await
}

pub async fn reject(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    decide(session, path.into_inner(), Decision::Reject, state).await
}

async fn decide(
    session: ShopSession,
    id: String,
    decision: Decision,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop, actor) = (session.shop, session.actor);
    let view = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                let referral = referrals::decide(c, &shop, &id, decision, &actor, now())?;
                ReferralView::of(c, referral).map_err(referrals::ReferralError::from)
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
