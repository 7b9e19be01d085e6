//! `/app/transfer`: the import form (a file upload, no script needed) and the export link.

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;

use crate::error::AppError;
use crate::http::admin::transfer::{export_customers as export_csv, import_stream};
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::http::extract::ShopSession;
use crate::state::AppState;

pub async fn show(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.pages.render(
        "app_transfer.html",
        minijinja::context! { layout => Layout::of(&owner.0, "transfer"), report => () },
    )
}

/// The form sends `csrf` first, then `file` (browsers send fields in the form's order); a file
/// before the token is refused unread.
pub async fn import(
    req: HttpRequest,
    owner: Owner,
    mut form: Multipart,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let mut csrf_checked = false;
    let mut report = None;
    while let Some(field) = form.next().await {
        let mut field =
            field.map_err(|e| AppError::bad_request(format!("the form could not be read: {e}")))?;
        match field.name() {
            Some("csrf") => {
                let mut token = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(|e| AppError::bad_request(e.to_string()))?;
                    if token.len() + chunk.len() > 256 {
                        return Err(AppError::bad_request("the form's csrf field is too long"));
                    }
                    token.extend_from_slice(&chunk);
                }
                check_csrf(&req, &owner.0, &String::from_utf8_lossy(&token))?;
                csrf_checked = true;
            }
            Some("file") if csrf_checked => {
                let chunks = field.map(|c| c.map_err(|e| e.to_string()));
                report = Some(import_stream(&state, owner.0.shop.clone(), Box::pin(chunks)).await?);
            }
            Some("file") => {
                check_csrf(&req, &owner.0, "")?;
            }
            _ => {}
        }
    }
    let Some(report) = report else {
        return Err(AppError::bad_request("choose a CSV file to import"));
    };
    state.pages.render(
        "app_transfer.html",
        minijinja::context! { layout => Layout::of(&owner.0, "transfer"), report => report },
    )
}

/// The export for a signed-in owner (the same stream as the API's).
pub async fn export(owner: Owner, state: web::Data<AppState>) -> HttpResponse {
    let session = ShopSession {
        shop: owner.0.shop,
        actor: owner.0.actor,
    };
    export_csv(session, state).await
}
