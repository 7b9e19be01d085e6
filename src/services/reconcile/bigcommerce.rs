//! BigCommerce orders: read back over the REST API, both when a thin webhook names one
//! (`fetch`) and hourly for the orders modified since the shop's watermark (here). BigCommerce
//! retries a webhook for about two days and then deactivates the hook, so reconciliation is
//! what catches the rest. Each order becomes the same document a webhook's read makes, stored
//! by content: a state already stored changes nothing.

pub mod fetch;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::watermark::{self, newest, PageRead, PageReader};
use super::{ReconcileError, ReconcileReport};
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::{now, DbConnection};
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::orders::{document_for, orders_modified_since, ORDERS_PAGE};
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::ShopCredentials;

/// A bound on one run (250 orders a page, four calls an order), so a huge backlog is spread
/// over several hourly runs; each resumes where the last stored page ended.
const MAX_PAGES: u32 = 4;

/// Reconciles one installed BigCommerce shop. The watermark is the newest `date_modified`
/// stored, moved after each page is stored.
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
    let mut listing = Listing {
        runtime,
        api: BcApi::new(http, policy),
        credentials,
        shop,
        since: watermark::start(shop, now()),
        page: 1,
    };
    let report = watermark::follow(conn, shop, MAX_PAGES, &mut listing)?;
    tracing::info!(shop = %shop.domain, ?report, "reconciled BigCommerce orders");
    Ok(report)
}

/// The `v2/orders` listing by `min_date_modified`.
///
/// Pages are read by moving `min_date_modified` to the newest change read (and page 1) rather
/// than by page number: an order modified while the run reads moves to the end of the listing,
/// which under page numbers would shift an unread order back onto a page already read.
struct Listing<'a> {
    runtime: &'a tokio::runtime::Handle,
    api: BcApi<'a>,
    credentials: ShopCredentials,
    shop: &'a Shop,
    since: NaiveDateTime,
    page: u32,
}

impl PageReader for Listing<'_> {
    fn read_page(
        &mut self,
        conn: &mut DbConnection,
        report: &mut ReconcileReport,
    ) -> Result<PageRead, ReconcileError> {
        let after = self.since.and_utc().to_rfc3339();
        let orders = self.runtime.block_on(orders_modified_since(
            &self.api,
            &self.credentials,
            &after,
            self.page,
        ))?;
        let mut read_until: Option<NaiveDateTime> = None;
        for order in &orders {
            // `None`: deleted since it was listed.
            if let Some(document) =
                self.runtime
                    .block_on(document_for(&self.api, &self.credentials, order.clone()))?
            {
                report.orders += 1;
                report.new += usize::from(fetch::submit(conn, self.shop, &document)?);
            }
            if let Some(at) = modified_at(order) {
                read_until = newest(read_until, at);
            }
        }
        let more = orders.len() >= ORDERS_PAGE;
        if more {
            match read_until {
                Some(newest) if newest > self.since => (self.since, self.page) = (newest, 1),
                // A whole page modified in one second: only the page number can move on.
                _ => self.page += 1,
            }
        }
        Ok(PageRead { read_until, more })
    }
}

/// An order's `date_modified`, in UTC.
fn modified_at(order: &Value) -> Option<NaiveDateTime> {
    crate::platform::bigcommerce::order_date(order, "date_modified")
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
