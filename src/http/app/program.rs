//! `/app/program`: the program editor. Every setting of the shop's program on one page, a
//! `<fieldset>` per section; a post is checked exactly as the admin API's `PUT /program` checks
//! it and saved through the same service. A refused post shows the page again (422) with what the
//! owner entered and each message next to its field, in the owner's language, and changes
//! nothing. Lists of objects are edited as rows; "add a …" and "update the form" show the page
//! again with the row added or the kind's fields, without saving (no JavaScript needed).

mod form;
mod messages;
mod order;
mod paths;
mod pinpoint;
mod rebuild;
mod rows;
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
use crate::services::program::{self, Program};
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
    let mut sections = form::build(&stored(&session.shop)?, &words, &[]);
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
    let (skeleton, new_items) = rows::skeleton(&root, &entered);
    let mut sections = form::build(&skeleton, &words, &new_items);
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let rebuilt = rebuild::apply(&skeleton, &mut sections, &entered, &words);
    if entered.only_shows() {
        // A row added or a kind chosen: the page again, as entered, nothing saved.
        return render(
            &state,
            layout,
            &words,
            &mut sections,
            None,
            false,
            StatusCode::OK,
        );
    }
    let Some(mut json) = rebuilt else {
        return render(&state, layout, &words, &mut sections, None, false, refused);
    };
    let kept = rows::remove_ticked(&mut json, &entered.removed);
    let bytes = serde_json::to_vec(&json).map_err(AppError::internal)?;
    let parsed = match Program::parse_for(&bytes, session.shop.platform) {
        Ok(parsed) => parsed,
        Err(e) => {
            let field = pinpoint::field(&e, &json).map(|path| kept.on_page(&path));
            let message = messages::said(&e).in_lang(words.lang());
            let general = summary::place(&mut sections, field, message);
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
