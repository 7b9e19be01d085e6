//! What an applier batch keeps for the length of its transaction, on the thread applying it.
//!
//! An applier applies up to sixteen events in one transaction. Two kinds of work are better
//! done once per batch than once per order:
//!
//! - the roll-ups an order row moves (metrics, replenishment purchases): collected here and
//!   written once when the batch ends (`retention::rollups`);
//! - reads that are the same for every order of the batch: the shop's outgoing-webhook
//!   subscriptions (asked at every ledger line and new member) and its time zone (asked at
//!   every ledger line), read once per shop;
//! - the stored rows of the batch's orders and their refunds, read together when the batch
//!   starts: each order's first event takes them, later ones (and anything after a change
//!   elsewhere, such as a guest claimed by an account) read them again;
//! - writes that one statement can do for all events: the inbox rows' outcomes (one update
//!   per outcome) and the wake-up jobs of the mail and webhook deliverers (one per
//!   shop and kind, not one per message: the deliverer drains everything due anyway).
//!
//! Anything in a batch that is not an order or a refund (a claim, a redaction, new settings)
//! calls [`before_other_event`]: collected roll-ups are written and cached reads forgotten, so
//! it and what follows see the database as it is. Outside a batch (a job, the writer's inline
//! apply, an admin request) nothing is kept: the roll-ups are written at once and every read is
//! made.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::models::{InboxEvent, Order, Refund, WebhookSubscription};
use crate::db::types::InboxStatus;
use crate::db::DbConnection;
use crate::queue::{JobKind, JobSpec};
use crate::services::retention::rollups;

/// The open batch's state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) rollups: rollups::Pending,
    subscriptions: HashMap<String, Vec<WebhookSubscription>>,
    timezones: HashMap<String, String>,
    /// Inbox rows applied, by outcome, marked together.
    outcomes: HashMap<InboxStatus, Vec<String>>,
    /// The first wake-up job asked for per shop and kind.
    wakes: HashMap<(String, JobKind), JobSpec>,
    /// By (shop, platform order id), until an event of the order takes it.
    orders: HashMap<(String, String), Prefetched>,
}

/// An order's row as stored when the batch started (`None`: not stored yet), and its refunds.
#[derive(Debug, Clone)]
pub struct Prefetched {
    pub order: Option<Order>,
    pub refunds: Vec<Refund>,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
}

/// An applier batch in progress on this thread, inside its transaction.
///
/// Dropped without [`Batch::finish`] (the batch failed and its transaction is rolled back), it
/// forgets what it collected.
#[must_use = "a batch's roll-ups are written by finish()"]
pub struct Batch {
    // Tied to the thread whose state it opened.
    _thread: PhantomData<*const ()>,
}

impl Batch {
    /// Opens the batch. Batches do not nest: one already open on this thread is a bug.
    pub fn begin() -> Self {
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            debug_assert!(
                s.is_none(),
                "an applier batch is already open on this thread"
            );
            *s = Some(State::default());
        });
        Self {
            _thread: PhantomData,
        }
    }

    /// Writes what the batch collected (in the caller's transaction) and closes it.
    pub fn finish(self, conn: &mut DbConnection) -> QueryResult<()> {
        rollups::flush(conn)?;
        write_outcomes(conn)?;
        let wakes = with_state(|s| s.map(|s| std::mem::take(&mut s.wakes)).unwrap_or_default());
        for spec in wakes.into_values() {
            crate::queue::enqueue(conn, spec)?;
        }
        Ok(())
        // Dropping `self` closes the batch.
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        STATE.with(|s| *s.borrow_mut() = None);
    }
}

/// Runs `f` on the open batch's state (`None` outside a batch).
pub(crate) fn with_state<R>(f: impl FnOnce(Option<&mut State>) -> R) -> R {
    STATE.with(|s| f(s.borrow_mut().as_mut()))
}

/// Before an event that is not an order or a refund: writes the collected roll-ups and forgets
/// the cached reads. Nothing to do outside a batch.
pub fn before_other_event(conn: &mut DbConnection) -> QueryResult<()> {
    rollups::flush(conn)?;
    // A redaction or an uninstall may look at the inbox rows' states.
    write_outcomes(conn)?;
    with_state(|state| {
        if let Some(state) = state {
            state.subscriptions.clear();
            state.timezones.clear();
            state.orders.clear();
        }
    });
    Ok(())
}

/// Reads the stored rows and refunds of the orders the batch's events are about, `(shop id,
/// platform order id)`, two statements per shop. Nothing to do outside a batch.
pub fn prefetch_orders(conn: &mut DbConnection, wanted: &[(String, String)]) -> QueryResult<()> {
    use crate::db::schema::{orders, refunds};
    use diesel::prelude::*;
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
        let stored: Vec<Order> = orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::platform_order_id.eq_any(&ids))
            .select(Order::as_select())
            .load(conn)?;
        for order in stored {
            if let Some(row) = rows.get_mut(&order.platform_order_id) {
                row.order = Some(order);
            }
        }
        // In the order `Refund::for_order` reads them.
        let stored: Vec<Refund> = refunds::table
            .filter(refunds::shop_id.eq(shop_id))
            .filter(refunds::platform_order_id.eq_any(&ids))
            .order((refunds::refunded_at.asc(), refunds::id.asc()))
            .select(Refund::as_select())
            .load(conn)?;
        for refund in stored {
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

/// Records an applied inbox row's outcome: in a batch, written with the others of its outcome
/// when the batch ends (or before an event that is not an order or a refund); at once
/// outside one.
pub fn mark_applied(
    conn: &mut DbConnection,
    shop_id: &str,
    event_id: &str,
    status: InboxStatus,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let deferred = with_state(|state| {
        state.map(|state| {
            state
                .outcomes
                .entry(status)
                .or_default()
                .push(event_id.to_owned());
        })
    });
    match deferred {
        Some(()) => Ok(()),
        None => InboxEvent::mark(conn, shop_id, event_id, status, None, at),
    }
}

fn write_outcomes(conn: &mut DbConnection) -> QueryResult<()> {
    let outcomes = with_state(|s| {
        s.map(|s| std::mem::take(&mut s.outcomes))
            .unwrap_or_default()
    });
    let at = crate::db::now();
    for (status, ids) in outcomes {
        InboxEvent::mark_all(conn, &ids, status, at)?;
    }
    Ok(())
}

/// Asks for a deliverer's wake-up job: in a batch, the first asked for per shop and kind is
/// queued when the batch ends (its messages are committed with it, and the deliverer takes
/// everything due); at once outside one.
pub fn wake(conn: &mut DbConnection, spec: JobSpec) -> QueryResult<()> {
    let spec = with_state(|state| match state {
        Some(state) => {
            state
                .wakes
                .entry((spec.shop_id.clone(), spec.kind))
                .or_insert(spec);
            None
        }
        None => Some(spec),
    });
    if let Some(spec) = spec {
        crate::queue::enqueue(conn, spec)?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_opens_its_state_and_a_dropped_batch_closes_it() {
        assert!(with_state(|s| s.is_none()));
        let batch = Batch::begin();
        assert!(with_state(|s| s.is_some()));
        drop(batch);
        assert!(with_state(|s| s.is_none()));
    }
}
