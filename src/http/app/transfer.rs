//! `/app/transfer`: the import form (a file upload, no script needed) and the export link.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use serde::Serialize;

use crate::domain::customer_import::HeaderError;
use crate::error::AppError;
use crate::http::admin::transfer::{export_customers as export_csv, import_stream};
use crate::http::app::session::{check_csrf, Layout, Owner};
use crate::http::app::texts::{language, say};
use crate::http::extract::ShopSession;
use crate::services::customers::import::{ImportError, ImportReport, RowProblem};
use crate::state::AppState;

/// The import's report as the page shows it: each refused row's reason in the owner's language.
#[derive(Debug, Serialize)]
struct ShownReport {
    rows: u64,
    imported: u64,
    unchanged: u64,
    failed: u64,
    errors: Vec<ShownRowError>,
}

#[derive(Debug, Serialize)]
struct ShownRowError {
    row: u64,
    message: String,
}

impl ShownReport {
    fn of(report: ImportReport, lang: &str) -> Self {
        Self {
            rows: report.rows,
            imported: report.imported,
            unchanged: report.unchanged,
            failed: report.failed,
            errors: report
                .errors
                .into_iter()
                .map(|e| ShownRowError {
                    row: e.row,
                    message: problem_text(lang, &e.problem),
                })
                .collect(),
        }
    }
}

/// A refused row's reason in `lang` (the texts `imp_{code}`).
pub fn problem_text(lang: &str, problem: &RowProblem) -> String {
    say(lang, &format!("imp_{}", problem.code()), &problem.args())
}

/// Why the whole file was refused, in `lang`, with the page's status; `None` for a database
/// failure (not the file's fault: answered as any other).
fn file_problem_text(lang: &str, error: &ImportError) -> Option<(String, StatusCode)> {
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    Some(match error {
        ImportError::Empty => (say(lang, "imp_file_empty", &[]), refused),
        ImportError::Header(HeaderError::NoCustomerColumn(got)) => (
            say(lang, "imp_header_no_customer", &[("got", got.clone())]),
            refused,
        ),
        ImportError::Header(HeaderError::Repeated(name)) => (
            say(lang, "imp_header_repeated", &[("name", name.clone())]),
            refused,
        ),
        ImportError::Unreadable { rows_read, reason } => (
            say(
                lang,
                "imp_file_unreadable",
                &[("rows", rows_read.to_string()), ("reason", reason.clone())],
            ),
            StatusCode::BAD_REQUEST,
        ),
        ImportError::Database(_) => return None,
    })
}

pub async fn show(owner: Owner, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state.pages.render(
        "app_transfer.html",
        minijinja::context! {
            layout => Layout::of(&owner.0, "transfer"), report => (), file_error => (),
        },
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
    let Some(outcome) = report else {
        return Err(AppError::bad_request("choose a CSV file to import"));
    };
    let lang = language(&owner.0.shop.locale);
    let layout = Layout::of(&owner.0, "transfer");
    match outcome {
        Ok(report) => state.pages.render(
            "app_transfer.html",
            minijinja::context! {
                layout => layout, report => ShownReport::of(report, lang), file_error => (),
            },
        ),
        Err(error) => {
            let Some((message, status)) = file_problem_text(lang, &error) else {
                return Err(match error {
                    ImportError::Database(e) => e.into(),
                    other => AppError::internal(other),
                });
            };
            let mut page = state.pages.render(
                "app_transfer.html",
                minijinja::context! { layout => layout, report => (), file_error => message },
            )?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}

/// The export for a signed-in owner (the same stream as the API's).
pub async fn export(owner: Owner, state: web::Data<AppState>) -> HttpResponse {
    let session = ShopSession {
        shop: owner.0.shop,
        actor: owner.0.actor,
    };
    export_csv(session, state).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_reason_reads_as_the_apis_message_in_english_and_has_arabic() {
        for problem in RowProblem::examples() {
            assert_eq!(problem_text("en", &problem), problem.to_string());
            let arabic = problem_text("ar", &problem);
            assert!(
                !arabic.contains('{') && arabic != format!("imp_{}", problem.code()),
                "{arabic}"
            );
            assert_ne!(arabic, problem.to_string());
        }
    }

    #[test]
    fn whole_file_reasons_read_as_the_apis_message_in_english() {
        for error in [
            ImportError::Empty,
            ImportError::Header(HeaderError::NoCustomerColumn("points,tier".into())),
            ImportError::Header(HeaderError::Repeated("email".into())),
            ImportError::Unreadable {
                rows_read: 3,
                reason: "CSV error".into(),
            },
        ] {
            let (english, _) = file_problem_text("en", &error).unwrap();
            assert_eq!(english, error.to_string());
            let (arabic, _) = file_problem_text("ar", &error).unwrap();
            assert!(!arabic.contains('{') && arabic != english, "{arabic}");
        }
    }
}
