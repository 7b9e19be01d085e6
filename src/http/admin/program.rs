//! `GET|PUT /api/admin/v1/program`: the shop's earning rules (rewards, tiers, referrals and
//! e-mail settings join as they land). A PUT replaces the program after validating all of it;
//! an invalid program changes nothing.

use actix_web::{web, HttpResponse};

use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::program::{self, Program, ProgramError};
use crate::state::AppState;

pub async fn show(session: ShopSession) -> HttpResponse {
    HttpResponse::Ok().json(Program::of(&session.shop))
}

pub async fn replace(
    session: ShopSession,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    // Not JSON: 400. JSON that is not a valid program (an unknown field, a value past its cap):
    // 422, with the message naming the field.
    let parsed = Program::parse_for(&body, session.shop.platform).map_err(|e| match e {
        ProgramError::NotJson(_) => {
            AppError::new(crate::error::ErrorCode::InvalidJson, e.to_string())
        }
        _ => AppError::validation(e.to_string()),
    })?;
    let shop = session.shop.clone();
    let saved = parsed.clone();
    state
        .db
        .run(move |c| program::replace(c, &shop, &saved))
        .await?;
    Ok(HttpResponse::Ok().json(parsed))
}
