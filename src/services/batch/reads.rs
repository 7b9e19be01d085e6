//! What an applier batch reads once: the rows of its orders when it starts, and what is the
//! same for all its orders (the shop's webhook subscriptions and time zone).

use std::collections::HashMap;

use diesel::QueryResult;

use super::{with_state, Prefetched};
use crate::db::models::{Order, Refund, WebhookSubscription};
use crate::db::DbConnection;

/// Reads the stored rows and refunds of the orders the batch's events are about, `(shop id,
/// platform order id)`, two statements per shop. Nothing to do outside a batch.
pub fn prefetch_orders(conn: &mut DbConnection, wanted: &[(String, String)]) -> QueryResult<()> {
    if with_state(|s| s.is_none()) {
        return Ok(());
    }
    let mut by_shop: HashMap<&str, Vec<&str>> = HashMap::new();
    for (shop, order) in wanted {
        by_shop.entry(shop).or_default().push(order);
    }
    let mut fetched = HashMap::new();
    for (shop_id, ids) in by_shop {
        let mut rows: HashMap<String, Prefetched> = ids
            .iter()
            .map(|id| {
                let empty = Prefetched {
                    order: None,
                    refunds: Vec::new(),
                };
                ((*id).to_owned(), empty)
            })
            .collect();
        for order in Order::find_by_platform_ids(conn, shop_id, &ids)? {
            if let Some(row) = rows.get_mut(&order.platform_order_id) {
                row.order = Some(order);
            }
        }
        for refund in Refund::for_orders(conn, shop_id, &ids)? {
            if let Some(row) = rows.get_mut(&refund.platform_order_id) {
                row.refunds.push(refund);
            }
        }
        fetched.extend(
            rows.into_iter()
                .map(|(id, row)| ((shop_id.to_owned(), id), row)),
        );
    }
    with_state(|state| {
        if let Some(state) = state {
            state.orders = fetched;
        }
    });
    Ok(())
}

/// The order's rows as the batch read them at its start, once: the first event of the order
/// takes them (and changes them); `None` when they were not read or were taken, so the caller
/// reads what is stored now.
pub fn take_order(shop_id: &str, platform_order_id: &str) -> Option<Prefetched> {
    with_state(|state| {
        state.and_then(|state| {
            state
                .orders
                .remove(&(shop_id.to_owned(), platform_order_id.to_owned()))
        })
    })
}

/// Forgets the orders read at the batch's start: something moved orders between members.
pub fn forget_orders() {
    with_state(|state| {
        if let Some(state) = state {
            state.orders.clear();
        }
    });
}

/// The shop's enabled webhook subscriptions: read once per batch (a subscription the owner
/// adds while a batch is being applied is told of the next batch's changes), at every call
/// outside one.
pub fn enabled_subscriptions(
    conn: &mut DbConnection,
    shop_id: &str,
) -> QueryResult<Vec<WebhookSubscription>> {
    if let Some(cached) = with_state(|s| s.and_then(|s| s.subscriptions.get(shop_id).cloned())) {
        return Ok(cached);
    }
    let read = WebhookSubscription::enabled(conn, shop_id)?;
    with_state(|state| {
        if let Some(state) = state {
            state.subscriptions.insert(shop_id.to_owned(), read.clone());
        }
    });
    Ok(read)
}

/// The shop's time zone (its local days): read once per batch, at every call outside one. New
/// settings arrive as an event of their own, which forgets it ([`before_other_event`]).
pub fn shop_timezone(conn: &mut DbConnection, shop_id: &str) -> QueryResult<String> {
    use crate::db::schema::shops;
    use diesel::prelude::*;
    if let Some(cached) = with_state(|s| s.and_then(|s| s.timezones.get(shop_id).cloned())) {
        return Ok(cached);
    }
    let timezone: String = shops::table
        .find(shop_id)
        .select(shops::timezone)
        .first(conn)?;
    with_state(|state| {
        if let Some(state) = state {
            state.timezones.insert(shop_id.to_owned(), timezone.clone());
        }
    });
    Ok(timezone)
}
