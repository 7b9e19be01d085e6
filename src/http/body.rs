//! Request bodies at the edge: a deadline for reading them, NUL characters refused before they
//! can reach SQL, and the raw bytes for handlers that must see exactly what was sent.
//!
//! actix-web's own timeouts cover the request head only: a client that announces a large body
//! and then sends one byte would otherwise hold its connection (and a worker's attention)
//! forever. PostgreSQL cannot store U+0000 in text, so a NUL in any value that reaches SQL
//! would be a 500; it is refused here, once, for every route (webhooks excepted: their bodies
//! are stored as received and an event with a NUL is kept as failed when applied).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_LENGTH;
use actix_web::middleware::Next;
use actix_web::web::{self, Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::{Stream, StreamExt};

use crate::error::{error_body, AppError, ErrorCode};
use crate::state::AppState;

/// What the guard saw while the handler read the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Fine,
    TooSlow,
    HasNul,
}

const NUL_MESSAGE: &str = "the request contains a NUL character (U+0000), which is not accepted";

/// Puts a deadline on reading the body (and, outside webhooks, refuses NUL characters in the
/// path, the query string and the body). The answer is `408` or `400` in the usual JSON shape,
/// whatever the handler made of the interrupted body.
pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if has_encoded_nul(req.uri().path()) || req.uri().query().is_some_and(has_encoded_nul) {
        let refusal = AppError::bad_request(NUL_MESSAGE).error_response();
        return Ok(req.into_response(refusal).map_into_right_body());
    }
    let timeout = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.config.body_read_timeout)
        .unwrap_or(Duration::from_secs(30));
    let shared = Rc::new(Shared::default());
    match req.take_payload() {
        Payload::None => {}
        payload => {
            let scan_for_nul = !req.path().starts_with("/webhooks/");
            let guarded = Guarded {
                inner: payload,
                deadline: Box::pin(tokio::time::sleep(timeout)),
                nul_scan: scan_for_nul.then(NulScan::default),
                shared: shared.clone(),
            };
            let boxed: Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> = Box::pin(guarded);
            req.set_payload(Payload::from(boxed));
        }
    }
    let res = next.call(req).await?;
    let refusal = match shared.verdict.get() {
        Verdict::Fine => return Ok(res.map_into_left_body()),
        Verdict::TooSlow => AppError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the request body was not received within {} s",
                timeout.as_secs()
            ),
        ),
        Verdict::HasNul => AppError::bad_request(NUL_MESSAGE),
    };
    let unread = shared.unread.borrow_mut().take();
    let response = match unread {
        Some(unread) => HttpResponse::build(refusal.code.status())
            .content_type("application/json")
            .body(HoldingBody {
                json: Some(Bytes::from(error_body(refusal.code, &refusal.message))),
                _unread: unread,
            }),
        None => refusal.error_response(),
    };
    Ok(res.into_response(response).map_into_right_body())
}

/// A refusal's JSON body, holding the rest of the refused request body until it is sent.
///
/// actix closes the connection after a response only when the request body is unread *and*
/// still wanted when the response ends; a request body nobody holds any more is drained, and a
/// client trickling a chunked body would make that last forever.
struct HoldingBody {
    json: Option<Bytes>,
    _unread: Payload,
}

impl MessageBody for HoldingBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.json.as_ref().map_or(0, |j| j.len() as u64))
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(self.get_mut().json.take().map(Ok))
    }
}

/// `%00` (a NUL once decoded) in a raw path or query string.
fn has_encoded_nul(raw: &str) -> bool {
    raw.as_bytes()
        .windows(3)
        .any(|w| w.first() == Some(&b'%') && w.get(1..) == Some(b"00".as_slice()))
}

/// The JSON escape of U+0000.
const NUL_ESCAPE: &[u8] = b"\\u0000";

/// A raw NUL byte or the JSON escape `\u0000` in `bytes`.
fn has_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0) || bytes.windows(NUL_ESCAPE.len()).any(|w| w == NUL_ESCAPE)
}

/// The request payload, cut off with an error at the deadline or at a NUL.
struct Guarded {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    nul_scan: Option<NulScan>,
    shared: Rc<Shared>,
}

/// What the guarded stream tells the middleware.
struct Shared {
    verdict: Cell<Verdict>,
    /// The payload after a refusal, not yet read to its end.
    unread: RefCell<Option<Payload>>,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            verdict: Cell::new(Verdict::Fine),
            unread: RefCell::new(None),
        }
    }
}

/// Looks for NUL in a body chunk by chunk.
#[derive(Debug, Default)]
struct NulScan {
    /// The end of the previous chunk, so an escape split across two chunks is still seen.
    tail: Vec<u8>,
}

impl NulScan {
    fn sees_nul(&mut self, chunk: &[u8]) -> bool {
        let keep = NUL_ESCAPE.len() - 1;
        let mut seam = std::mem::take(&mut self.tail);
        seam.extend(chunk.iter().take(keep));
        if has_nul(&seam) || has_nul(chunk) {
            return true;
        }
        self.tail = chunk
            .get(chunk.len().saturating_sub(keep)..)
            .unwrap_or_default()
            .to_vec();
        false
    }
}

impl Guarded {
    fn refuse(&mut self, verdict: Verdict) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.shared.verdict.set(verdict);
        let unread = std::mem::replace(&mut self.inner, Payload::None);
        *self.shared.unread.borrow_mut() = Some(unread);
        let kind = match verdict {
            Verdict::TooSlow => std::io::ErrorKind::TimedOut,
            _ => std::io::ErrorKind::InvalidData,
        };
        Poll::Ready(Some(Err(PayloadError::Io(std::io::Error::new(
            kind,
            "request body refused",
        )))))
    }
}

impl Stream for Guarded {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.shared.verdict.get() != Verdict::Fine {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this
                    .nul_scan
                    .as_mut()
                    .is_some_and(|scan| scan.sees_nul(&chunk))
                {
                    return this.refuse(Verdict::HasNul);
                }
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => Poll::Ready(other),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => this.refuse(Verdict::TooSlow),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// The body exactly as it was sent: not decompressed (a `Content-Encoding` header does not
/// change which bytes a signature covers), at most `limit` bytes.
pub async fn read_raw(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, AppError> {
    let too_large = || {
        AppError::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than the limit of {limit} bytes"),
        )
    };
    let announced = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = BytesMut::with_capacity(announced.unwrap_or(0));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| match e {
            PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => AppError::new(
                ErrorCode::RequestTimeout,
                "the request body was not received in time",
            ),
            _ => AppError::bad_request("the request body could not be read"),
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_encoded_nul_in_paths_and_queries() {
        assert!(has_encoded_nul("customer=%00"));
        assert!(has_encoded_nul("/api/admin/v1/customers/1%00"));
        assert!(!has_encoded_nul("customer=%200&digest=abc%2F"));
        assert!(!has_encoded_nul("a=%0"));
    }

    #[test]
    fn finds_a_nul_escape_split_across_chunks() {
        let mut scan = NulScan::default();
        assert!(!scan.sees_nul(br#"{"reason":"a\"#));
        assert!(scan.sees_nul(br#"u0000b"}"#));
        let mut scan = NulScan::default();
        assert!(!scan.sees_nul(br#"{"reason":"\u0041 fine","#));
        assert!(!scan.sees_nul(br#""n":"0000"}"#));
        assert!(NulScan::default().sees_nul(b"raw\0byte"));
    }
}
