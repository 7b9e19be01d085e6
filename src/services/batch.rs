//! What an applier batch keeps for the length of its transaction, on the thread applying it.
//!
//! An applier applies up to 128 events in one transaction on PostgreSQL and up to 1,024 on
//! SQLite (`ingest::pending`). Some work is better done once per batch than once per order:
//!
//! - the roll-ups an order row moves (metrics, replenishment purchases): collected here and
//!   written once when the batch ends (`retention::rollups`), or, when its claim came back full
//!   (more events wait) or short while kept-back rows wait, kept back for the transaction that
//!   finds the inbox caught up (`retention::backlog`);
//! - reads that are the same for every order of the batch: the shop's outgoing-webhook
//!   subscriptions (asked at every ledger line and new member) and its time zone (asked at
//!   every ledger line), read once per shop;
//! - the stored rows of the batch's orders and their refunds, read together when the batch
//!   starts: each order's first event takes them, later ones (and anything after a change
//!   elsewhere, such as a guest claimed by an account) read them again;
//! - its customers' accounts, the guests they may claim and their survey facts, likewise
//!   (`members`);
//! - writes that one statement can do for all events: the inbox rows' outcomes (one update
//!   per outcome), the points-earned mail of its orders (one read of the suppression list and
//!   one insert) and the wake-up jobs of the mail and webhook deliverers (one per shop and
//!   kind, not one per message: the deliverer drains everything due anyway).
//!
//! Anything in a batch that is not an order or a refund (a claim, a redaction, new settings)
//! calls [`before_other_event`]: collected roll-ups (and the shop's kept-back ones) and mail are
//! written and cached reads forgotten, so it and what follows see the database as it is.
//! Outside a batch (a job, the writer's inline apply, an admin request) nothing is kept:
//! everything is written at once and every read is made.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;

use diesel::QueryResult;

use crate::db::models::{Order, Refund, WebhookSubscription};
use crate::db::types::InboxStatus;
use crate::db::DbConnection;
use crate::queue::{JobKind, JobSpec};
use crate::services::retention::rollups;

mod members;
mod reads;
mod writes;

pub use members::{
    forget_member, forget_members, guest_with_email, prefetch_members, take_account, touched,
    Customer,
};
pub use reads::{enabled_subscriptions, forget_orders, prefetch_orders, shop_timezone, take_order};
pub use writes::{defer_email, defer_survey, held_survey_day, mark_applied, wake, SurveyDeferral};
use writes::{keep_back_emails, write_emails, write_outcomes};

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
    /// The batch's members as read when it started (`members`).
    members: members::Prefetched,
    /// Messages queued for the batch's end, and their (shop, member, kind, occasion).
    emails: Vec<crate::services::mail::Queued>,
    email_occasions: HashSet<(String, String, String, String)>,
    /// Surveys made with their mail, by the message's id: written if the message is.
    surveys: Vec<(String, crate::db::models::NpsSurvey)>,
    /// New orders' awards, rows and tier rows, written when the batch ends (`ledger::held`).
    pub(crate) held: crate::services::ledger::HeldWrites,
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

    /// Writes what the batch collected (in the caller's transaction) and closes it. Its
    /// roll-ups are written with some of the backlog when `catch_up` (the inbox is caught up, or
    /// the backlog is due), else kept in the backlog (`retention::backlog`). Returns how many
    /// backlog rows were written.
    pub fn finish(self, conn: &mut DbConnection, catch_up: bool) -> QueryResult<usize> {
        crate::services::ledger::write_held(conn)?;
        // The messages' wake-ups join the others, enqueued below.
        let caught_up = if catch_up {
            // The backlog first: the messages kept back in it are older than the batch's.
            let caught_up = rollups::finish_batch(conn, None)?;
            write_emails(conn)?;
            caught_up
        } else {
            // Mail, like the roll-ups, is nothing a shopper's points wait for: kept back with
            // them (all but survey mail, whose rows later orders read).
            let kept = keep_back_emails(conn)?;
            rollups::finish_batch(conn, Some(kept))?
        };
        write_outcomes(conn)?;
        let wakes = with_state(|s| s.map(|s| std::mem::take(&mut s.wakes)).unwrap_or_default());
        for spec in wakes.into_values() {
            crate::queue::enqueue(conn, spec)?;
        }
        Ok(caught_up)
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

/// Before an event that is not an order or a refund: writes the collected roll-ups (and the
/// shop's backlog of them) and forgets the cached reads.
pub fn before_other_event(conn: &mut DbConnection, shop_id: &str) -> QueryResult<()> {
    // Balances and lines as they are, for whatever the event reads.
    crate::services::ledger::write_held(conn)?;
    // A redaction erases the member's mail: the messages kept back in the shop's backlog and
    // those the batch holds are written first, the older first.
    rollups::flush(conn, shop_id)?;
    write_emails(conn)?;
    // A redaction or an uninstall may look at the inbox rows' states.
    write_outcomes(conn)?;
    with_state(|state| {
        if let Some(state) = state {
            state.subscriptions.clear();
            state.timezones.clear();
            state.orders.clear();
        }
    });
    forget_members();
    Ok(())
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
