//! `/app/referrals`: the referral review queue. Open referrals (pending, or flagged by the
//! fraud checks with their signals) are approved or rejected from here, through the same
//! decision the admin API makes; the decided ones stay listed by status.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::{now, write_transaction};
use crate::domain::referrals::{Decision, Status};
use crate::error::AppError;
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::services::referrals::{self, ReferralError};
use crate::state::AppState;

const SHOWN: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    decided: Option<String>,
}

/// The statuses the page filters by; "open" (the default) is pending and flagged.
const FILTERS: [&str; 6] = ["open", "pending", "flagged", "approved", "rejected", "void"];

pub async fn list(
    owner: Owner,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let ListQuery { status, decided } = query.into_inner();
    let filter = status.unwrap_or_else(|| "open".into());
    if !FILTERS.contains(&filter.as_str()) {
        return Err(AppError::bad_request(format!(
            "status must be one of {}",
            FILTERS.join(", ")
        )));
    }
    render(&state, &owner, &filter, decided.as_deref(), None, 200).await
}

async fn render(
    state: &AppState,
    owner: &Owner,
    filter: &str,
    decided: Option<&str>,
    error: Option<String>,
    status: u16,
) -> Result<HttpResponse, AppError> {
    let session = owner.0.clone();
    let shop_id = session.shop.id.clone();
    let wanted: Vec<Status> = match filter {
        "open" => vec![Status::Pending, Status::Flagged],
        other => Status::parse(other).into_iter().collect(),
    };
    let mut views = state
        .db
        .run(move |c| {
            let mut all = Vec::new();
            for status in wanted {
                all.extend(referrals::list(c, &shop_id, Some(status), SHOWN)?);
            }
            Ok::<_, AppError>(all)
        })
        .await?;
    views.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    views.truncate(SHOWN as usize);
    let mut page = state.pages.render(
        "app_referrals.html",
        minijinja::context! {
            layout => Layout::of(&session, "referrals"),
            filter => filter,
            filters => FILTERS,
            referrals => views,
            decided => decided,
            error => error,
            currency => session.shop.currency,
        },
    )?;
    *page.status_mut() =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    Ok(page)
}

#[derive(Debug, Deserialize)]
pub struct DecideBody {
    csrf: String,
    decision: String,
}

/// `POST /app/referrals/{id}`: `decision=approve|reject`. A referral decided meanwhile (by
/// another tab, or the settlement) is shown as such, with nothing changed.
pub async fn decide(
    req: HttpRequest,
    owner: Owner,
    path: web::Path<String>,
    form: web::Form<DecideBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    check_csrf(&req, &owner.0, &form.csrf)?;
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject,
        other => {
            return Err(AppError::bad_request(format!(
                "decision must be approve or reject, not {other:?}"
            )))
        }
    };
    let (shop, actor) = (owner.0.shop.clone(), owner.0.actor.clone());
    let id = path.into_inner();
    let outcome = state
        .db
        .run(move |c| {
            Ok::<_, AppError>(write_transaction(c, |c| {
                referrals::decide(c, &shop, &id, decision, &actor, now()).map(|_| ())
            }))
        })
        .await?;
    match outcome {
        Ok(()) => Ok(HttpResponse::SeeOther()
            .insert_header((
                "Location",
                format!("/app/referrals?decided={}", form.decision),
            ))
            .finish()),
        Err(e @ (ReferralError::Decided(_) | ReferralError::NotFound(_))) => {
            let status = if matches!(e, ReferralError::NotFound(_)) {
                404
            } else {
                409
            };
            render(&state, &owner, "open", None, Some(e.to_string()), status).await
        }
        Err(other) => Err(other.into()),
    }
}
