//! `POST /webhooks/shopify`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::crypto::sha256_hex;
use crate::db::types::Platform;
use crate::error::{AppError, ErrorCode};
use crate::http::body::read_raw;
use crate::http::middleware::record_shop;
use crate::platform::shopify::webhook::body::check as check_body;
use crate::platform::shopify::webhook::verify;
use crate::services::inbox::Delivery;
use crate::state::AppState;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

pub async fn receive(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    // The bytes as received: a `Content-Encoding` must not change what the signature covers.
    let body = read_raw(&req, payload, state.config.max_body_bytes).await?;
    let shopify = &state.config.shopify;
    let signature = header(&req, "x-shopify-hmac-sha256").unwrap_or_default();
    if !verify(
        &body,
        signature,
        &shopify.api_secret,
        shopify.previous_api_secret.as_ref(),
    ) {
        state
            .metrics
            .webhooks
            .with_label_values(&["shopify", "unauthorized"])
            .inc();
        return Err(AppError::new(
            ErrorCode::InvalidSignature,
            "missing or invalid X-Shopify-Hmac-Sha256",
        ));
    }
    // Verified bytes only from here on.
    let checked =
        check_body(&body).map_err(|e| AppError::new(ErrorCode::InvalidJson, e.to_string()))?;
    let required = |name: &str| {
        header(&req, name)
            .map(str::to_owned)
            .ok_or_else(|| AppError::bad_request(format!("missing header {name}")))
    };
    let topic = required("X-Shopify-Topic")?;
    let shop_domain = required("X-Shopify-Shop-Domain")?.to_ascii_lowercase();
    record_shop(&shop_domain);
    // The header is not signed: a captured delivery replayed under another shop's domain must
    // not act on that shop.
    if !checked.is_for_shop(&shop_domain) {
        return Err(AppError::bad_request(
            "X-Shopify-Shop-Domain is not the shop the body names",
        ));
    }
    let event_id = header(&req, "x-shopify-event-id").map(str::to_owned);
    // Shopify always sends a webhook id; without one, identical bodies are the same delivery.
    let delivery_id = header(&req, "x-shopify-webhook-id")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "sha256:{}",
                sha256_hex(&format!("{topic}\n{}", checked.text))
            )
        });
    let delivery = Delivery {
        platform: Platform::Shopify,
        shop_domain,
        topic,
        delivery_id,
        event_id,
        api_version: header(&req, "x-shopify-api-version").map(str::to_owned),
        triggered_at: header(&req, "x-shopify-triggered-at")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.naive_utc()),
        payload: checked.text.to_owned(),
    };
    let received = state.ingest.submit(delivery).await?;
    let outcome = serde_json::to_value(received.receipt).unwrap_or_default();
    let label = outcome.as_str().unwrap_or("accepted").to_owned();
    state
        .metrics
        .webhooks
        .with_label_values(&["shopify", label.as_str()])
        .inc();
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": outcome })))
}
