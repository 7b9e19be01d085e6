//! `GET /app`: the shop at a glance, and the way in from Shopify's admin. Besides the members,
//! points and segments, it shows the retention metrics of a period the owner picks (the same
//! figures as `GET /api/admin/v1/metrics`) and charts of their daily series, with alerts for
//! failed background tasks and for batches whose figures and mail could not be written
//! (`POST /app/reporting/retry`).

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::members;
use crate::db::DbError;
use crate::error::AppError;
use crate::http::app::charts::{overview_charts, Chart};
use crate::http::app::figures::{self, Group};
use crate::http::app::period::{self, Chosen, PeriodQuery};
use crate::http::app::session::{check_csrf, embedded_session_cookie, Layout, Owner};
use crate::platform::shopify::session_token;
use crate::services::admin_sessions;
use crate::services::retention::{metrics_build, metrics_report};
use crate::services::{liability, retention};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct SegmentCount {
    key: String,
    count: i64,
}

#[derive(Debug, serde::Deserialize)]
pub struct Entry {
    id_token: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `GET /app`. Inside Shopify's admin the page is opened with `?id_token=` (a session token):
/// it installs the shop if needed (token exchange) and opens a session for the staff member.
pub async fn entry(
    req: HttpRequest,
    query: web::Query<Entry>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, actix_web::Error> {
    let Entry { id_token, from, to } = query.into_inner();
    let chosen = PeriodQuery { from, to };
    let Some(id_token) = id_token.filter(|t| !t.is_empty()) else {
        let owner = Owner::extract(&req).await?;
        return Ok(show(owner, chosen, state).await?);
    };
    let installed = crate::http::install::installer(&state)
        .ensure_installed(&id_token)
        .await
        .map_err(AppError::from)?;
    let shopify = &state.config.shopify;
    let user = session_token::verify_user(
        &id_token,
        &shopify.api_key,
        &shopify.api_secret,
        shopify.previous_api_secret.as_ref(),
    )
    .map_err(|e| AppError::unauthorized(e.to_string()))?;
    let actor = user.user_id.unwrap_or_else(|| "session token".into());
    let (cookie, session) = state
        .db
        .run(move |c| {
            admin_sessions::open(c, installed.shop, &actor, true, crate::db::now())
                .map_err(DbError::from)
        })
        .await
        .map_err(AppError::from)?;
    req.extensions_mut()
        .insert(crate::http::app::session::FramePolicy::of(&session));
    let mut page = show(Owner(session), chosen, state).await?;
    page.headers_mut().insert(
        actix_web::http::header::SET_COOKIE,
        actix_web::http::header::HeaderValue::from_str(&embedded_session_cookie(&cookie))
            .map_err(AppError::internal)?,
    );
    Ok(page)
}

pub async fn show(
    owner: Owner,
    query: PeriodQuery,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let shop = session.shop.clone();
    let layout = Layout::of(&session, "overview");
    let chosen = period::choose(&query, &shop.timezone, crate::db::now());
    let days = match &chosen {
        Chosen::Days { from, to, .. } => Some((*from, *to)),
        Chosen::Refused(_) => None,
    };
    let (members_count, outstanding, segments, metrics, failed_jobs, reporting_set_aside) = state
        .db
        .run(move |c| {
            let count: i64 = members::table
                .filter(members::shop_id.eq(&shop.id))
                .filter(members::merged_into.is_null())
                .filter(members::redacted_at.is_null())
                .count()
                .get_result(c)?;
            let epoch = chrono::DateTime::UNIX_EPOCH.naive_utc();
            let report = liability::report(c, &shop, epoch, crate::db::now())?;
            let segments = retention::query::counts(c, &shop.id)?
                .into_iter()
                .map(|(s, n)| SegmentCount {
                    key: format!("seg_{}", s.as_str()),
                    count: n,
                })
                .collect::<Vec<_>>();
            // As the API does: a shop whose roll-ups were never built gets them first.
            let metrics = match days {
                Some((from, to)) => {
                    metrics_build::build_once(c, &shop.id, crate::db::now())?;
                    Some(metrics_report::report(c, &shop, from, to)?)
                }
                None => None,
            };
            let failed_jobs = crate::queue::dead_letters::count_failed(c, &shop.id)?;
            let reporting_set_aside = retention::backlog::set_aside_count(c, &shop.id)?;
            Ok::<_, AppError>((
                count,
                report.outstanding,
                segments,
                metrics,
                failed_jobs,
                reporting_set_aside,
            ))
        })
        .await?;
    let currency = figures::currency_of(&session.shop.currency);
    let (groups, charts): (Vec<Group>, Vec<Chart>) = match &metrics {
        Some(m) => (
            figures::groups(m, &currency, &layout.t),
            overview_charts(&m.series, &currency, &layout.t)?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let (form, status) = match chosen {
        Chosen::Days { form, .. } => (form, StatusCode::OK),
        Chosen::Refused(form) => (form, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let failed_jobs_alert = (failed_jobs > 0).then(|| {
        crate::http::app::texts::say(
            layout.lang,
            "jobs_alert",
            &[("count", failed_jobs.to_string())],
        )
    });
    let reporting_alert = (reporting_set_aside > 0).then(|| {
        crate::http::app::texts::say(
            layout.lang,
            "reporting_alert",
            &[("count", reporting_set_aside.to_string())],
        )
    });
    let mut page = state.pages.render(
        "app_overview.html",
        minijinja::context! {
            layout => layout,
            failed_jobs_alert => failed_jobs_alert,
            reporting_alert => reporting_alert,
            currency => session.shop.currency,
            timezone => session.shop.timezone,
            locale => session.shop.locale,
            members => members_count,
            outstanding => figures::money(&currency, outstanding.value_minor),
            outstanding_points => outstanding.points,
            segments => segments,
            period => form,
            period_action => "/app",
            groups => groups,
            charts => charts,
        },
    )?;
    *page.status_mut() = status;
    Ok(page)
}

#[derive(Debug, serde::Deserialize)]
pub struct RetryForm {
    csrf: String,
}

/// `POST /app/reporting/retry`: the shop's reporting roll-ups that could not be written back in
/// line (as `POST /api/admin/v1/reporting/retry`), then the overview again. The applier writes
/// them within its next sweep; one that fails again is set aside and alerted again.
pub async fn retry_reporting(
    req: HttpRequest,
    owner: Owner,
    form: web::Form<RetryForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &owner.0, &form.csrf)?;
    let shop_id = owner.0.shop.id.clone();
    state
        .db
        .run(move |c| {
            crate::db::write_transaction(c, |c| retention::backlog::retry_set_aside(c, &shop_id))
                .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/app"))
        .finish())
}
