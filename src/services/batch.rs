//! What an applier batch keeps for the length of its transaction, on the thread applying it.
//!
//! An applier applies up to sixteen events in one transaction. Two kinds of work are better
//! done once per batch than once per order:
//!
//! - the roll-ups an order row moves (metrics, replenishment purchases): collected here and
//!   written once when the batch ends (`retention::rollups`);
//! - reads that are the same for every order of the batch: the shop's outgoing-webhook
//!   subscriptions (asked at every ledger line and new member) and its time zone (asked at
//!   every ledger line), read once per shop.
//!
//! Anything in a batch that is not an order or a refund (a claim, a redaction, new settings)
//! calls [`before_other_event`]: collected roll-ups are written and cached reads forgotten, so
//! it and what follows see the database as it is. Outside a batch (a job, the writer's inline
//! apply, an admin request) nothing is kept: the roll-ups are written at once and every read is
//! made.

use std::cell::RefCell;
use std::collections::HashMap;
use std::marker::PhantomData;

use diesel::QueryResult;

use crate::db::models::WebhookSubscription;
use crate::db::DbConnection;
use crate::services::retention::rollups;

/// The open batch's state.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) rollups: rollups::Pending,
    subscriptions: HashMap<String, Vec<WebhookSubscription>>,
    timezones: HashMap<String, String>,
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
        rollups::flush(conn)
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
    with_state(|state| {
        if let Some(state) = state {
            state.subscriptions.clear();
            state.timezones.clear();
        }
    });
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
