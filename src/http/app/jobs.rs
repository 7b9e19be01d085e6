//! `/app/jobs`: the shop's background tasks that failed for good (the dead letters of
//! `GET /api/admin/v1/jobs`), each with what it was doing, its attempts and last error, and
//! buttons to retry it or dismiss it. The overview's alert links here.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::types::JobStatus;
use crate::db::{now, write_transaction};
use crate::error::AppError;
use crate::http::admin::jobs::{list_params, JobView};
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::queue::dead_letters::{self, DeadLetterError, Scope};
use crate::state::AppState;

/// Failed tasks shown per page.
const SHOWN: i64 = 50;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    /// `retried` or `dismissed`: what the owner just did, to say so.
    done: Option<String>,
}

pub async fn list(
    owner: Owner,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let q = query.into_inner();
    let cursor = q.cursor.filter(|c| !c.is_empty());
    list_params(None, Some(SHOWN), cursor.as_deref())?;
    render(&state, &owner, cursor, q.done, None).await
}

async fn render(
    state: &AppState,
    owner: &Owner,
    cursor: Option<String>,
    done: Option<String>,
    error: Option<(u16, String)>,
) -> Result<HttpResponse, AppError> {
    let session = &owner.0;
    let layout = Layout::of(session, "jobs");
    let shop_id = session.shop.id.clone();
    let (jobs, next_cursor) = state
        .db
        .run(move |c| {
            dead_letters::page(
                c,
                Scope::Shop(&shop_id),
                JobStatus::Failed,
                cursor.as_deref(),
                SHOWN,
            )
            .map_err(AppError::from)
        })
        .await?;
    let jobs: Vec<JobView> = jobs
        .into_iter()
        .map(|j| JobView::of(j, layout.lang))
        .collect();
    let done = done.filter(|d| d == "retried" || d == "dismissed");
    let (status, error) = match error {
        Some((status, message)) => (status, Some(message)),
        None => (200, None),
    };
    let mut page = state.pages.render(
        "app_jobs.html",
        minijinja::context! {
            layout => layout,
            jobs => jobs,
            next_cursor => next_cursor,
            done => done,
            error => error,
        },
    )?;
    *page.status_mut() =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page)
}

#[derive(Debug, Deserialize)]
pub struct ActionForm {
    csrf: String,
}

/// `POST /app/jobs/{id}/retry`.
pub async fn retry(
    req: HttpRequest,
    owner: Owner,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    act(
        req,
        owner,
        path.into_inner(),
        form.into_inner(),
        state,
        Action::Retry,
    )
    .await
}

/// `POST /app/jobs/{id}/dismiss`.
pub async fn dismiss(
    req: HttpRequest,
    owner: Owner,
    path: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    act(
        req,
        owner,
        path.into_inner(),
        form.into_inner(),
        state,
        Action::Dismiss,
    )
    .await
}

#[derive(Debug, Clone, Copy)]
enum Action {
    Retry,
    Dismiss,
}

/// Retries or dismisses one of the shop's failed tasks, then shows the list again: with a
/// notice when it worked, with the reason (404, 409) when it did not, nothing changed.
async fn act(
    req: HttpRequest,
    owner: Owner,
    id: String,
    form: ActionForm,
    state: web::Data<AppState>,
    action: Action,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &owner.0, &form.csrf)?;
    let shop_id = owner.0.shop.id.clone();
    let outcome = state
        .db
        .run(move |c| {
            Ok::<_, AppError>(write_transaction(c, |c| {
                let scope = Scope::Shop(&shop_id);
                match action {
                    Action::Retry => {
                        dead_letters::retry(c, scope, &id, crate::jobs::settled_by_giving_up, now())
                    }
                    Action::Dismiss => dead_letters::dismiss(c, scope, &id, now()),
                }
            }))
        })
        .await?;
    let done = match action {
        Action::Retry => "retried",
        Action::Dismiss => "dismissed",
    };
    match outcome {
        Ok(_) => Ok(HttpResponse::SeeOther()
            .insert_header(("Location", format!("/app/jobs?done={done}")))
            .finish()),
        Err(e @ DeadLetterError::Database(_)) => Err(e.into()),
        Err(e) => {
            let status = if matches!(e, DeadLetterError::NotFound) {
                404
            } else {
                409
            };
            render(&state, &owner, None, None, Some((status, e.to_string()))).await
        }
    }
}
