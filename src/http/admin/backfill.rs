//! `GET /api/admin/v1/backfill` (the history backfill's progress) and
//! `POST /api/admin/v1/backfill {"award_points": bool}` (start it again from the first page;
//! with `award_points: true` orders dated before the install earn points too): 202. Shopify
//! and BigCommerce shops.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::db::types::Platform;
use crate::db::{now, write_transaction};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::install::backfill;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBackfill {
    pub award_points: bool,
}

pub async fn show(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let status = state
        .db
        .run(move |c| backfill::status(c, &shop_id).map_err(AppError::from))
        .await?;
    Ok(HttpResponse::Ok().json(status))
}

pub async fn start(
    session: ShopSession,
    state: web::Data<AppState>,
    body: web::Json<StartBackfill>,
) -> Result<HttpResponse, AppError> {
    let reads_history = matches!(
        session.shop.platform,
        Platform::Shopify | Platform::BigCommerce
    );
    if !reads_history || session.shop.is_demo {
        return Err(AppError::validation(
            "the history backfill reads orders through the platform's API: only Shopify and BigCommerce shops have one",
        ));
    }
    let shop_id = session.shop.id;
    let award = body.award_points;
    let status = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                backfill::start(c, &shop_id, award, now())?;
                backfill::status(c, &shop_id)
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(status))
}
