//! Operator endpoints: liveness, readiness, Prometheus metrics.

use actix_web::{web, HttpResponse};
use diesel::connection::SimpleConnection;

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// The process is up and serving.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// The database answers and the webhook writer runs; a load balancer sends traffic only when
/// this is 200.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    if !state.ingest.is_running() {
        // Every webhook would be answered 5xx: let the orchestrator replace this instance.
        return Err(AppError {
            code: ErrorCode::Unavailable,
            message: "the webhook writer is not running".into(),
            source: None,
        });
    }
    state
        .db
        .run(|conn| {
            conn.batch_execute("SELECT 1")
                .map_err(crate::db::DbError::from)
        })
        .await
        .map_err(|e| AppError {
            code: ErrorCode::Unavailable,
            message: "database unreachable".into(),
            source: Some(e.into()),
        })?;
    Ok(HttpResponse::Ok().json(serde_json::json!({"status": "ready", "database": "ok"})))
}

pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
