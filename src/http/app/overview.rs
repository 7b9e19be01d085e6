//! `GET /app`: the shop at a glance.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Serialize;

use crate::db::schema::members;
use crate::error::AppError;
use crate::http::app::session::{Layout, Owner};
use crate::services::{liability, retention};
use crate::state::AppState;

#[derive(Debug, Serialize)]
struct SegmentCount {
    key: String,
    count: i64,
}

pub async fn show(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let shop = session.shop.clone();
    let (members_count, outstanding, segments) = state
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
            Ok::<_, AppError>((count, report.outstanding, segments))
        })
        .await?;
    state.pages.render(
        "app_overview.html",
        minijinja::context! {
            layout => Layout::of(&session, "overview"),
            currency => session.shop.currency,
            timezone => session.shop.timezone,
            locale => session.shop.locale,
            members => members_count,
            outstanding => outstanding,
            segments => segments,
        },
    )
}
