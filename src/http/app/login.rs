//! `GET|POST /app/login` and `POST /app/logout`. The GET only shows a button: a link scanner or
//! a chat preview fetching the link must not spend it; the owner's POST does.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::db::DbError;
use crate::error::AppError;
use crate::http::app::session::{
    check_csrf, cleared_cookie, secure_cookies, session_cookie, Owner, COOKIE,
};
use crate::http::app::texts::texts;
use crate::services::admin_sessions::{self, SignInError};
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

pub async fn confirm(
    query: web::Query<LinkQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = query.into_inner().token.unwrap_or_default();
    let mut page = state.pages.render(
        "app_login.html",
        minijinja::context! { token => token, t => texts("en"), lang => "en", dir => "ltr" },
    )?;
    page.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    // The token is in this page's URL: it must not leak to other sites through `Referer`.
    page.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(page)
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
}

pub async fn sign_in(
    form: web::Form<SignInForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = form.into_inner().token;
    let signed_in = state
        .db
        .run(move |c| {
            admin_sessions::sign_in(c, &token, crate::db::now()).map_err(|e| match e {
                SignInError::Refused(refused) => AppError::unauthorized(refused.to_string()),
                SignInError::Database(db) => AppError::from(DbError::from(db)),
            })
        })
        .await;
    match signed_in {
        Ok((cookie, _)) => Ok(HttpResponse::SeeOther()
            .cookie(session_cookie(cookie, secure_cookies(&state)))
            .insert_header(("Location", "/app"))
            .finish()),
        Err(e) => {
            let mut page = state.pages.render(
                "app_login.html",
                minijinja::context! {
                    token => "", error => e.message, t => texts("en"), lang => "en", dir => "ltr"
                },
            )?;
            *page.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
            Ok(page)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    req: HttpRequest,
    owner: Owner,
    form: web::Form<CsrfForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    check_csrf(&req, &owner.0, &form.csrf)?;
    if let Some(cookie) = req.cookie(COOKIE).map(|c| c.value().to_owned()) {
        state
            .db
            .run(move |c| {
                admin_sessions::sign_out(c, &cookie, crate::db::now()).map_err(DbError::from)
            })
            .await?;
    }
    Ok(HttpResponse::SeeOther()
        .cookie(cleared_cookie(secure_cookies(&state)))
        .insert_header(("Location", "/app"))
        .finish())
}
