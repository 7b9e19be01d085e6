//! Cross-cutting middleware: request metrics and ids, the JSON shape of every error, and the
//! root tracing span with the fields handlers fill in.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{web, Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::error::{error_body, ErrorCode};
use crate::state::AppState;

/// Counts requests and their latency by route pattern, and echoes the request id so a client
/// can quote it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().to_string();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    if let Some(state) = state {
        let status = res.status().as_u16().to_string();
        state
            .metrics
            .http_requests
            .with_label_values(&[method.as_str(), route.as_str(), status.as_str()])
            .inc();
        state
            .metrics
            .http_duration
            .with_label_values(&[method.as_str(), route.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut().insert(
            actix_web::http::header::HeaderName::from_static("x-request-id"),
            id,
        );
    }
    Ok(res)
}

/// Gives errors raised outside our handlers (unknown route, wrong method, body too large,
/// malformed extractor input) the same `{"error":{"code","message"}}` body as ours.
pub fn json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if already_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = ErrorCode::from_status(status);
    let message = match code {
        ErrorCode::NotFound => format!(
            "no such endpoint: {} {}",
            res.request().method(),
            res.request().path()
        ),
        ErrorCode::MethodNotAllowed => format!(
            "{} is not allowed on {}",
            res.request().method(),
            res.request().path()
        ),
        ErrorCode::PayloadTooLarge => {
            let limit = res
                .request()
                .app_data::<web::Data<AppState>>()
                .map(|s| s.config.max_body_bytes)
                .unwrap_or_default();
            format!("request body is larger than the limit of {limit} bytes")
        }
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let res = res.set_body(BoxBody::new(error_body(code, &message)));
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body::<B>(),
    ))
}

/// The root span of every request, with an empty `shop` field that handlers record once they
/// know which shop the request is for.
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        tracing_actix_web::root_span!(request, shop = tracing::field::Empty)
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Records the shop a request belongs to on the request's root span.
pub fn record_shop(shop: &str) {
    Span::current().record("shop", shop);
}
