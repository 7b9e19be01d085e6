//! `GET /api/admin/v1/segments` (customers per RFM segment, as the daily job last stored them)
//! and `POST /api/admin/v1/segments/recompute` (queues the segmentation now: 202).

use actix_web::{web, HttpResponse};
use serde_json::{json, Map, Value};

use crate::db::{now, write_transaction};
use crate::error::AppError;
use crate::http::extract::ShopSession;
use crate::queue::{self, JobKind, JobSpec};
use crate::services::retention::query;
use crate::state::AppState;

pub async fn counts(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let counts = state
        .db
        .run(move |c| query::counts(c, &shop_id).map_err(AppError::from))
        .await?;
    let segments: Map<String, Value> = counts
        .into_iter()
        .map(|(segment, n)| (segment.as_str().to_owned(), json!(n)))
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "segments": segments })))
}

pub async fn recompute(
    session: ShopSession,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let shop_id = session.shop.id;
    let queued = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                queue::enqueue(
                    c,
                    JobSpec {
                        shop_id,
                        kind: JobKind::SegmentCustomers,
                        payload: json!({}),
                        // One recompute waiting is enough: a second click joins it.
                        dedupe_key: Some("recompute".to_owned()),
                        run_at: now(),
                        max_attempts: 5,
                    },
                )
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Accepted().json(json!({ "queued": queued })))
}
