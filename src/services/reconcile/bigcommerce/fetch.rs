//! Thin → full: a BigCommerce order webhook only names its order, so applying one queues a
//! job that reads the order over the REST API and submits its whole state (one document) to
//! the inbox, keyed by content. The API is never called inside the transaction that stored the
//! webhook: that transaction holds the write lock, and BigCommerce may throttle for seconds.
//!
//! One job per order while it waits (`bigcommerce-order:{id}`): a burst of webhooks about one
//! order (created, statusUpdated, updated…) reads it once. The job lets go of that key when it
//! starts reading, so a change made while it reads queues a fresh read instead of being lost
//! behind it. Reading the same state twice stores it once (the content is the key).
//!
//! The runner claims a shop's waiting reads together (up to [`BATCH`]): they are read with a
//! few calls in flight and stored in one transaction, so a burst costs a claim and a commit per
//! batch rather than per order, and the API's round trips overlap.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use futures_util::StreamExt;
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
use crate::platform::{ApiError, ShopCredentials};
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::compliance::Subject;
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

/// Order reads one claim takes together: a burst of webhooks is read with several calls in
/// flight and stored in one transaction, instead of one claim, one read and two commits each.
pub const BATCH: usize = 64;
/// Orders read at once within a batch. BigCommerce throttles per store; the client waits out
/// each `429`, so more in flight would only queue behind the same window.
const READS_IN_FLIGHT: usize = 8;

/// The `fetch_bigcommerce_order` jobs of one claim, all of one shop: each reads its order and
/// the documents are stored (and applied) together. One outcome per job, in order: an order
/// BigCommerce no longer has ends its job done; a throttled or failed read retries only that
/// job.
pub fn fetch_batch(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    jobs: &[Job],
) -> Vec<Result<(), JobError>> {
    match read_and_store(conn, runtime, shopify, keys, default_base, jobs) {
        Ok(outcomes) => outcomes,
        Err(e) => {
            // Nothing of the batch was stored (the shop, the credentials or the storing
            // transaction failed): every job gets the same outcome.
            let message = e.to_string();
            let permanent = matches!(e, JobError::Permanent(_));
            jobs.iter()
                .map(|_| {
                    Err(if permanent {
                        JobError::Permanent(message.clone())
                    } else {
                        JobError::Retry(message.clone())
                    })
                })
                .collect()
        }
    }
}

fn read_and_store(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    jobs: &[Job],
) -> Result<Vec<Result<(), JobError>>, JobError> {
    let Some(first) = jobs.first() else {
        return Ok(Vec::new());
    };
    let shop = Shop::find(conn, &first.shop_id)?;
    if shop.platform != Platform::BigCommerce
        || shop.install_state != InstallState::Installed
        || shop.is_demo
    {
        tracing::info!(shop = %shop.domain, orders = jobs.len(), "not an installed BigCommerce shop; orders not read");
        return Ok(jobs.iter().map(|_| Ok(())).collect());
    }
    let credentials =
        credentials(&shop, keys, default_base).map_err(|e| JobError::Permanent(e.to_string()))?;
    release_dedupe_keys(conn, jobs)?;
    let order_ids: Vec<Option<PlatformId>> = jobs.iter().map(order_id_of).collect();
    let (http, policy) = shopify.http();
    let api = BcApi::new(http, policy);
    // One read per distinct order (a retried job and a fresh one may name the same order).
    let mut distinct: Vec<u64> = order_ids.iter().flatten().map(PlatformId::as_u64).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let reads: Vec<(u64, Result<Option<Value>, ApiError>)> = runtime.block_on(
        futures_util::stream::iter(distinct)
            .map(|id| {
                let (api, credentials) = (&api, &credentials);
                async move { (id, order_document(api, credentials, id).await) }
            })
            .buffer_unordered(READS_IN_FLIGHT)
            .collect(),
    );
    let mut documents = Vec::with_capacity(reads.len());
    let mut read_of: HashMap<u64, Read> = HashMap::with_capacity(reads.len());
    for (id, read) in reads {
        let read = match read {
            Ok(Some(document)) => {
                documents.push(document);
                Read::Stored
            }
            Ok(None) => Read::Gone,
            Err(e) => Read::Failed {
                transient: e.is_transient(),
                message: e.to_string(),
            },
        };
        read_of.insert(id, read);
    }
    let stored = submit_all(conn, &shop, &documents)?;
    tracing::debug!(shop = %shop.domain, read = documents.len(), stored, "read a batch of BigCommerce orders");
    Ok(order_ids
        .iter()
        .map(|id| {
            let id = id.as_ref().ok_or_else(|| {
                JobError::Permanent("job payload lacks a numeric order_id".into())
            })?;
            match read_of.get(&id.as_u64()).unwrap_or(&Read::Gone) {
                Read::Stored => Ok(()),
                Read::Gone => {
                    tracing::info!(shop = %shop.domain, order = %id, "order gone from BigCommerce; nothing to read");
                    Ok(())
                }
                Read::Failed { transient: true, message } => Err(JobError::Retry(message.clone())),
                Read::Failed { message, .. } => Err(JobError::Permanent(message.clone())),
            }
        })
        .collect())
}

/// What reading one order of a batch came to.
enum Read {
    Stored,
    /// BigCommerce no longer has the order.
    Gone,
    Failed {
        transient: bool,
        message: String,
    },
}

fn order_id_of(job: &Job) -> Option<PlatformId> {
    serde_json::from_str::<Value>(&job.payload)
        .ok()
        .and_then(|p| PlatformId::parse(p.get("order_id")?.as_str()?).ok())
}

/// Lets webhooks arriving from now on queue a fresh read of the orders (see the module docs).
fn release_dedupe_keys(conn: &mut DbConnection, claimed: &[Job]) -> QueryResult<()> {
    let ids: Vec<&str> = claimed.iter().map(|job| job.id.as_str()).collect();
    // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
    write_transaction(conn, |c| {
        diesel::update(jobs::table.filter(jobs::id.eq_any(&ids)))
            .set(jobs::dedupe_key.eq(None::<String>))
            .execute(c)
            .map(|_| ())
    })
}

/// Stores order documents in one write transaction, each once by its content and applied at
/// once; returns how many were new. The customers they are about are locked first, as every
/// applier does (`ingest::lock_subjects`), so batches of other workers and instances about the
/// same customers take turns instead of deadlocking.
pub fn submit_all(conn: &mut DbConnection, shop: &Shop, documents: &[Value]) -> QueryResult<usize> {
    let deliveries: Vec<(Delivery, Subject)> = documents
        .iter()
        .map(|document| {
            let delivery = delivery_of(shop, document);
            let subject = Subject::of(&delivery.payload);
            (delivery, subject)
        })
        .collect();
    write_transaction(conn, |c| {
        crate::services::ingest::lock_shops(c, [(shop.id.as_str(), false)])?;
        // The shop as it is now: an uninstall committed since the batch began is honoured.
        let shop = Shop::find(c, &shop.id)?;
        crate::services::ingest::lock_subjects(
            c,
            deliveries
                .iter()
                .map(|(_, subject)| crate::services::ingest::ShopSubject::of(&shop.id, subject)),
        )?;
        let mut stored = 0;
        for (delivery, subject) in &deliveries {
            let received = inbox::store(
                c,
                Some(&shop),
                delivery,
                subject,
                |t| t == ORDER_DOCUMENT_TOPIC,
                true,
            )?;
            stored += usize::from(received.receipt == Receipt::Accepted);
        }
        Ok(stored)
    })
}

fn delivery_of(shop: &Shop, document: &Value) -> Delivery {
    let text = document.to_string();
    Delivery {
        platform: Platform::BigCommerce,
        shop_domain: shop.domain.clone(),
        topic: ORDER_DOCUMENT_TOPIC.to_owned(),
        delivery_id: content_key(ORDER_DOCUMENT_TOPIC, &text),
        event_id: None,
        api_version: None,
        triggered_at: None,
        payload: text,
    }
}

/// Submits one order document to the inbox (stored once by content, applied at once); returns
/// whether it was new.
pub fn submit(conn: &mut DbConnection, shop: &Shop, document: &Value) -> QueryResult<bool> {
    let received = inbox::receive(conn, &delivery_of(shop, document), |t| {
        t == ORDER_DOCUMENT_TOPIC
    })?;
    Ok(received.receipt == Receipt::Accepted)
}
