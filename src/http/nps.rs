//! NPS answers.
//!
//! - `GET /nps/{token}?score=N` (the survey e-mail's links): records the answer and shows a
//!   thank-you page, in the member's language, with an optional comment form. An unknown token
//!   gets a `404` page, a score that is not a whole number 0–10 a `400` page; neither stores
//!   anything. Another click within 24 hours changes the score; later ones change nothing.
//! - `POST /nps/{token}` (form field `comment`): sets that answer's comment.
//! - `POST {base}/nps` `{"score":0..10,"comment":"…"}` (the storefront widget, a logged-in
//!   member): `201 {"score","channel":"widget","answered_on"}`; once per 90 days, else `409`.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::db::now;
use crate::error::{AppError, ErrorCode};
use crate::http::storefront::ShopperClaim;
use crate::services::nps::{self, LinkAnswer, NpsError};
use crate::state::AppState;

impl From<NpsError> for AppError {
    fn from(e: NpsError) -> Self {
        let code = match &e {
            NpsError::UnknownToken => ErrorCode::NotFound,
            NpsError::BadScore | NpsError::CommentTooLong | NpsError::NotAnswered => {
                ErrorCode::ValidationFailed
            }
            NpsError::NotAMember => ErrorCode::Forbidden,
            NpsError::AlreadyAnswered { .. } => ErrorCode::Conflict,
            NpsError::Database(_) => return AppError::internal(e),
        };
        AppError::new(code, e.to_string())
    }
}

#[derive(Debug, Deserialize)]
pub struct ScoreQuery {
    score: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CommentForm {
    comment: Option<String>,
}

/// The survey page for an outcome: the thanks (and comment form), or why nothing was stored.
fn page(
    state: &AppState,
    token: &str,
    outcome: Result<LinkAnswer, NpsError>,
    commented: bool,
) -> Result<HttpResponse, AppError> {
    let (status, problem, answer) = match outcome {
        Ok(answer) => (StatusCode::OK, None, Some(answer)),
        Err(NpsError::UnknownToken) => (StatusCode::NOT_FOUND, Some("unknown"), None),
        Err(NpsError::BadScore) => (StatusCode::BAD_REQUEST, Some("score"), None),
        Err(NpsError::NotAnswered) => (StatusCode::BAD_REQUEST, Some("score"), None),
        Err(NpsError::CommentTooLong) => (StatusCode::BAD_REQUEST, Some("long"), None),
        Err(e) => return Err(e.into()),
    };
    let locale = answer.as_ref().map_or("en", |a| a.locale.as_str());
    let mut resp = state.pages.render(
        "nps.html",
        minijinja::context! {
            token,
            problem,
            commented,
            locale,
            dir => answer.as_ref().map_or("ltr", |a| a.locale.dir()),
            shop_name => answer.as_ref().map(|a| a.shop_name.clone()),
            score => answer.as_ref().map(|a| a.response.score),
            comment => answer.as_ref().and_then(|a| a.response.comment.clone()),
            max_chars => nps::COMMENT_MAX_CHARS,
        },
    )?;
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(resp)
}

/// `GET /nps/{token}?score=N`.
pub async fn answer_link(
    token: web::Path<String>,
    query: web::Query<ScoreQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let score = query.into_inner().score;
    let t = token.clone();
    let outcome = state
        .db
        .run(move |c| Ok::<_, AppError>(nps::answer_by_link(c, &t, score.as_deref(), now())))
        .await?;
    page(&state, &token, outcome, false)
}

/// `POST /nps/{token}` with `comment`.
pub async fn comment_link(
    token: web::Path<String>,
    form: web::Form<CommentForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let comment = form.into_inner().comment;
    let t = token.clone();
    let outcome = state
        .db
        .run(move |c| Ok::<_, AppError>(nps::comment_by_link(c, &t, comment.as_deref(), now())))
        .await?;
    page(&state, &token, outcome, true)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// Kept as JSON so that a missing or non-integer score is a clear `422`, not a parse error.
    #[serde(default)]
    score: serde_json::Value,
    comment: Option<String>,
}

/// `POST {base}/nps`.
pub async fn answer_widget(
    claim: ShopperClaim,
    body: web::Json<AnswerBody>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let keys = state.keys.clone();
    let body = body.into_inner();
    let response = state
        .db
        .run(move |c| {
            let shopper = claim.resolve(c, &keys)?;
            let customer_id = shopper
                .customer_id
                .ok_or_else(|| AppError::unauthorized("log in to answer the survey"))?;
            nps::answer_in_widget(
                c,
                &shopper.shop,
                &customer_id,
                body.score.as_i64(),
                body.comment.as_deref(),
                now(),
            )
            .map_err(AppError::from)
        })
        .await?;
    Ok(HttpResponse::Created().json(serde_json::json!({
        "score": response.score,
        "channel": response.channel,
        "answered_on": response.answered_on,
    })))
}
