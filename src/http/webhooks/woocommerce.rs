//! `POST /webhooks/woocommerce/{shop_domain}`.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::types::Platform;
use crate::db::DbError;
use crate::error::{AppError, ErrorCode};
use crate::http::body::read_raw;
use crate::http::middleware::record_shop;
use crate::platform::shopify::webhook::body::check as check_body;
use crate::platform::woocommerce::{content_key, is_creation_ping, verify};
use crate::services::inbox::Delivery;
use crate::services::shops::{webhook_signer, WebhookSigner};
use crate::state::AppState;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn answer(state: &AppState, outcome: &str) -> HttpResponse {
    state
        .metrics
        .webhooks
        .with_label_values(&["woocommerce", outcome])
        .inc();
    HttpResponse::Ok().json(serde_json::json!({ "status": outcome }))
}

pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = read_raw(&req, payload, state.config.max_body_bytes).await?;
    let signature = header(&req, "x-wc-webhook-signature");
    // WooCommerce saves a new webhook only if this unsigned ping gets a 200; it says nothing.
    if signature.is_none() && is_creation_ping(&body) {
        return Ok(answer(&state, "ignored"));
    }
    let shop_domain = path.into_inner().trim().to_ascii_lowercase();
    record_shop(&shop_domain);
    let (keys, domain) = (state.keys.clone(), shop_domain.clone());
    let signer = state
        .db
        .run(move |c| {
            webhook_signer(c, &keys, Platform::WooCommerce, &domain).map_err(DbError::from)
        })
        .await?;
    let secret = match signer {
        WebhookSigner::UnknownShop => return Ok(answer(&state, "ignored")),
        WebhookSigner::NoSecret => None,
        WebhookSigner::Secret(secret) => Some(secret),
    };
    let verified = secret
        .as_ref()
        .is_some_and(|s| verify(&body, signature.unwrap_or_default(), s));
    if !verified {
        state
            .metrics
            .webhooks
            .with_label_values(&["woocommerce", "unauthorized"])
            .inc();
        return Err(AppError::new(
            ErrorCode::InvalidSignature,
            "missing or invalid X-WC-Webhook-Signature",
        ));
    }
    // Verified bytes only from here on.
    let checked =
        check_body(&body).map_err(|e| AppError::new(ErrorCode::InvalidJson, e.to_string()))?;
    let topic = header(&req, "x-wc-webhook-topic")
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| AppError::bad_request("missing header X-WC-Webhook-Topic"))?;
    // WooCommerce builds a body when it sends it and may send one change twice under two
    // delivery ids: the content is the key (stored as the delivery id), and the delivery id
    // WooCommerce gives is a second key (unique per WooCommerce shop, see migration 000035).
    let content_key = content_key(&topic, checked.text);
    let delivery = Delivery {
        platform: Platform::WooCommerce,
        shop_domain,
        topic,
        delivery_id: content_key,
        event_id: header(&req, "x-wc-webhook-delivery-id").map(str::to_owned),
        api_version: None,
        triggered_at: None,
        payload: checked.text.to_owned(),
    };
    let received = state.ingest.submit(delivery).await?;
    let outcome = serde_json::to_value(received.receipt).unwrap_or_default();
    Ok(answer(&state, outcome.as_str().unwrap_or("accepted")))
}
