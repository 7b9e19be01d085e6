//! Outgoing webhooks, for the owner:
//! `POST /api/admin/v1/webhook-subscriptions` `{"url","topics"}` → `201 {"id","secret"}` (the
//! `whsec_…` secret is shown this once); `GET …/webhook-subscriptions`;
//! `DELETE …/webhook-subscriptions/{id}` (`204`); `GET …/webhook-subscriptions/{id}/deliveries`;
//! `POST …/webhook-subscriptions/{id}/deliveries/{delivery_id}/redeliver` (also reachable as
//! `POST …/webhook-deliveries/{delivery_id}/redeliver`), optional body `{"enable": true}` to
//! turn a disabled subscription back on.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::outgoing::{self, NewSubscription, OutgoingError};
use crate::state::AppState;

impl From<OutgoingError> for AppError {
    fn from(e: OutgoingError) -> Self {
        let code = match e {
            OutgoingError::Pool(db) => return AppError::from(db),
            OutgoingError::Database(diesel::result::Error::NotFound) => ErrorCode::NotFound,
            OutgoingError::Database(_) => return AppError::internal(e),
            OutgoingError::Invalid(_) | OutgoingError::TooMany(_) => ErrorCode::ValidationFailed,
            OutgoingError::NotFound(_) => ErrorCode::NotFound,
            OutgoingError::Unreadable => ErrorCode::Conflict,
        };
        AppError::new(code, e.to_string())
    }
}

pub async fn create(
    session: ShopSession,
    body: web::Json<NewSubscription>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, keys, new) = (session.shop.id, state.keys.clone(), body.into_inner());
    let created = state
        .db
        .run(move |c| outgoing::create(c, &keys, &shop_id, &new))
        .await?;
    Ok(HttpResponse::Created().json(created))
}

pub async fn list(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let subscriptions = state.db.run(move |c| outgoing::list(c, &shop_id)).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "subscriptions": subscriptions })))
}

pub async fn delete(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, id) = (session.shop.id, path.into_inner());
    state
        .db
        .run(move |c| outgoing::delete(c, &shop_id, &id))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub async fn deliveries(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (shop_id, id) = (session.shop.id, path.into_inner());
    let deliveries = state
        .db
        .run(move |c| outgoing::list_deliveries(c, &shop_id, &id))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "deliveries": deliveries })))
}

/// `{"enable": true}` (or `?enable=true`): turn a disabled subscription back on first.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeliverOptions {
    #[serde(default)]
    enable: bool,
}

pub async fn redeliver(
    session: ShopSession,
    path: web::Path<(String, String)>,
    query: web::Query<RedeliverOptions>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (subscription_id, delivery_id) = path.into_inner();
    let enable = query.enable || options(&body)?.enable;
    let delivery = outgoing::redeliver(
        &state.db,
        &state.keys,
        &session.shop.id,
        Some(subscription_id.as_str()),
        &delivery_id,
        enable,
    )
    .await?;
    Ok(HttpResponse::Ok().json(delivery))
}

/// The same, when only the delivery's id is known.
pub async fn redeliver_by_id(
    session: ShopSession,
    path: web::Path<String>,
    query: web::Query<RedeliverOptions>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let enable = query.enable || options(&body)?.enable;
    let delivery = outgoing::redeliver(
        &state.db,
        &state.keys,
        &session.shop.id,
        None,
        &path.into_inner(),
        enable,
    )
    .await?;
    Ok(HttpResponse::Ok().json(delivery))
}

/// The optional JSON body: empty means the defaults; anything else must parse.
fn options(body: &[u8]) -> Result<RedeliverOptions, AppError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RedeliverOptions::default());
    }
    serde_json::from_slice(body).map_err(|e| AppError::new(ErrorCode::InvalidJson, e.to_string()))
}
