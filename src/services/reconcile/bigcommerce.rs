//! BigCommerce orders: read back over the REST API, both when a thin webhook names one
//! (`fetch`) and hourly for the orders modified since the shop's watermark (here). BigCommerce
//! retries a webhook for about two days and then deactivates the hook, so reconciliation is
//! what catches the rest. Each order becomes the same document a webhook's read makes, stored
//! by content: a state already stored changes nothing.

pub mod fetch;

use chrono::{DateTime, Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::Value;

use super::{ReconcileError, ReconcileReport};
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::schema::shops;
use crate::db::{now, write_transaction, DbConnection};
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::orders::{document_for, orders_modified_since, ORDERS_PAGE};
use crate::platform::shopify::api::ShopifyApi;

/// How far back a shop's first run reads.
const FIRST_RUN_LOOKBACK_DAYS: i64 = 60;
/// Re-read a little before the watermark: orders modified in the same second as the last one
/// read may not have been listed yet, and re-reading a stored state changes nothing.
const OVERLAP: Duration = Duration::minutes(5);
/// A bound on one run (250 orders a page, four calls an order), so a huge backlog is spread
/// over several hourly runs; each resumes where the last stored page ended.
const MAX_PAGES: u32 = 4;

/// Reconciles one installed BigCommerce shop. The watermark is the newest `date_modified`
/// stored, moved after each page is stored.
///
/// Pages are read by moving `min_date_modified` to the newest change read (and page 1) rather
/// than by page number: an order modified while the run reads moves to the end of the listing,
/// which under page numbers would shift an unread order back onto a page already read.
pub(super) fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    shop: &Shop,
) -> Result<ReconcileReport, ReconcileError> {
    if shop.is_demo {
        return Err(ReconcileError::Skipped(
            "the demo shop has no store to read".into(),
        ));
    }
    let credentials = fetch::credentials(shop, keys, default_base)
        .map_err(|e| ReconcileError::Skipped(e.to_string()))?;
    let (http, policy) = shopify.http();
    let api = BcApi::new(http, policy);
    let mut since = shop
        .reconciled_until
        .map(|t| t - OVERLAP)
        .unwrap_or_else(|| now() - Duration::days(FIRST_RUN_LOOKBACK_DAYS));
    let mut page = 1;
    let mut report = ReconcileReport::default();
    for _ in 0..MAX_PAGES {
        let after = since.and_utc().to_rfc3339();
        let orders = runtime.block_on(orders_modified_since(&api, &credentials, &after, page))?;
        let mut read_until: Option<NaiveDateTime> = None;
        for order in &orders {
            let modified = modified_at(order);
            // `None`: deleted since it was listed.
            if let Some(document) =
                runtime.block_on(document_for(&api, &credentials, order.clone()))?
            {
                report.orders += 1;
                report.new += usize::from(fetch::submit(conn, shop, &document)?);
            }
            if let Some(at) = modified {
                read_until = Some(read_until.map_or(at, |r| r.max(at)));
            }
        }
        // Every order of the page is committed: only now may the watermark pass them.
        if let Some(read_until) = read_until {
            advance_watermark(conn, &shop.id, read_until)?;
        }
        if orders.len() < ORDERS_PAGE {
            break;
        }
        match read_until {
            Some(newest) if newest > since => (since, page) = (newest, 1),
            // A whole page modified in one second: only the page number can move on.
            _ => page += 1,
        }
    }
    tracing::info!(shop = %shop.domain, ?report, "reconciled BigCommerce orders");
    Ok(report)
}

/// An order's `date_modified` (RFC 2822), in UTC.
fn modified_at(order: &Value) -> Option<NaiveDateTime> {
    let text = order.get("date_modified")?.as_str()?.trim();
    DateTime::parse_from_rfc2822(text)
        .ok()
        .map(|t| t.naive_utc())
}

/// Moves the shop's watermark forward to `to`, never back (a re-read overlap or a concurrent
/// run must not undo progress).
fn advance_watermark(
    conn: &mut DbConnection,
    shop_id: &str,
    to: NaiveDateTime,
) -> Result<(), diesel::result::Error> {
    // Through the fair writer queue: on SQLite a write outside it fails under webhook load.
    write_transaction(conn, |c| {
        diesel::update(shops::table.find(shop_id))
            .filter(
                shops::reconciled_until
                    .is_null()
                    .or(shops::reconciled_until.lt(to)),
            )
            .set(shops::reconciled_until.eq(Some(to)))
            .execute(c)
            .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_modified_time_is_read_from_rfc_2822() {
        let order = json!({"date_modified": "Sat, 21 Nov 2026 10:00:07 +0100"});
        let expected = chrono::NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(9, 0, 7)
            .unwrap();
        assert_eq!(modified_at(&order), Some(expected));
        assert_eq!(modified_at(&json!({"date_modified": ""})), None);
        assert_eq!(modified_at(&json!({})), None);
    }
}
