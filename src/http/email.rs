//! Links in e-mail: one-click unsubscribe (RFC 8058) and the open pixel.
//!
//! - `POST /email/unsubscribe?t=…` suppresses the address for the shop at once and answers
//!   `200` (mail clients post `List-Unsubscribe=One-Click` here without showing a page).
//! - `GET /email/unsubscribe?t=…` only shows a page with a button that posts: link scanners
//!   that open every URL in a message must not unsubscribe anyone.
//! - `GET /email/open?t=…` records the first open of a message and answers a 1×1 GIF.

use actix_web::{web, HttpResponse};
use diesel::prelude::*;
use serde::Deserialize;

use crate::db::models::email::suppress;
use crate::db::models::Member;
use crate::db::schema::emails;
use crate::db::{now, write_transaction};
use crate::error::AppError;
use crate::services::mail::{read_open_token, read_unsubscribe_token};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct Token {
    t: Option<String>,
}

pub async fn unsubscribe_page(
    query: web::Query<Token>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().t.unwrap_or_default();
    let valid = read_unsubscribe_token(&state.keys, &token).is_some();
    let mut page = state.pages.render(
        "unsubscribe.html",
        minijinja::context! { token, valid, done => false },
    )?;
    if !valid {
        *page.status_mut() = actix_web::http::StatusCode::NOT_FOUND;
    }
    Ok(page)
}

pub async fn unsubscribe(
    query: web::Query<Token>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().t.unwrap_or_default();
    let Some((shop_id, member_id)) = read_unsubscribe_token(&state.keys, &token) else {
        return Err(AppError::not_found("this unsubscribe link is not valid"));
    };
    state
        .db
        .run(move |c| {
            write_transaction(c, |c| {
                let Some(member) = Member::find(c, &shop_id, &member_id).optional()? else {
                    return Ok(());
                };
                // Erased customers have no address left to suppress, and get nothing anyway.
                if let Some(email) = &member.email {
                    suppress(c, &shop_id, email, "unsubscribed", now())?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .map_err(AppError::from)
        })
        .await?;
    state.pages.render(
        "unsubscribe.html",
        minijinja::context! { token => "", valid => true, done => true },
    )
}

/// The smallest transparent GIF.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub async fn opened(
    query: web::Query<Token>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().t.unwrap_or_default();
    if let Some((shop_id, email_id)) = read_open_token(&state.keys, &token) {
        state
            .db
            .run(move |c| {
                diesel::update(
                    emails::table
                        .filter(emails::shop_id.eq(&shop_id))
                        .filter(emails::id.eq(&email_id))
                        .filter(emails::opened_at.is_null()),
                )
                .set(emails::opened_at.eq(Some(now())))
                .execute(c)
                .map_err(AppError::from)
            })
            .await?;
    }
    // The same answer for any token: the pixel tells nobody whether a message exists.
    Ok(HttpResponse::Ok()
        .content_type("image/gif")
        .insert_header(("Cache-Control", "no-store"))
        .body(PIXEL))
}
