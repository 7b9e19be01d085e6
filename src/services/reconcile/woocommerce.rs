//! Reconciliation of a WooCommerce shop. Its webhooks are sent once, never retried, and turned
//! off after five failures, so the orders modified since the shop's watermark are read back
//! over the REST API and stored in the inbox exactly as an `order.updated` delivery, keyed by
//! content: a document already received changes nothing, and refunds are still taken back by
//! difference when the order is applied.

use chrono::NaiveDateTime;
use serde_json::Value;

use super::watermark::{self, newest, PageRead, PageReader};
use super::{ReconcileError, ReconcileReport};
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::types::Platform;
use crate::db::{now, DbConnection};
use crate::platform::shopify::api::ShopifyApi;
use crate::platform::woocommerce::api::WooApi;
use crate::platform::woocommerce::{content_key, TOPICS};
use crate::platform::ShopCredentials;
use crate::services::inbox::{self, Delivery, Receipt};

/// A bound on one run (100 orders a page), so a huge backlog is spread over several runs.
const MAX_PAGES: u32 = 200;
/// The topic a reconciled order is stored under: the whole document, as on every change.
const TOPIC: &str = "order.updated";

/// Reconciles one installed WooCommerce shop. The watermark is the newest `date_modified_gmt`
/// stored, on the site's own clock (the clock `modified_after` filters on), moved after each
/// page is stored: a run that stops anywhere resumes after its last stored page.
pub(super) fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    shop: &Shop,
) -> Result<ReconcileReport, ReconcileError> {
    if shop.is_demo {
        return Err(ReconcileError::Skipped(
            "the demo shop has no store to read".into(),
        ));
    }
    let Some(credentials) = crate::services::redeem::credentials(shop, keys) else {
        return Err(ReconcileError::Skipped(
            "WooCommerce shop has no REST API keys (add --api-key and --api-secret)".into(),
        ));
    };
    let (http, policy) = shopify.http();
    let mut listing = Listing {
        runtime,
        api: WooApi::new(http, policy),
        credentials,
        shop,
        after: watermark::start(shop, now())
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
        page: 1,
    };
    let report = watermark::follow(conn, shop, MAX_PAGES, &mut listing)?;
    tracing::info!(shop = %shop.domain, ?report, "reconciled WooCommerce orders");
    Ok(report)
}

/// The orders listing by `modified_after`, followed by page number (WooCommerce says how many
/// pages there are).
struct Listing<'a> {
    runtime: &'a tokio::runtime::Handle,
    api: WooApi<'a>,
    credentials: ShopCredentials,
    shop: &'a Shop,
    after: String,
    page: u32,
}

impl PageReader for Listing<'_> {
    fn read_page(
        &mut self,
        conn: &mut DbConnection,
        report: &mut ReconcileReport,
    ) -> Result<PageRead, ReconcileError> {
        let listing = self.runtime.block_on(self.api.orders_modified_after(
            &self.credentials,
            &self.after,
            self.page,
        ))?;
        let mut read_until: Option<NaiveDateTime> = None;
        for order in &listing.orders {
            report.orders += 1;
            report.new += store(conn, self.shop, order)?;
            if let Some(at) = modified_at(order) {
                read_until = newest(read_until, at);
            }
        }
        let last_page = listing.total_pages.is_some_and(|total| self.page >= total);
        self.page += 1;
        Ok(PageRead {
            read_until,
            more: !listing.orders.is_empty() && !last_page,
        })
    }
}

/// Stores one order document as an `order.updated` delivery; returns 1 when it was new.
fn store(conn: &mut DbConnection, shop: &Shop, order: &Value) -> Result<usize, ReconcileError> {
    let text = order.to_string();
    let delivery = Delivery {
        platform: Platform::WooCommerce,
        shop_domain: shop.domain.clone(),
        topic: TOPIC.to_owned(),
        delivery_id: content_key(TOPIC, &text),
        event_id: None,
        api_version: None,
        triggered_at: None,
        payload: text,
    };
    let received = inbox::receive(conn, &delivery, |t| TOPICS.contains(&t))?;
    Ok(usize::from(received.receipt == Receipt::Accepted))
}

/// An order's `date_modified_gmt` (`YYYY-MM-DDTHH:MM:SS`, UTC without an offset).
fn modified_at(order: &Value) -> Option<NaiveDateTime> {
    let text = order.get("date_modified_gmt")?.as_str()?.trim();
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_modified_time_is_read_as_utc_without_an_offset() {
        let order = json!({"date_modified_gmt": "2026-11-22T10:00:07"});
        let expected = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
            .unwrap()
            .and_hms_opt(10, 0, 7)
            .unwrap();
        assert_eq!(modified_at(&order), Some(expected));
        assert_eq!(modified_at(&json!({"date_modified_gmt": null})), None);
        assert_eq!(
            modified_at(&json!({"date_modified_gmt": "yesterday"})),
            None
        );
    }
}
