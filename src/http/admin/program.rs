//! `GET|PUT /api/admin/v1/program`: the shop's earning rules (rewards, tiers, referrals and
//! e-mail settings join as they land). A PUT replaces the program after validating all of it;
//! an invalid program changes nothing.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;

use crate::db::schema::shops;
use crate::db::{now, DbError};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::services::program::Program;
use crate::state::AppState;

pub async fn show(session: ShopSession) -> HttpResponse {
    HttpResponse::Ok().json(Program::of(&session.shop))
}

pub async fn replace(
    session: ShopSession,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let program: Program = serde_json::from_slice(&body).map_err(|e| {
        AppError::new(
            crate::error::ErrorCode::InvalidJson,
            format!("invalid program: {e}"),
        )
    })?;
    program
        .validate()
        .map_err(|e| AppError::validation(e.to_string()))?;
    let stored = serde_json::to_string(&program).map_err(AppError::internal)?;
    let shop_id = session.shop.id.clone();
    state
        .db
        .run(move |c| {
            diesel::update(shops::table.find(&shop_id))
                .set((shops::program.eq(stored), shops::updated_at.eq(now())))
                .execute(c)
                .map_err(DbError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(program))
}
