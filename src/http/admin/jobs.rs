//! The shop's dead letters, background tasks that used up their attempts:
//! `GET /api/admin/v1/jobs?status=failed&limit=&cursor=` lists them (newest first, a page at a
//! time), `POST /api/admin/v1/jobs/{id}/retry` queues one again (due now, attempts reset) and
//! `POST /api/admin/v1/jobs/{id}/dismiss` gives up on one, so retention prunes it. Only the
//! signed-in shop's jobs: another shop's id answers 404 like an unknown one.

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use crate::db::types::JobStatus;
use crate::db::{now, write_transaction};
use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::queue::dead_letters::{self, DeadLetterError, Scope};
use crate::queue::Job;
use crate::state::AppState;

/// What a job was doing, for people: the `job_{kind}` text in `lang` (the kind itself for a
/// kind without one).
pub fn description(kind: &str, lang: &str) -> String {
    crate::http::app::texts::say(lang, &format!("job_{kind}"), &[])
}

#[derive(Debug, Serialize)]
pub struct JobView {
    pub id: String,
    pub kind: String,
    pub description: String,
    pub status: JobStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl JobView {
    pub fn of(job: Job, lang: &str) -> Self {
        Self {
            description: description(&job.kind, lang),
            id: job.id,
            kind: job.kind,
            status: job.status,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error,
            created_at: rfc3339(job.created_at),
            updated_at: rfc3339(job.updated_at),
        }
    }
}

fn rfc3339(at: chrono::NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl From<DeadLetterError> for AppError {
    fn from(e: DeadLetterError) -> Self {
        match e {
            DeadLetterError::NotFound => AppError::not_found(e.to_string()),
            DeadLetterError::NotFailed { .. }
            | DeadLetterError::AlreadyQueued(_)
            | DeadLetterError::Settled(_) => AppError::new(ErrorCode::Conflict, e.to_string()),
            DeadLetterError::Database(e) => e.into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

/// Reads `status` (failed unless given) and `limit` (50 unless given, 1–250) as the owner gave
/// them, and checks that `cursor` is a job id.
pub fn list_params(
    status: Option<&str>,
    limit: Option<i64>,
    cursor: Option<&str>,
) -> Result<(JobStatus, i64), AppError> {
    let status: JobStatus = status.unwrap_or("failed").parse().map_err(|_| {
        AppError::bad_request("status must be one of queued, running, done, failed, dismissed")
    })?;
    let limit = limit.unwrap_or(50);
    if !(1..=250).contains(&limit) {
        return Err(AppError::bad_request("limit must be 1–250"));
    }
    if cursor.is_some_and(|c| uuid::Uuid::parse_str(c).is_err()) {
        return Err(AppError::bad_request(
            "cursor must be the next_cursor of a previous page",
        ));
    }
    Ok((status, limit))
}

pub async fn list(
    session: ShopSession,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let (status, limit) = list_params(q.status.as_deref(), q.limit, q.cursor.as_deref())?;
    let shop_id = session.shop.id;
    let (jobs, next_cursor) = state
        .db
        .run(move |c| {
            dead_letters::page(c, Scope::Shop(&shop_id), status, q.cursor.as_deref(), limit)
                .map_err(AppError::from)
        })
        .await?;
    let jobs: Vec<JobView> = jobs.into_iter().map(|j| JobView::of(j, "en")).collect();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "jobs": jobs, "next_cursor": next_cursor })))
}

/// `POST /jobs/{id}/retry`: a failed job back to the queue, due now, its attempts reset.
pub async fn retry(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, shop_id) = (path.into_inner(), session.shop.id);
    let job = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                dead_letters::retry(
                    c,
                    Scope::Shop(&shop_id),
                    &id,
                    crate::jobs::settled_by_giving_up,
                    now(),
                )
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(JobView::of(job, "en")))
}

/// `POST /jobs/{id}/dismiss`: the owner gives up on a failed job; retention prunes it later.
pub async fn dismiss(
    session: ShopSession,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let (id, shop_id) = (path.into_inner(), session.shop.id);
    let job = state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                dead_letters::dismiss(c, Scope::Shop(&shop_id), &id, now())
            })
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Ok().json(JobView::of(job, "en")))
}
