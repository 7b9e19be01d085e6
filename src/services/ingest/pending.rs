//! The appliers' side of ingestion: claiming pending events a batch at a time and applying
//! them, on every instance, side by side with other appliers.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use super::changes_the_shop;
use super::subject_locks::{lock_shops, try_lock_subjects, ShopSubject};
use crate::db::models::{InboxEvent, Shop};
use crate::db::schema::inbox_events;
use crate::db::types::InboxStatus;
use crate::db::{
    arrivals, is_retryable_conflict, now, retry_conflicts, write_transaction_with, Db,
    DbConnection, DbError, Durability,
};
use crate::domain::event::Event;
use crate::services::apply::{
    apply_read_and_mark, apply_stored_with, read_catching_panics, ApplyError, OnConflict, Read,
};
use crate::services::batch;
use crate::services::earn::claimable_guest_email;

/// Deferred events applied per transaction by [`apply_pending`] (the job runner's
/// `run_pending`, for `jobs run-once` and the tests), on either engine.
pub(super) const APPLY_BATCH: usize = 16;

/// Deferred events applied per applier transaction on PostgreSQL, during a burst and after it
/// (nothing the writer does waits for it there): what a batch does once (claim, locks, reads of
/// its orders, roll-ups, outcomes, mail, commit) is shared by eight times as many events as 16.
/// Larger claims gained nothing measurable once the burst was acknowledged, and the appliers of
/// every instance share the backlog: a larger claim holds more customers the others must skip.
pub(super) const APPLY_BATCH_UNCONTENDED: usize = 128;

/// The same on SQLite, whose one applier has the backlog to itself and whose commit rewrites
/// every page the batch touched: an index leaf that several of the batch's events land on is
/// written to the log once. 1,024 applied ~×1.10 faster than 256 (applier CPU −12 %, log
/// checkpointing −25 %; 256 was ~×1.12 faster than 128 and ~×1.35 than 16). Taken throughout:
/// the acknowledging writer stores in the arrivals file (`db::arrivals`), under a lock such a
/// batch does not hold; only a delivery that arrives alone, applied as it is stored, waits for
/// the main file's lock (at most one batch, ~0.1–0.25 s on the CI machine, well inside the
/// platforms' delivery timeouts).
pub(super) const APPLY_BATCH_UNCONTENDED_SQLITE: usize = 1024;

/// Arrivals moved into the inbox at most before each applier batch on SQLite (`db::arrivals`):
/// a few batches' worth, so the inbox keeps up with the writer and the arrivals file stays small.
const MOVE_AT_MOST: i64 = 4096;

/// Applies up to [`APPLY_BATCH`] pending events that no job owns yet (never attempted), oldest
/// first, in one transaction (with some of the roll-ups' backlog once none is left); returns
/// how many events and backlog rows it wrote (0: nothing was waiting).
pub fn apply_pending(db: &Db) -> Result<usize, DbError> {
    apply_pending_up_to(db, APPLY_BATCH, false).map(|done| done.events + done.rollup_rows)
}

/// What one applier transaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Applied {
    /// Events applied.
    pub events: usize,
    /// Backlog rows written as roll-ups (`retention::backlog`).
    pub rollup_rows: usize,
    /// Whether the roll-ups were written rather than kept in the backlog: the claim came back
    /// short (the inbox is caught up) or the backlog was due.
    pub caught_up: bool,
    /// The claim came back short while backlog rows waited: the batch kept its roll-ups back
    /// too, and the next transaction should write the backlog (`rollups_due`).
    pub catch_up_next: bool,
}

/// Applies up to `limit` pending events that no job owns yet (never attempted), oldest first,
/// in one transaction.
///
/// The batch's retention roll-ups are kept in the backlog while its claim comes back full (more
/// is waiting); a batch whose claim comes back short, or any batch when `rollups_due`, writes
/// them with the oldest of the backlog instead (`retention::backlog`). A short claim while backlog
/// rows wait keeps its own back as well and asks for the catch-up next
/// ([`Applied::catch_up_next`]): its events are applied without waiting for the backlog.
///
/// Every instance runs an applier. On PostgreSQL each claims its events `FOR UPDATE SKIP
/// LOCKED`, so two instances apply different events side by side instead of both applying
/// (and waiting on each other over) the same oldest ones; on SQLite the write lock already
/// makes one applier at a time. Of the events claimed, those about a customer or an order
/// another applier is applying right now are left for a later batch rather than waited for.
///
/// Its commit does not wait for the disk ([`Durability::Replayable`]): the events were stored
/// durably when they were acknowledged, and a batch a power cut loses leaves them pending.
///
/// The batch is first applied without a savepoint per event (two statements fewer each). When
/// one event fails, that transaction is rolled back whole and the batch applied again with a
/// savepoint each, so the failure is recorded on its event and the others apply.
///
/// A deadlock or serialization conflict PostgreSQL breaks by aborting the batch is no event's
/// failure: the batch is rolled back whole and run again (up to three times, then left to the
/// next sweep), never recorded on an event, which would leave it to a job.
pub(super) fn apply_pending_up_to(
    db: &Db,
    limit: usize,
    rollups_due: bool,
) -> Result<Applied, DbError> {
    let mut conn = Some(db.write_connection()?);
    if let Some(conn) = conn.as_mut() {
        // SQLite: what the writer acknowledged since comes into the inbox first (`db::arrivals`).
        arrivals::move_to_inbox(conn, MOVE_AT_MOST)?;
    }
    let lost_a_deadlock =
        |e: &BatchError| matches!(e, BatchError::Database(e) if is_retryable_conflict(e));
    retry_conflicts(lost_a_deadlock, || {
        let c = match conn.as_mut() {
            Some(c) => c,
            None => conn.insert(db.write_connection().map_err(BatchError::Connection)?),
        };
        match write_transaction_with(c, Durability::Replayable, |c| {
            apply_batch(c, limit, rollups_due, Isolation::Together)
        }) {
            Err(BatchError::OneFailed) => {
                // A fresh connection: a panic caught inside nested transactions leaves diesel's
                // count of them off on this one (the pool, like the shared writer, replaces such
                // a connection). The old one goes first: SQLite's writer is one connection.
                conn = None;
                let c = conn.insert(db.write_connection().map_err(BatchError::Connection)?);
                write_transaction_with(c, Durability::Replayable, |c| {
                    apply_batch(c, limit, rollups_due, Isolation::EachInSavepoint)
                })
            }
            outcome => outcome,
        }
    })
    .map_err(|e| match e {
        BatchError::Database(e) => DbError::from(e),
        BatchError::Connection(e) => e,
        // Never returned with savepoints: each failure is recorded on its event.
        BatchError::OneFailed => DbError::TaskAborted,
    })
}

/// How the events of an applier batch are kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// All in the batch's transaction; the first failure abandons the batch.
    Together,
    /// Each in a savepoint, its failure recorded on it.
    EachInSavepoint,
}

#[derive(Debug)]
enum BatchError {
    Database(diesel::result::Error),
    /// No connection for the batch's second run, event by event.
    Connection(DbError),
    /// An event of a batch applied [`Isolation::Together`] failed.
    OneFailed,
}

impl From<diesel::result::Error> for BatchError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

fn apply_batch(
    conn: &mut DbConnection,
    limit: usize,
    rollups_due: bool,
    isolation: Isolation,
) -> Result<Applied, BatchError> {
    let (claimed, more_waiting) = claim_pending(conn, limit)?;
    // A short claim writes the roll-ups, unless backlog rows wait: then its events are committed
    // first and the backlog is written by the next transaction (with nothing claimed, at the end
    // of a burst), which also writes whatever that one claims.
    let catch_up_next = !rollups_due
        && !more_waiting
        && !claimed.is_empty()
        && crate::services::retention::backlog::waiting(conn)?;
    let caught_up = rollups_due || (!more_waiting && !catch_up_next);
    let events: Vec<&InboxEvent> = claimed.iter().map(|(event, ..)| event).collect();
    let mut shops = Shops::default();
    if isolation == Isolation::EachInSavepoint {
        // Each event read and applied in its own savepoint, its failure recorded on it; nothing
        // is read ahead for the batch, and its roll-ups are written as each is applied.
        for &event in &events {
            let shop = shops.get(conn, &event.shop_id)?;
            apply_stored_with(conn, &shop, event, now(), OnConflict::FailTheTransaction)?;
            shops.after(event);
        }
        let rollup_rows = if caught_up {
            crate::services::retention::backlog::catch_up(conn)?
        } else {
            0
        };
        return Ok(Applied {
            events: events.len(),
            rollup_rows,
            caught_up,
            catch_up_next,
        });
    }
    // Applied together, the batch's orders move the roll-ups once at its end and read what is
    // the same for all of them once; event by event, each in a savepoint that may be rolled
    // back, they do it all as each is applied.
    let together = batch::Batch::begin();
    // Every event is read first, so the members they are about (and the guests their e-mails
    // may claim) are read together below. A failure is found again event by event.
    let mut reads = Vec::with_capacity(events.len());
    for &event in &events {
        let shop = shops.get(conn, &event.shop_id)?;
        match read_catching_panics(&shop, event) {
            Ok(read) => reads.push(read),
            Err(e) => {
                tracing::debug!(error = %e, "an event of the batch cannot be read; applying it event by event");
                return Err(BatchError::OneFailed);
            }
        }
    }
    let orders: Vec<(String, String)> = claimed
        .iter()
        .filter_map(|(event, _, order)| Some((event.shop_id.clone(), order.clone()?)))
        .collect();
    batch::prefetch_orders(conn, &orders)?;
    let customers: Vec<batch::Customer> = claimed
        .iter()
        .zip(&reads)
        .filter_map(|((event, customer, _), read)| {
            Some(batch::Customer {
                shop_id: event.shop_id.clone(),
                customer_id: customer.clone()?,
                email: match read {
                    Read::Event(event) => match &**event {
                        Event::Order(facts) | Event::OrderCancelled(facts) => {
                            claimable_guest_email(facts)
                        }
                        _ => None,
                    },
                    _ => None,
                },
            })
        })
        .collect();
    batch::prefetch_members(conn, &customers)?;
    for (&event, read) in events.iter().zip(reads) {
        let shop = shops.get(conn, &event.shop_id)?;
        let read = if shops.changed(&event.shop_id) {
            // An earlier event of the batch changed the shop (an uninstall, a redaction, new
            // settings): this one is read again as the shop now is.
            read_catching_panics(&shop, event).map_err(|_| BatchError::OneFailed)?
        } else {
            read
        };
        match apply_read_and_mark(conn, &shop, event, read, now()) {
            Ok(_) => {}
            // The whole batch lost a deadlock: run again as it is, not event by event.
            Err(ApplyError::Transient(e)) if is_retryable_conflict(&e) => return Err(e.into()),
            Err(e) => {
                tracing::debug!(error = %e, "an event of the batch failed; applying it event by event");
                return Err(BatchError::OneFailed);
            }
        }
        shops.after(event);
    }
    // Whichever event's rows the database refuses, event by event finds it.
    match together.finish(conn, caught_up) {
        Ok(rollup_rows) => Ok(Applied {
            events: events.len(),
            rollup_rows,
            caught_up,
            catch_up_next,
        }),
        Err(e) if is_retryable_conflict(&e) => Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, "the batch's roll-ups failed; applying it event by event");
            Err(BatchError::OneFailed)
        }
    }
}

/// The shops of a batch's events, each read once until an event changes it.
#[derive(Default)]
struct Shops {
    read: HashMap<String, Shop>,
    changed: HashSet<String>,
}

impl Shops {
    fn get(&mut self, conn: &mut DbConnection, shop_id: &str) -> QueryResult<Shop> {
        if let Some(shop) = self.read.get(shop_id) {
            return Ok(shop.clone());
        }
        let shop = Shop::find(conn, shop_id)?;
        self.read.insert(shop_id.to_owned(), shop.clone());
        Ok(shop)
    }

    /// After `event` was applied: later events must see the shop as it left it (after a
    /// `shop/redact` they are ignored, not given members and personal data again).
    fn after(&mut self, event: &InboxEvent) {
        if changes_the_shop(&event.topic) {
            self.read.remove(&event.shop_id);
            self.changed.insert(event.shop_id.clone());
        }
    }

    /// Whether an event of the batch changed the shop since its events were read.
    fn changed(&self, shop_id: &str) -> bool {
        self.changed.contains(shop_id)
    }
}

/// Claims the oldest pending events no job owns and locks the customers and orders they are
/// about; returns each with its customer and order ids, and whether more were waiting (the
/// claim came back full).
fn claim_pending(c: &mut DbConnection, limit: usize) -> QueryResult<(Vec<Claimed>, bool)> {
    let oldest = inbox_events::table
        .filter(inbox_events::status.eq(InboxStatus::Pending.as_str()))
        .filter(inbox_events::attempts.eq(0))
        .order((inbox_events::received_at.asc(), inbox_events::id.asc()))
        .limit(i64::try_from(limit).unwrap_or(i64::MAX));
    let mut claimed: Vec<Claimed> = match c {
        DbConnection::Postgresql(pg) => oldest
            .select((
                InboxEvent::as_select(),
                inbox_events::customer_id,
                inbox_events::order_id,
            ))
            .for_update()
            .skip_locked()
            .load(pg)?,
        DbConnection::Sqlite(lite) => oldest
            .select((
                InboxEvent::as_select(),
                inbox_events::customer_id,
                inbox_events::order_id,
            ))
            .load(lite)?,
    };
    let more_waiting = claimed.len() >= limit;
    if !claimed.is_empty() {
        lock_shops(
            c,
            claimed
                .iter()
                .map(|(event, ..)| (event.shop_id.as_str(), changes_the_shop(&event.topic))),
        )?;
        let subjects: Vec<ShopSubject> = claimed
            .iter()
            .map(|(event, customer, order)| ShopSubject {
                shop_id: &event.shop_id,
                customer_id: customer.as_deref(),
                order_id: order.as_deref(),
            })
            .collect();
        // Left pending for a later batch (ours, or the other applier's once it commits): the
        // events of customers and orders another applier holds, and with them every other event
        // of this claim about the same customer or order, which would otherwise overtake them.
        // (Deliveries reach us in no guaranteed order anyway; applying copes with any.)
        let mut free = try_lock_subjects(c, &subjects)?.into_iter();
        claimed.retain(|_| free.next().unwrap_or(false));
    }
    Ok((claimed, more_waiting))
}

/// A claimed event with the platform's customer and order ids it is about.
type Claimed = (InboxEvent, Option<String>, Option<String>);
