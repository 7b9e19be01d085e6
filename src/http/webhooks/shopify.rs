//! `POST /webhooks/shopify`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::crypto::sha256_hex;
use crate::db::types::Platform;
use crate::error::{AppError, ErrorCode};
use crate::http::middleware::record_shop;
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
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
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
    if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
        return Err(AppError::new(
            ErrorCode::InvalidJson,
            "the body is not JSON",
        ));
    }
    let required = |name: &str| {
        header(&req, name)
            .map(str::to_owned)
            .ok_or_else(|| AppError::bad_request(format!("missing header {name}")))
    };
    let topic = required("X-Shopify-Topic")?;
    let shop_domain = required("X-Shopify-Shop-Domain")?.to_ascii_lowercase();
    record_shop(&shop_domain);
    let event_id = header(&req, "x-shopify-event-id").map(str::to_owned);
    // Shopify always sends a webhook id; without one, identical bodies are the same delivery.
    let delivery_id = header(&req, "x-shopify-webhook-id")
        .map(str::to_owned)
        .unwrap_or_else(|| {
            format!(
                "sha256:{}",
                sha256_hex(&format!("{topic}\n{}", String::from_utf8_lossy(&body)))
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
        // JSON is UTF-8, checked above.
        payload: String::from_utf8_lossy(&body).into_owned(),
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
