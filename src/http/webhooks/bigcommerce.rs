//! `POST /webhooks/bigcommerce/{shop_domain}` (`store-{hash}`): verify, read the envelope,
//! store. The order itself is read later by a job (see `services::reconcile::bigcommerce`).

use actix_web::{web, HttpRequest, HttpResponse};

use crate::db::types::Platform;
use crate::db::DbError;
use crate::error::{AppError, ErrorCode};
use crate::http::body::read_raw;
use crate::http::middleware::record_shop;
use crate::platform::bigcommerce::store_hash;
use crate::platform::bigcommerce::webhook::{
    envelope, verify_header_secret, verify_signed, Envelope, Signed, VerifyError, SECRET_HEADER,
};
use crate::platform::shopify::webhook::body::check as check_body;
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

fn count(state: &AppState, outcome: &str) {
    state
        .metrics
        .webhooks
        .with_label_values(&["bigcommerce", outcome])
        .inc();
}

fn answer(state: &AppState, outcome: &str) -> HttpResponse {
    count(state, outcome);
    HttpResponse::Ok().json(serde_json::json!({ "status": outcome }))
}

fn unauthorized(state: &AppState, why: impl Into<String>) -> AppError {
    count(state, "unauthorized");
    AppError::new(ErrorCode::InvalidSignature, why)
}

pub async fn receive(
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, AppError> {
    let body = read_raw(&req, payload, state.config.max_body_bytes).await?;
    let shop_domain = path.into_inner().trim().to_ascii_lowercase();
    record_shop(&shop_domain);
    let Some(hash) = store_hash(&shop_domain).map(str::to_owned) else {
        return Ok(answer(&state, "ignored"));
    };
    let (keys, domain) = (state.keys.clone(), shop_domain.clone());
    let signer = state
        .db
        .run(move |c| {
            webhook_signer(c, &keys, Platform::BigCommerce, &domain).map_err(DbError::from)
        })
        .await?;
    let shop_secret = match signer {
        WebhookSigner::UnknownShop => return Ok(answer(&state, "ignored")),
        WebhookSigner::NoSecret => None,
        WebhookSigner::Secret(secret) => Some(secret),
    };
    let verified = match header(&req, "webhook-signature") {
        Some(signature) => {
            let signed = Signed {
                id: header(&req, "webhook-id").unwrap_or_default(),
                timestamp: header(&req, "webhook-timestamp").unwrap_or_default(),
                signature,
            };
            let bc = &state.config.bigcommerce;
            match &bc.client_secret {
                Some(client_secret) => verify_signed(
                    &body,
                    &signed,
                    client_secret,
                    bc.previous_client_secret.as_ref(),
                    chrono::Utc::now().timestamp(),
                ),
                None => Err(VerifyError::NoClientSecret),
            }
        }
        None => match &shop_secret {
            Some(secret) => {
                verify_header_secret(header(&req, SECRET_HEADER).unwrap_or_default(), secret)
            }
            None => Err(VerifyError::WrongSecret),
        },
    };
    if let Err(why) = verified {
        return Err(unauthorized(&state, why.to_string()));
    }
    // Verified bytes only from here on.
    let checked =
        check_body(&body).map_err(|e| AppError::new(ErrorCode::InvalidJson, e.to_string()))?;
    let value: serde_json::Value = serde_json::from_str(checked.text)
        .map_err(|e| AppError::new(ErrorCode::InvalidJson, e.to_string()))?;
    let (topic, delivery_id, created_at) = match envelope(checked.text, &value, &hash) {
        // Signed with the app's secret, which every store shares: a delivery about another
        // store must not act on this one.
        Envelope::OtherStore(producer) => {
            return Err(unauthorized(
                &state,
                format!("the delivery is from {producer:?}, not stores/{hash}"),
            ))
        }
        Envelope::Unused => return Ok(answer(&state, "ignored")),
        Envelope::Store {
            topic,
            delivery_id,
            created_at,
        } => (topic, delivery_id, created_at),
    };
    let delivery = Delivery {
        platform: Platform::BigCommerce,
        shop_domain,
        topic,
        delivery_id,
        event_id: None,
        api_version: None,
        triggered_at: created_at
            .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
            .map(|t| t.naive_utc()),
        payload: checked.text.to_owned(),
    };
    let received = state.ingest.submit(delivery).await?;
    let outcome = serde_json::to_value(received.receipt).unwrap_or_default();
    Ok(answer(&state, outcome.as_str().unwrap_or("accepted")))
}
