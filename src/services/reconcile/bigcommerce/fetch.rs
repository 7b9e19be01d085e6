//! Thin → full: a BigCommerce order webhook only names its order, so applying one queues a
//! job that reads the order over the REST API and submits its whole state (one document) to
//! the inbox, keyed by content. The API is never called inside the transaction that stored the
//! webhook: that transaction holds the write lock, and BigCommerce may throttle for seconds.
//!
//! One job per order while it waits (`bigcommerce-order:{id}`): a burst of webhooks about one
//! order (created, statusUpdated, updated…) reads it once. The job lets go of that key when it
//! starts reading, so a change made while it reads queues a fresh read instead of being lost
//! behind it. Reading the same state twice stores it once (the content is the key).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::jobs;
use crate::db::types::{InstallState, Platform};
use crate::db::{write_transaction, DbConnection};
use crate::domain::event::PlatformId;
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::orders::order_document;
use crate::platform::bigcommerce::payload::ORDER_DOCUMENT_TOPIC;
use crate::platform::bigcommerce::webhook::content_key;
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::ShopCredentials;
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::inbox::{self, Delivery, Receipt};

/// Attempts of one read: transient API errors are retried with the queue's backoff.
const FETCH_ATTEMPTS: i32 = 10;

fn dedupe_key(order_id: &PlatformId) -> String {
    format!("bigcommerce-order:{order_id}")
}

/// Queues a read of `order_id`, in the caller's transaction; `false` when one is already
/// waiting.
pub fn enqueue_fetch(
    conn: &mut DbConnection,
    shop: &Shop,
    order_id: &PlatformId,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    queue::enqueue(
        conn,
        JobSpec {
            shop_id: shop.id.clone(),
            kind: JobKind::FetchBigCommerceOrder,
            payload: json!({ "order_id": order_id.as_str() }),
            dedupe_key: Some(dedupe_key(order_id)),
            run_at: now,
            max_attempts: FETCH_ATTEMPTS,
        },
    )
}

/// Why a BigCommerce shop's API cannot be called.
#[derive(Debug, thiserror::Error)]
pub enum NoAccess {
    #[error(
        "the BigCommerce shop has no access token (install the app, or `shop add --access-token`)"
    )]
    NoToken,
    #[error("the shop's access token cannot be opened: {0}")]
    Sealed(String),
}

/// What the shop's API is called with: its access token, at its own `--api-base` or
/// `default_base` (`BIGCOMMERCE_API_BASE`).
pub fn credentials(
    shop: &Shop,
    keys: &Keys,
    default_base: &str,
) -> Result<ShopCredentials, NoAccess> {
    let sealed = shop.access_token_enc.as_deref().ok_or(NoAccess::NoToken)?;
    let token = keys
        .unseal(sealed, SealedFor::new(&shop.id, SealedField::AccessToken))
        .map_err(|e| NoAccess::Sealed(e.to_string()))?;
    Ok(ShopCredentials {
        domain: shop.domain.clone(),
        access_token: token,
        api_base: Some(
            shop.api_base
                .clone()
                .unwrap_or_else(|| default_base.to_owned()),
        ),
        expiry: None,
    })
}

/// The `fetch_bigcommerce_order` job.
pub fn fetch_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    job: &Job,
) -> Result<(), JobError> {
    let order_id = serde_json::from_str::<Value>(&job.payload)
        .ok()
        .and_then(|p| PlatformId::parse(p.get("order_id")?.as_str()?).ok())
        .ok_or_else(|| JobError::Permanent("job payload lacks a numeric order_id".into()))?;
    let shop = Shop::find(conn, &job.shop_id)?;
    if shop.platform != Platform::BigCommerce
        || shop.install_state != InstallState::Installed
        || shop.is_demo
    {
        tracing::info!(shop = %shop.domain, "not an installed BigCommerce shop; order not read");
        return Ok(());
    }
    let credentials =
        credentials(&shop, keys, default_base).map_err(|e| JobError::Permanent(e.to_string()))?;
    release_dedupe_key(conn, job)?;
    let (http, policy) = shopify.http();
    let api = BcApi::new(http, policy);
    let Some(document) = runtime.block_on(order_document(&api, &credentials, order_id.as_u64()))?
    else {
        tracing::info!(shop = %shop.domain, order = %order_id, "order gone from BigCommerce; nothing to read");
        return Ok(());
    };
    let stored = submit(conn, &shop, &document)?;
    tracing::debug!(shop = %shop.domain, order = %order_id, stored, "read a BigCommerce order");
    Ok(())
}

/// Lets webhooks arriving from now on queue a fresh read of the order (see the module docs).
fn release_dedupe_key(conn: &mut DbConnection, job: &Job) -> QueryResult<()> {
    // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
    write_transaction(conn, |c| {
        diesel::update(jobs::table.find(&job.id))
            .set(jobs::dedupe_key.eq(None::<String>))
            .execute(c)
            .map(|_| ())
    })
}

/// Submits an order document to the inbox (stored once by content, applied at once); returns
/// whether it was new.
pub fn submit(conn: &mut DbConnection, shop: &Shop, document: &Value) -> QueryResult<bool> {
    let text = document.to_string();
    let delivery = Delivery {
        platform: Platform::BigCommerce,
        shop_domain: shop.domain.clone(),
        topic: ORDER_DOCUMENT_TOPIC.to_owned(),
        delivery_id: content_key(ORDER_DOCUMENT_TOPIC, &text),
        event_id: None,
        api_version: None,
        triggered_at: None,
        payload: text,
    };
    let received = inbox::receive(conn, &delivery, |t| t == ORDER_DOCUMENT_TOPIC)?;
    Ok(received.receipt == Receipt::Accepted)
}
