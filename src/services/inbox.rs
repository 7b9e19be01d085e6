//! The webhook inbox: store every verified delivery durably and exactly once, then apply it.
//!
//! Storing happens before the platform gets its 200, so an acknowledged webhook can never be
//! lost; the unique (shop, platform, delivery id) turns a redelivery into `duplicate`.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::db::models::inbox_event::AboutRow;
use crate::db::models::{InboxEvent, NewInboxEvent, Shop};
use crate::db::types::{InboxStatus, InstallState, Platform};
use crate::db::{new_id, now, write_transaction, DbConnection};
use crate::services::compliance::Subject;

/// A verified delivery, as the adapter hands it over.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub platform: Platform,
    pub shop_domain: String,
    pub topic: String,
    pub delivery_id: String,
    pub event_id: Option<String>,
    pub api_version: Option<String>,
    pub triggered_at: Option<NaiveDateTime>,
    /// The raw body, already checked to be JSON.
    pub payload: String,
}

/// The answer the platform gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Receipt {
    /// Stored now (and applied, or queued for a worker).
    Accepted,
    /// The same delivery was stored before; nothing changed.
    Duplicate,
    /// Not for us: unknown shop, or a topic the app does not use. Nothing stored.
    Ignored,
}

/// Outcome of `receive`, with the shop it was for (for logs).
#[derive(Debug, Clone)]
pub struct Received {
    pub receipt: Receipt,
    pub shop_id: Option<String>,
    pub inbox_id: Option<String>,
}

/// Stores the delivery once and applies it, in its own write transaction (reconciliation and
/// other single deliveries; webhooks under load go through `ingest`, which batches).
pub fn receive(
    conn: &mut DbConnection,
    delivery: &Delivery,
    topic_is_used: impl Fn(&str) -> bool,
) -> Result<Received, diesel::result::Error> {
    if !topic_is_used(&delivery.topic) {
        return Ok(Received::IGNORED);
    }
    let subject = Subject::of(&delivery.payload);
    write_transaction(conn, |conn| {
        let shop = Shop::find_by_domain(conn, delivery.platform, &delivery.shop_domain)?;
        store(
            conn,
            shop.as_ref(),
            delivery,
            &subject,
            &topic_is_used,
            true,
        )
    })
}

impl Received {
    const IGNORED: Received = Received {
        receipt: Receipt::Ignored,
        shop_id: None,
        inbox_id: None,
    };
}

/// Stores the delivery for `shop` once, inside the caller's write transaction, and applies it
/// there when `apply_now` (else it stays `pending` for the applier). Compliance topics
/// (`shop/redact`, `customers/redact`) are stored even for an uninstalled shop: they arrive
/// after uninstall by design. `subject` (read from the body by the caller, off the writer
/// thread) is stored beside it as keys for a later `customers/redact`.
pub fn store(
    conn: &mut DbConnection,
    shop: Option<&Shop>,
    delivery: &Delivery,
    subject: &Subject,
    topic_is_used: impl Fn(&str) -> bool,
    apply_now: bool,
) -> Result<Received, diesel::result::Error> {
    let shop = match admit(shop, delivery, &topic_is_used) {
        Ok(shop) => shop,
        Err(refused) => return Ok(refused),
    };
    let row = pending_row(shop, delivery);
    let id = row.id.clone();
    // On SQLite the same delivery may still wait in the arrivals file (`db::arrivals`).
    let waiting = crate::db::arrivals::holds(
        conn,
        &shop.id,
        row.platform,
        &row.delivery_id,
        row.event_id.as_deref(),
    )?;
    let stored = !waiting
        && row.insert_once_about(
            conn,
            subject.customer_id.as_deref(),
            subject.order_id.as_deref(),
        )?;
    if stored && apply_now {
        // The fast path: apply in the same transaction (its failure isolated in a savepoint).
        crate::services::apply::apply_stored(conn, shop, &InboxEvent::from(row), now())?;
    }
    Ok(Received {
        receipt: if stored {
            Receipt::Accepted
        } else {
            Receipt::Duplicate
        },
        shop_id: Some(shop.id.clone()),
        inbox_id: stored.then_some(id),
    })
}

/// A delivery the writer stores for the applier, with the shop it names (as read in the
/// writer's transaction) and who and what it is about.
pub struct ToStore<'a> {
    pub shop: Option<&'a Shop>,
    pub delivery: &'a Delivery,
    pub subject: &'a Subject,
}

/// [`store`] without applying, for many deliveries at once: one insert for all the rows
/// (`pending`, for the applier) instead of one per delivery; on SQLite into the arrivals file,
/// inside `db::arrivals::arrivals_transaction`, the answers in `items`' order
/// and as storing them one by one would give (of equal deliveries the first is accepted).
pub fn store_pending(
    conn: &mut DbConnection,
    items: &[ToStore<'_>],
    topic_is_used: impl Fn(&str) -> bool,
) -> Result<Vec<Received>, diesel::result::Error> {
    let admitted: Vec<Result<(&Shop, NewInboxEvent), Received>> = items
        .iter()
        .map(|item| {
            admit(item.shop, item.delivery, &topic_is_used)
                .map(|shop| (shop, pending_row(shop, item.delivery)))
        })
        .collect();
    let rows: Vec<AboutRow<'_>> = admitted
        .iter()
        .zip(items)
        .filter_map(|(admitted, item)| {
            admitted.as_ref().ok().map(|(_, row)| {
                (
                    row,
                    item.subject.customer_id.as_deref(),
                    item.subject.order_id.as_deref(),
                )
            })
        })
        .collect();
    // On SQLite into the arrivals file, which the appliers move into the inbox (`db::arrivals`).
    let stored = match conn {
        DbConnection::Sqlite(_) => crate::db::arrivals::insert_all_once_about(conn, &rows)?,
        DbConnection::Postgresql(_) => NewInboxEvent::insert_all_once_about(conn, &rows)?,
    };
    Ok(admitted
        .into_iter()
        .map(|admitted| match admitted {
            Err(refused) => refused,
            Ok((shop, row)) => {
                let new = stored.contains(&row.id);
                Received {
                    receipt: if new {
                        Receipt::Accepted
                    } else {
                        Receipt::Duplicate
                    },
                    shop_id: Some(shop.id.clone()),
                    inbox_id: new.then_some(row.id),
                }
            }
        })
        .collect())
}

/// The shop a delivery is stored for, or the answer when it is not stored: a topic the app
/// does not use, an unknown shop, a shop whose data was erased.
fn admit<'a>(
    shop: Option<&'a Shop>,
    delivery: &Delivery,
    topic_is_used: impl Fn(&str) -> bool,
) -> Result<&'a Shop, Received> {
    if !topic_is_used(&delivery.topic) {
        return Err(Received::IGNORED);
    }
    let Some(shop) = shop else {
        return Err(Received::IGNORED);
    };
    if shop.install_state == InstallState::Redacted {
        return Err(Received {
            shop_id: Some(shop.id.clone()),
            ..Received::IGNORED
        });
    }
    Ok(shop)
}

/// The inbox row of a delivery for `shop`, pending.
fn pending_row(shop: &Shop, delivery: &Delivery) -> NewInboxEvent {
    NewInboxEvent {
        id: new_id(),
        shop_id: shop.id.clone(),
        platform: delivery.platform,
        topic: delivery.topic.clone(),
        delivery_id: delivery.delivery_id.clone(),
        event_id: delivery.event_id.clone(),
        api_version: delivery.api_version.clone(),
        triggered_at: delivery.triggered_at,
        payload: delivery.payload.clone(),
        status: InboxStatus::Pending,
        error: None,
        attempts: 0,
        received_at: now(),
        processed_at: None,
    }
}
