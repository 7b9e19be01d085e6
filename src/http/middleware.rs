//! Cross-cutting middleware: request metrics and ids, the JSON shape of every error, and the
//! root tracing span with the fields handlers fill in.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use actix_web::http::{Method, Uri};
use actix_web::middleware::{ErrorHandlerResponse, Next};
use actix_web::{web, Error, HttpMessage};
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

use crate::error::{error_body, ErrorCode};
use crate::state::AppState;

/// The route label of a request that matched no route.
const UNMATCHED_ROUTE: &str = "unmatched";

/// The method as a metrics label and log field: one of the standard methods, else `OTHER`.
/// Any token is a valid HTTP method, so a label taken from the request as sent would let any
/// client add series to `/metrics` without limit.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Counts requests and their latency by method and route pattern (labels that take no value
/// from the request), and echoes the request id so a client can quote it.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = method_label(req.method());
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let mut res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
    if let Some(state) = state {
        let status = res.status().as_u16().to_string();
        state
            .metrics
            .http_requests
            .with_label_values(&[method, route.as_str(), status.as_str()])
            .inc();
        state
            .metrics
            .http_duration
            .with_label_values(&[method, route.as_str()])
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
/// malformed extractor input) the same `{"error":{"code","message"}}` body as ours. A page that
/// answers an error with HTML of its own (an unknown referral link) keeps it.
pub fn json_errors<B: MessageBody + 'static>(
    res: ServiceResponse<B>,
) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let already_answered = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if already_answered {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let code = ErrorCode::from_status(status);
    let message = match code {
        ErrorCode::NotFound => format!(
            "no such endpoint: {} {}",
            method_label(res.request().method()),
            res.request().path()
        ),
        ErrorCode::MethodNotAllowed => format!(
            "{} is not allowed on {}",
            method_label(res.request().method()),
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
/// know which shop the request is for. Its target is the path and a redacted query string:
/// queries carry widget digests, app-proxy signatures, unsubscribe tokens and customer ids.
pub struct RootSpan;

impl RootSpanBuilder for RootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        use tracing::field::Empty;
        let route = request
            .match_pattern()
            .unwrap_or_else(|| UNMATCHED_ROUTE.to_owned());
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let client_ip = request
            .connection_info()
            .realip_remote_addr()
            .unwrap_or("")
            .to_owned();
        tracing::info_span!(
            "HTTP request",
            http.method = method_label(request.method()),
            http.route = %route,
            http.target = %redacted_target(request.uri()),
            http.client_ip = %client_ip,
            http.user_agent = %user_agent,
            http.status_code = Empty,
            otel.status_code = Empty,
            request_id = %request_id,
            exception.message = Empty,
            exception.details = Empty,
            shop = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Query parameters whose values are safe to log: they say which shop and which page, never
/// who or with what proof.
const LOGGED_QUERY_PARAMS: &[&str] = &[
    "shop",
    "status",
    "limit",
    "from",
    "to",
    "timestamp",
    "path_prefix",
    "segment",
    "locale",
];

/// The path and the query string with every value but those of [`LOGGED_QUERY_PARAMS`]
/// replaced by `REDACTED`.
pub fn redacted_target(uri: &Uri) -> String {
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return uri.path().to_owned();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if LOGGED_QUERY_PARAMS.contains(&key) => format!("{key}={value}"),
            Some((key, _)) => format!("{key}=REDACTED"),
            None => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

/// Records the shop a request belongs to on the request's root span.
pub fn record_shop(shop: &str) {
    Span::current().record("shop", shop);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_targets_keep_the_path_and_hide_digests_signatures_and_customers() {
        let uri: Uri = "/widget/v1/state?shop=a.example&customer=7001&digest=abc123"
            .parse()
            .unwrap();
        assert_eq!(
            redacted_target(&uri),
            "/widget/v1/state?shop=a.example&customer=REDACTED&digest=REDACTED"
        );
        let uri: Uri = "/proxy/state?logged_in_customer_id=42&signature=ff&timestamp=1"
            .parse()
            .unwrap();
        let logged = redacted_target(&uri);
        assert!(!logged.contains("42") && !logged.contains("ff"), "{logged}");
        assert_eq!(redacted_target(&"/healthz".parse().unwrap()), "/healthz");
    }

    #[test]
    fn made_up_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        for made_up in ["FOO", "BAR1", "PROPFIND"] {
            assert_eq!(
                method_label(&Method::from_bytes(made_up.as_bytes()).unwrap()),
                "OTHER"
            );
        }
    }
}
