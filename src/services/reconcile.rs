//! Reconciliation: webhooks are not guaranteed, so a job pulls the orders updated since the
//! shop's watermark from the Admin API and feeds each one (and its refunds) into the inbox
//! exactly as a webhook would be. The ledger's idempotency keys make a reconciled order that
//! already arrived by webhook change nothing.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::types::{InstallState, Platform};
use crate::db::{now, write_transaction, DbConnection};
use crate::platform::shopify::api::{ApiError, ShopCredentials, ShopifyApi, TokenExpiry};
use crate::platform::shopify::orders_query::{
    order_as_rest, refunds_as_rest, updated_since_filter, ORDERS_UPDATED_SINCE,
};
use crate::platform::shopify::webhook::TOPICS;
use crate::services::inbox::{self, Delivery, Receipt};

pub mod bigcommerce;
mod watermark;
mod woocommerce;

/// Shopify lets apps read the last 60 days of orders by default.
const FIRST_RUN_LOOKBACK_DAYS: i64 = 60;
/// Re-read a little before the watermark: clocks and Shopify's indexing are not exact.
const OVERLAP: Duration = Duration::minutes(5);
/// A bound on one run, so a huge backlog is spread over several runs.
const MAX_PAGES: usize = 200;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReconcileReport {
    pub orders: usize,
    pub refunds: usize,
    /// Deliveries that were new to the inbox (the rest were already known).
    pub new: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Skipped(String),
}

/// Reconciles one shop: fetches pages with `api` (async) and stores them with `conn`. A
/// WooCommerce or BigCommerce shop is read over its own REST API (with `api`'s HTTP pool and
/// retry policy; a BigCommerce shop without its own `--api-base` at `bigcommerce_api_base`).
pub fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    api: &ShopifyApi,
    keys: &Keys,
    bigcommerce_api_base: &str,
    shop_id: &str,
) -> Result<ReconcileReport, ReconcileError> {
    let shop = Shop::find(conn, shop_id)?;
    if shop.platform == Platform::WooCommerce && shop.install_state == InstallState::Installed {
        return woocommerce::run(conn, runtime, api, keys, &shop);
    }
    if shop.platform == Platform::BigCommerce && shop.install_state == InstallState::Installed {
        return bigcommerce::run(conn, runtime, api, keys, bigcommerce_api_base, &shop);
    }
    if shop.platform != Platform::Shopify || shop.install_state != InstallState::Installed {
        return Err(ReconcileError::Skipped(
            "shop is not an installed Shopify shop".into(),
        ));
    }
    let Some(sealed) = shop.access_token_enc.as_deref() else {
        return Err(ReconcileError::Skipped("shop has no access token".into()));
    };
    let token = keys
        .unseal(sealed, SealedFor::new(&shop.id, SealedField::AccessToken))
        .map_err(|e| ReconcileError::Skipped(e.to_string()))?;
    let credentials = ShopCredentials {
        domain: shop.domain.clone(),
        access_token: token,
        api_base: shop.api_base.clone(),
        expiry: TokenExpiry::of(&shop.id, shop.access_token_expires_at),
    };
    let started = now();
    let since = shop
        .reconciled_until
        .map(|t| t - OVERLAP)
        .unwrap_or(started - Duration::days(FIRST_RUN_LOOKBACK_DAYS));
    let filter = updated_since_filter(
        &since
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let mut report = ReconcileReport::default();
    let mut cursor: Option<String> = None;
    // Pages come oldest update first: until the last page is read, the orders are covered
    // only up to the newest update seen so far.
    let mut read_until: Option<NaiveDateTime> = None;
    let mut complete = false;
    for _ in 0..MAX_PAGES {
        let data = runtime.block_on(api.graphql(
            &credentials,
            ORDERS_UPDATED_SINCE,
            json!({ "cursor": cursor, "query": filter }),
        ))?;
        let page = data.get("orders").cloned().unwrap_or(Value::Null);
        for node in page
            .pointer("/nodes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let order = order_as_rest(node);
            let text = |v: &Value, key: &str| {
                v.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (order_id, updated) = (text(&order, "id"), text(&order, "updated_at"));
            if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&updated) {
                let at = at.naive_utc();
                read_until = Some(read_until.map_or(at, |r| r.max(at)));
            }
            report.orders += 1;
            report.new += store(
                conn,
                &shop,
                "orders/updated",
                format!("reconcile:order:{order_id}:{updated}"),
                &order,
            )?;
            for refund in refunds_as_rest(node) {
                let refund_id = text(&refund, "id");
                report.refunds += 1;
                report.new += store(
                    conn,
                    &shop,
                    "refunds/create",
                    format!("reconcile:refund:{refund_id}"),
                    &refund,
                )?;
            }
        }
        let next = page
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        cursor = page
            .pointer("/pageInfo/endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if !next || cursor.is_none() {
            complete = true;
            break;
        }
    }
    // A run cut short by MAX_PAGES moves the watermark only as far as it read, so the next run
    // picks up the newest orders of the window instead of skipping them for good.
    let watermark = if complete {
        Some(started)
    } else {
        read_until.map(|r| shop.reconciled_until.map_or(r, |old| old.max(r)))
    };
    if let Some(watermark) = watermark {
        // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
        write_transaction(conn, |c| {
            diesel::update(shops::table.find(&shop.id))
                .set(shops::reconciled_until.eq(Some(watermark)))
                .execute(c)
        })?;
    }
    tracing::info!(shop = %shop.domain, ?report, "reconciled orders");
    Ok(report)
}

/// Stores one order or refund as a delivery of `topic` (the inbox dedupes on `delivery_id`);
/// returns 1 when it was new. The history backfill stores its pages the same way.
pub(crate) fn store(
    conn: &mut DbConnection,
    shop: &Shop,
    topic: &str,
    delivery_id: String,
    body: &Value,
) -> Result<usize, ReconcileError> {
    let delivery = Delivery {
        platform: Platform::Shopify,
        shop_domain: shop.domain.clone(),
        topic: topic.to_owned(),
        delivery_id,
        event_id: None,
        api_version: None,
        triggered_at: None,
        payload: body.to_string(),
    };
    let received = inbox::receive(conn, &delivery, |t| TOPICS.contains(&t))?;
    Ok(usize::from(received.receipt == Receipt::Accepted))
}

/// When a reconciliation of `shop` is next due: hourly.
pub fn due_key(at: NaiveDateTime) -> String {
    at.format("reconcile:%Y-%m-%dT%H").to_string()
}
