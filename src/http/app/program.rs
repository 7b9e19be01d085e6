//! `/app/program`: the program editor. Every setting of the shop's program on one page, a
//! `<fieldset>` per section; a post is checked exactly as the admin API's `PUT /program` checks
//! it and saved through the same service. A refused post shows the page again (422) with what the
//! owner entered and each message next to its field, and changes nothing.

mod form;
mod rebuild;
mod summary;
#[cfg(test)]
mod tests;
mod words;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::Value;

use crate::error::AppError;
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::services::program::{self, Program, ProgramError};
use crate::state::AppState;

use form::Section;
use rebuild::Entered;
use words::Words;

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    saved: Option<String>,
}

fn stored(shop: &crate::db::models::Shop) -> Result<Value, AppError> {
    serde_json::to_value(Program::of(shop)).map_err(AppError::internal)
}

pub async fn show(
    owner: Owner,
    query: web::Query<ShowQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let session = owner.0;
    let layout = Layout::of(&session, "program");
    let words = Words::new(layout.lang);
    let mut sections = form::build(&stored(&session.shop)?, &words);
    let saved = query.saved.is_some();
    render(
        &state,
        layout,
        &words,
        &mut sections,
        None,
        saved,
        StatusCode::OK,
    )
}

pub async fn save(
    req: HttpRequest,
    owner: Owner,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let entered = Entered::parse(&body);
    check_csrf(&req, &owner.0, &entered.csrf)?;
    let session = owner.0;
    let layout = Layout::of(&session, "program");
    let words = Words::new(layout.lang);
    let root = stored(&session.shop)?;
    let mut sections = form::build(&root, &words);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let Some(json) = rebuild::apply(&root, &mut sections, &entered, &words) else {
        return render(&state, layout, &words, &mut sections, None, false, refused);
    };
    let bytes = serde_json::to_vec(&json).map_err(AppError::internal)?;
    let parsed = match Program::parse(&bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            let general = summary::place(&mut sections, e.field(), message(&e));
            return render(
                &state,
                layout,
                &words,
                &mut sections,
                general,
                false,
                refused,
            );
        }
    };
    let shop = session.shop.clone();
    state
        .db
        .run(move |c| program::replace(c, &shop, &parsed))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", "/app/program?saved=1"))
        .finish())
}

/// The message shown next to a field: the path is where it is shown, so only the problem.
fn message(e: &ProgramError) -> String {
    match e {
        ProgramError::ShapeAt(_, inner) | ProgramError::Shape(inner) => {
            let text = inner.to_string();
            // serde's " at line 1 column 220" points into JSON the owner never saw.
            match text.find(" at line ") {
                Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
                None => text,
            }
        }
        other => other.to_string(),
    }
}

fn render(
    state: &AppState,
    layout: Layout,
    words: &Words,
    sections: &mut [Section],
    general: Option<String>,
    saved: bool,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let summary = summary::finish(sections, general, words);
    let mut page = state.pages.render(
        "app_program.html",
        minijinja::context! {
            layout => layout,
            sections => sections,
            summary => summary,
            saved => saved,
        },
    )?;
    *page.status_mut() = status;
    Ok(page)
}
