//! The history backfill: the orders of the 365 days before the install, read page by page
//! through the platform's API (the throttle-aware client paces it) and fed into the inbox as
//! the webhook path's deliveries: Shopify's as `orders/updated` (here), BigCommerce's as order
//! documents (`bigcommerce`). Orders dated before the install
//! are history: they count for facts, segments, tiers and metrics, and earn points only when
//! the owner asked for it (`award_points`, kept as `shops.award_history`).
//!
//! The cursor of the last stored page is kept (`history_backfills`), so a run cut short by a crash goes
//! on from there (a re-read page changes nothing: the inbox dedupes on the delivery id).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};

use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::schema::{history_backfills, shops};
use crate::db::types::{InstallState, Platform};
use crate::db::{now, write_transaction, DbConnection};
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::shopify::orders_query::{
    order_as_rest, refunds_as_rest, ORDERS_UPDATED_SINCE,
};
use crate::queue::{enqueue, Job, JobError, JobKind, JobSpec};
use crate::services::reconcile::store;

mod bigcommerce;

/// How far back the history goes.
pub const HISTORY_DAYS: i64 = 365;

/// The backfill as the owner sees it (`GET /api/admin/v1/backfill`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BackfillStatus {
    /// `not_started`, `running` or `done`.
    pub status: &'static str,
    /// Orders read so far.
    pub orders: i64,
    /// The oldest order date asked for (RFC 3339).
    pub since: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Whether history orders earn points.
    pub award_points: bool,
}

fn rfc3339(at: Option<NaiveDateTime>) -> Option<String> {
    at.map(|t| {
        t.and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    })
}

type Row = (
    NaiveDateTime,
    Option<String>,
    i64,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn row(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Option<Row>> {
    history_backfills::table
        .find(shop_id)
        .select((
            history_backfills::since,
            history_backfills::cursor,
            history_backfills::orders,
            history_backfills::started_at,
            history_backfills::finished_at,
        ))
        .first(conn)
        .optional()
}

/// The shop's backfill progress.
pub fn status(conn: &mut DbConnection, shop_id: &str) -> QueryResult<BackfillStatus> {
    let award_points: bool = shops::table
        .find(shop_id)
        .select(shops::award_history)
        .first(conn)?;
    Ok(match row(conn, shop_id)? {
        None => BackfillStatus {
            status: "not_started",
            orders: 0,
            since: None,
            started_at: None,
            finished_at: None,
            award_points,
        },
        Some((since, _, orders, started, finished)) => BackfillStatus {
            status: if finished.is_some() {
                "done"
            } else {
                "running"
            },
            orders,
            since: rfc3339(Some(since)),
            started_at: rfc3339(Some(started)),
            finished_at: rfc3339(finished),
            award_points,
        },
    })
}

/// Starts (or restarts from the first page) the backfill and queues its job. With
/// `award_points`, history orders earn from now on, those already read included (they are read
/// again under other delivery ids, so they are applied again; awards stay once per order).
pub fn start(
    conn: &mut DbConnection,
    shop_id: &str,
    award_points: bool,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let since = now - Duration::days(HISTORY_DAYS);
    diesel::delete(history_backfills::table.find(shop_id)).execute(conn)?;
    diesel::insert_into(history_backfills::table)
        .values((
            history_backfills::shop_id.eq(shop_id),
            history_backfills::since.eq(since),
            history_backfills::cursor.eq(None::<String>),
            history_backfills::orders.eq(0_i64),
            history_backfills::started_at.eq(now),
            history_backfills::finished_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    if award_points {
        diesel::update(shops::table.find(shop_id))
            .set((shops::award_history.eq(true), shops::updated_at.eq(now)))
            .execute(conn)?;
    }
    enqueue(
        conn,
        JobSpec {
            shop_id: shop_id.to_owned(),
            kind: JobKind::BackfillOrders,
            payload: json!({}),
            // A restart while a run is queued: the queued run reads the new state.
            dedupe_key: Some("backfill".into()),
            run_at: now,
            max_attempts: 20,
        },
    )?;
    Ok(())
}

/// Pages one run of the job reads before it hands over to a new run: a year of a large shop is
/// thousands of pages, and one run holding a worker (and its lease) for that long would starve
/// the shop's other jobs and outlive the lease.
pub const PAGES_PER_RUN: usize = 20;

/// The `backfill_orders` job of an installed Shopify or BigCommerce shop: reads pages from the
/// stored cursor, a bounded number per run, then queues the next run; the run that reads the
/// last page marks the backfill finished. BigCommerce shops without their own `--api-base` are
/// read at `bigcommerce_api_base`.
pub fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    api: &ShopifyApi,
    keys: &Keys,
    bigcommerce_api_base: &str,
    job: &Job,
) -> Result<(), JobError> {
    let shop = Shop::find(conn, &job.shop_id)?;
    if shop.install_state != InstallState::Installed {
        return Ok(());
    }
    // Finished or never started: nothing to read.
    let Some((since, cursor, _, _, None)) = row(conn, &shop.id)? else {
        return Ok(());
    };
    let progress = Progress { since, cursor };
    match shop.platform {
        Platform::Shopify => run_shopify(conn, runtime, api, keys, &shop, progress),
        Platform::BigCommerce if !shop.is_demo => bigcommerce::run(
            conn,
            runtime,
            api,
            keys,
            bigcommerce_api_base,
            &shop,
            progress,
        ),
        _ => Ok(()),
    }
}

/// Where an unfinished backfill stands: the oldest order date asked for and the stored cursor
/// (`None` before the first page).
struct Progress {
    since: NaiveDateTime,
    cursor: Option<String>,
}

/// Shopify's pages: the GraphQL orders connection filtered by `created_at`, by its cursor.
fn run_shopify(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    api: &ShopifyApi,
    keys: &Keys,
    shop: &Shop,
    progress: Progress,
) -> Result<(), JobError> {
    let Progress { since, mut cursor } = progress;
    let credentials = crate::services::redeem::credentials(shop, keys)
        .ok_or_else(|| JobError::Permanent("the shop has no access token".into()))?;
    let filter = format!(
        "created_at:>='{}'",
        since
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    // Read again under other ids when history earns, so orders read as history earn now.
    let prefix = if shop.award_history {
        "backfill-award"
    } else {
        "reconcile"
    };
    for _ in 0..PAGES_PER_RUN {
        let data = runtime
            .block_on(api.graphql(
                &credentials,
                ORDERS_UPDATED_SINCE,
                json!({ "cursor": cursor, "query": filter }),
            ))
            .map_err(|e| {
                if e.is_transient() {
                    JobError::Retry(e.to_string())
                } else {
                    JobError::Permanent(e.to_string())
                }
            })?;
        let page = data.get("orders").cloned().unwrap_or(Value::Null);
        let nodes = page
            .pointer("/nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for node in &nodes {
            let order = order_as_rest(node);
            let text = |v: &Value, key: &str| {
                v.get(key)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            let (id, updated) = (text(&order, "id"), text(&order, "updated_at"));
            store_one(
                conn,
                shop,
                "orders/updated",
                format!("{prefix}:order:{id}:{updated}"),
                &order,
            )?;
            for refund in refunds_as_rest(node) {
                let refund_id = text(&refund, "id");
                store_one(
                    conn,
                    shop,
                    "refunds/create",
                    format!("{prefix}:refund:{refund_id}"),
                    &refund,
                )?;
            }
        }
        let next = page
            .pointer("/pageInfo/hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let previous = cursor.take();
        cursor = page
            .pointer("/pageInfo/endCursor")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if next && cursor.is_some() && cursor == previous {
            // The same page again and again would never end: stop and say so.
            return Err(JobError::Permanent(
                "Shopify answered the same page of orders twice; the history backfill stopped"
                    .into(),
            ));
        }
        let done = !next || cursor.is_none();
        record_page(conn, &shop.id, cursor.as_deref(), nodes.len() as i64, done)?;
        if done {
            tracing::info!(shop = %shop.domain, "history backfill finished");
            return Ok(());
        }
    }
    queue_next_run(conn, &shop.id, cursor.as_deref().unwrap_or(""))?;
    Ok(())
}

/// Records a stored page: the cursor to go on from, the orders read, and whether it was the
/// last. The page's orders are stored before: only now may a restart skip them.
fn record_page(
    conn: &mut DbConnection,
    shop_id: &str,
    cursor: Option<&str>,
    read: i64,
    done: bool,
) -> QueryResult<()> {
    let at = now();
    write_transaction(conn, |c| {
        diesel::update(history_backfills::table.find(shop_id))
            .set((
                history_backfills::cursor.eq(cursor),
                history_backfills::orders.eq(history_backfills::orders + read),
                history_backfills::finished_at.eq(done.then_some(at)),
            ))
            .execute(c)
            .map(|_| ())
    })
}

/// More pages after this run's bound: a new run goes on from the stored cursor (its own key,
/// as this run's key stays taken until it ends).
fn queue_next_run(conn: &mut DbConnection, shop_id: &str, cursor: &str) -> QueryResult<()> {
    write_transaction(conn, |c| {
        enqueue(
            c,
            JobSpec {
                shop_id: shop_id.to_owned(),
                kind: JobKind::BackfillOrders,
                payload: json!({}),
                dedupe_key: Some(format!("backfill:after:{cursor}")),
                run_at: now(),
                max_attempts: 20,
            },
        )
        .map(|_| ())
    })
}

fn store_one(
    conn: &mut DbConnection,
    shop: &Shop,
    topic: &str,
    delivery_id: String,
    body: &Value,
) -> Result<(), JobError> {
    match store(conn, shop, topic, delivery_id, body) {
        Ok(_) => Ok(()),
        Err(crate::services::reconcile::ReconcileError::Database(e)) => Err(e.into()),
        Err(e) => Err(JobError::Retry(e.to_string())),
    }
}
