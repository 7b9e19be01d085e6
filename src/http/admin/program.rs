//! `GET|PUT /api/admin/v1/program`: the shop's earning rules (rewards, tiers, referrals and
//! e-mail settings join as they land). A PUT replaces the program after validating all of it;
//! an invalid program changes nothing.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;

use crate::db::schema::shops;
use crate::db::{now, write_transaction, DbError};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::queue::{self, JobKind, JobSpec};
use crate::services::program::{Program, ProgramError};
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
    let program = Program::parse(&body).map_err(|e| match e {
        ProgramError::NotJson(_) => {
            AppError::new(crate::error::ErrorCode::InvalidJson, e.to_string())
        }
        _ => AppError::validation(e.to_string()),
    })?;
    let stored = serde_json::to_string(&program).map_err(AppError::internal)?;
    let shop_id = session.shop.id.clone();
    let uses_collections = !program.earning.collection_multipliers.is_empty();
    // Tiers edited while live: every member is re-evaluated, in batches, by a job.
    let before = Program::of(&session.shop);
    let tiers_changed = before.tiers != program.tiers || before.memberships != program.memberships;
    state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                diesel::update(shops::table.find(&shop_id))
                    .set((shops::program.eq(stored), shops::updated_at.eq(now())))
                    .execute(c)?;
                if uses_collections {
                    // Fetch the named collections' products now rather than at tomorrow's sync.
                    queue::enqueue(
                        c,
                        JobSpec {
                            shop_id: shop_id.clone(),
                            kind: JobKind::SyncCollections,
                            payload: serde_json::json!({}),
                            dedupe_key: Some(format!(
                                "collections:program:{}",
                                crate::db::new_id()
                            )),
                            run_at: now(),
                            max_attempts: 5,
                        },
                    )?;
                }
                if tiers_changed {
                    queue::enqueue(
                        c,
                        JobSpec {
                            shop_id: shop_id.clone(),
                            kind: JobKind::ReevaluateTiers,
                            payload: serde_json::json!({}),
                            dedupe_key: Some(format!("tiers:program:{}", crate::db::new_id())),
                            run_at: now(),
                            max_attempts: 10,
                        },
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(DbError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(program))
}
