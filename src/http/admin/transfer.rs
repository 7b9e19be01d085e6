//! `GET /export/customers.csv` and `POST /import/customers`: both stream, so a shop's whole
//! customer list goes out and comes in without being held in memory.

use std::io::Read;

use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::db::DbError;
use crate::error::{AppError, ErrorCode};
use crate::http::extract::ShopSession;
use crate::services::customers::{export, import};
use crate::state::AppState;

/// The largest import accepted: 100,000 rows are about 6 MiB; far more is a wrong file.
pub const MAX_IMPORT_BYTES: usize = 50 * 1024 * 1024;

pub async fn export_customers(session: ShopSession, state: web::Data<AppState>) -> HttpResponse {
    let shop_id = session.shop.id.clone();
    let filename = format!(
        "customers-{}-{}.csv",
        session.shop.domain.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '-',
            "_"
        ),
        chrono::Utc::now().format("%Y-%m-%d")
    );
    // One page per chunk, read when the client is ready for it; the cursor is the state.
    enum Next {
        Header,
        After(Option<String>),
        Done,
    }
    let pages = futures_util::stream::unfold(Next::Header, move |next| {
        let (state, shop_id) = (state.clone(), shop_id.clone());
        async move {
            match next {
                Next::Header => Some((Ok(Bytes::from(export::header())), Next::After(None))),
                Next::After(after) => {
                    let page = state
                        .db
                        .run(move |c| {
                            export::page(c, &shop_id, after.as_deref()).map_err(DbError::from)
                        })
                        .await;
                    match page {
                        Ok((csv, Some(cursor))) => {
                            Some((Ok(Bytes::from(csv)), Next::After(Some(cursor))))
                        }
                        Ok((csv, None)) => Some((Ok(Bytes::from(csv)), Next::Done)),
                        // The status line is sent already: breaking the stream off tells the
                        // client the file is incomplete rather than handing it a short one.
                        Err(e) => Some((Err(AppError::from(e)), Next::Done)),
                    }
                }
                Next::Done => None,
            }
        }
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .streaming(pages)
}

/// The upload as a `Read` for the CSV reader on a blocking thread, fed chunk by chunk by the
/// request's task: the file is parsed and applied while it arrives.
///
/// The channel is unbounded (the upload is capped at [`MAX_IMPORT_BYTES`]) so the body is read
/// at network speed: the edge's body deadline covers reading the body, and a large import
/// applies for longer than that.
struct ChannelReader {
    chunks: mpsc::UnboundedReceiver<Result<Bytes, String>>,
    current: Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(Err(reason)) => return Err(std::io::Error::other(reason)),
                Some(Ok(chunk)) => self.current = chunk,
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        for (to, from) in buf.iter_mut().zip(chunk.iter()) {
            *to = *from;
        }
        Ok(n)
    }
}

impl From<import::ImportError> for AppError {
    fn from(e: import::ImportError) -> Self {
        use import::ImportError::*;
        match e {
            Empty | Header(_) => AppError::validation(e.to_string()),
            Unreadable { .. } => AppError::bad_request(e.to_string()),
            Database(db) => db.into(),
        }
    }
}

fn is_csv_upload(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    else {
        return true; // curl --data-binary without a type: the body is what matters
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "text/csv" | "application/csv" | "text/plain" | "application/octet-stream"
    )
}

pub async fn import_customers(
    req: HttpRequest,
    session: ShopSession,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    if !is_csv_upload(&req) {
        return Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send the CSV file itself as the request body, with Content-Type: text/csv",
        ));
    }
    let announced = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > MAX_IMPORT_BYTES) {
        return Err(AppError::new(
            ErrorCode::PayloadTooLarge,
            format!(
                "the file is larger than {} MiB: split it into smaller files",
                MAX_IMPORT_BYTES / 1024 / 1024
            ),
        ));
    }
    let report = import_stream(
        &state,
        session.shop,
        payload.map(|c| c.map_err(|e| e.to_string())),
    )
    .await??;
    Ok(HttpResponse::Ok().json(report))
}

/// Imports a CSV arriving as a stream of chunks (a request body, or a form's file field):
/// parsed and applied on a blocking thread while the chunks are still arriving. At most
/// [`MAX_IMPORT_BYTES`] are read. The inner error is the file's fault, for the caller to word
/// (the API in English, the admin page in the owner's language).
pub async fn import_stream(
    state: &AppState,
    shop: crate::db::models::Shop,
    mut chunks: impl futures_util::Stream<Item = Result<Bytes, String>> + Unpin,
) -> Result<Result<import::ImportReport, import::ImportError>, AppError> {
    let (tx, rx) = mpsc::unbounded_channel::<Result<Bytes, String>>();
    let apply = state.db.run(move |c| {
        let reader = ChannelReader {
            chunks: rx,
            current: Bytes::new(),
        };
        match import::run(c, &shop, reader, crate::db::now()) {
            Err(import::ImportError::Database(e)) => Err(AppError::from(e)),
            outcome => Ok(outcome),
        }
    });
    let feed = async move {
        let mut received = 0usize;
        while let Some(chunk) = chunks.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(format!("the upload broke off: {e}")));
                    return;
                }
            };
            received += chunk.len();
            if received > MAX_IMPORT_BYTES {
                let _ = tx.send(Err(format!(
                    "the file is larger than {} MiB: split it into smaller files",
                    MAX_IMPORT_BYTES / 1024 / 1024
                )));
                return;
            }
            if tx.send(Ok(chunk)).is_err() {
                return; // the import stopped (a bad header): nothing more to read
            }
        }
    };
    let (report, ()) = tokio::join!(apply, feed);
    report
}
