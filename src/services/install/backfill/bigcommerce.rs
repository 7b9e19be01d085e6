//! A BigCommerce shop's history: `v2/orders` by `min_date_created`, oldest first, each order
//! read into the same document a webhook's read makes and stored through the inbox, keyed by
//! content, so an order already stored in that state (by a webhook, by reconciliation, by an
//! earlier run) changes nothing.
//!
//! Pages are followed as reconciliation follows them: `min_date_created` moves to the newest
//! creation read (and page 1), the page number only when a whole page was created in one
//! second. An order deleted while the backfill runs then cannot shift an unread order back
//! onto a page already read. The position is the backfill's cursor, stored after each page.

use chrono::{DateTime, NaiveDateTime};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{queue_next_run, record_page, Progress};
use crate::crypto::Keys;
use crate::db::models::Shop;
use crate::db::types::Platform;
use crate::db::DbConnection;
use crate::platform::bigcommerce::api::BcApi;
use crate::platform::bigcommerce::orders::{document_for, orders_created_since, ORDERS_PAGE};
use crate::platform::bigcommerce::payload::ORDER_DOCUMENT_TOPIC;
use crate::platform::bigcommerce::webhook::content_key;
use crate::platform::shopify::api::ShopifyApi;
use crate::queue::JobError;
use crate::services::inbox::{self, Delivery};
use crate::services::reconcile::bigcommerce::fetch;

/// Pages one run reads before handing over to the next: a page is 250 orders and each order
/// three more calls, so two pages are already minutes of a throttled store's API.
pub const PAGES_PER_RUN: usize = 2;

/// Where the listing stands, kept as the backfill's cursor (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Position {
    /// `min_date_created` of the next page (RFC 3339).
    created_since: String,
    /// The page of that listing (from 1).
    page: u32,
}

impl Position {
    fn first(since: NaiveDateTime) -> Self {
        Self {
            created_since: since.and_utc().to_rfc3339(),
            page: 1,
        }
    }

    /// Past a full page whose newest order was created at `newest`.
    fn after(self, newest: Option<NaiveDateTime>) -> Self {
        let since = DateTime::parse_from_rfc3339(&self.created_since)
            .ok()
            .map(|t| t.naive_utc());
        match newest {
            Some(newest) if since.is_none_or(|since| newest > since) => Self::first(newest),
            // A whole page created in one second: only the page number can move on.
            _ => Self {
                page: self.page + 1,
                ..self
            },
        }
    }

    fn cursor(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Reads up to [`PAGES_PER_RUN`] pages from `progress`, then records where it stopped.
pub(super) fn run(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    shopify: &ShopifyApi,
    keys: &Keys,
    default_base: &str,
    shop: &Shop,
    progress: Progress,
) -> Result<(), JobError> {
    let credentials = fetch::credentials(shop, keys, default_base)
        .map_err(|e| JobError::Permanent(e.to_string()))?;
    let (http, policy) = shopify.http();
    let api = BcApi::new(http, policy);
    let mut position = progress
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
        .unwrap_or_else(|| Position::first(progress.since));
    for _ in 0..PAGES_PER_RUN {
        let orders = runtime.block_on(orders_created_since(
            &api,
            &credentials,
            &position.created_since,
            position.page,
        ))?;
        let mut newest: Option<NaiveDateTime> = None;
        let mut read = 0;
        for order in &orders {
            // `None`: deleted since it was listed.
            if let Some(document) =
                runtime.block_on(document_for(&api, &credentials, order.clone()))?
            {
                submit(conn, shop, &document)?;
                read += 1;
            }
            if let Some(at) = created_at(order) {
                newest = Some(newest.map_or(at, |n| n.max(at)));
            }
        }
        let done = orders.len() < ORDERS_PAGE;
        if !done {
            position = position.after(newest);
        }
        record_page(conn, &shop.id, Some(&position.cursor()), read, done)?;
        if done {
            tracing::info!(shop = %shop.domain, "BigCommerce history backfill finished");
            return Ok(());
        }
    }
    queue_next_run(conn, &shop.id, &position.cursor())?;
    Ok(())
}

/// Stores an order document through the inbox (applied at once). Keyed by its content, as
/// every read of a BigCommerce order is; when history earns (`award_points`), under keys of
/// their own, as Shopify's backfill does: a state first stored as history is then applied
/// again and earns (awards stay once per order).
fn submit(conn: &mut DbConnection, shop: &Shop, document: &Value) -> Result<(), JobError> {
    let text = document.to_string();
    let key = content_key(ORDER_DOCUMENT_TOPIC, &text);
    let delivery = Delivery {
        platform: Platform::BigCommerce,
        shop_domain: shop.domain.clone(),
        topic: ORDER_DOCUMENT_TOPIC.to_owned(),
        delivery_id: if shop.award_history {
            format!("backfill-award:{key}")
        } else {
            key
        },
        event_id: None,
        api_version: None,
        triggered_at: None,
        payload: text,
    };
    inbox::receive(conn, &delivery, |t| t == ORDER_DOCUMENT_TOPIC)?;
    Ok(())
}

/// An order's `date_created`, in UTC.
fn created_at(order: &Value) -> Option<NaiveDateTime> {
    crate::platform::bigcommerce::order_date(order, "date_created")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use serde_json::json;

    fn at(h: u32, m: u32, s: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 21)
            .unwrap()
            .and_hms_opt(h, m, s)
            .unwrap()
    }

    #[test]
    fn the_position_moves_to_the_newest_creation_or_else_the_next_page() {
        let first = Position::first(at(10, 0, 0));
        assert_eq!(first.created_since, "2026-11-21T10:00:00+00:00");
        let moved = first.clone().after(Some(at(11, 0, 0)));
        assert_eq!(moved, Position::first(at(11, 0, 0)));
        // A full page created in the second it started from: the next page of that listing.
        let same = first.clone().after(Some(at(10, 0, 0)));
        assert_eq!(
            (same.created_since.as_str(), same.page),
            ("2026-11-21T10:00:00+00:00", 2)
        );
        assert_eq!(first.clone().after(None).page, 2);
        let kept: Position = serde_json::from_str(&moved.cursor()).unwrap();
        assert_eq!(kept, moved);
    }

    #[test]
    fn the_creation_time_is_read_from_rfc_2822() {
        let order = json!({"date_created": "Sat, 21 Nov 2026 11:00:07 +0100"});
        assert_eq!(created_at(&order), Some(at(10, 0, 7)));
        assert_eq!(created_at(&json!({"date_created": ""})), None);
    }
}
