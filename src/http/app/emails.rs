//! `/app/emails`: the e-mail log, newest first, filtered by customer, kind and status, from
//! the same query as `GET /api/admin/v1/emails`.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::domain::mail::Kind;
use crate::error::AppError;
use crate::http::app::session::{Layout, Owner};
use crate::services::mail::{self, status};
use crate::state::AppState;

const SHOWN: i64 = 200;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    customer_id: Option<String>,
    kind: Option<String>,
    status: Option<String>,
}

pub async fn list(
    owner: Owner,
    query: web::Query<ListQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let q = query.into_inner();
    // An empty field of the filter form means "any".
    let given = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let (customer_id, kind, wanted) = (given(q.customer_id), given(q.kind), given(q.status));
    mail::check_filters(kind.as_deref(), wanted.as_deref()).map_err(AppError::bad_request)?;
    let shop_id = session.shop.id.clone();
    let (c, k, s) = (customer_id.clone(), kind.clone(), wanted.clone());
    let emails = state
        .db
        .run(move |conn| {
            mail::list(
                conn,
                &shop_id,
                c.as_deref(),
                k.as_deref(),
                s.as_deref(),
                SHOWN,
            )
            .map_err(AppError::from)
        })
        .await?;
    let layout = Layout::of(&session, "emails");
    let erased_note = crate::http::app::texts::say(
        layout.lang,
        "mail_body_erased",
        &[("days", state.config.webhook_retention_days.to_string())],
    );
    state.pages.render(
        "app_emails.html",
        minijinja::context! {
            layout => layout,
            erased_note => erased_note,
            emails => emails,
            customer_id => customer_id.unwrap_or_default(),
            kind => kind.unwrap_or_default(),
            status => wanted.unwrap_or_default(),
            kinds => Kind::ALL.map(Kind::as_str),
            statuses => status::ALL,
        },
    )
}
