//! Applying a stored webhook: map the payload to an internal event and run it through the
//! domain and the ledger. Runs inside the transaction that stored the event (the fast path) or
//! later from the `apply_inbox_event` job; either way each event is applied once.
//!
//! Outcomes are recorded on the inbox row: `applied`, `ignored` (nothing to do), `failed` (the
//! payload does not have the expected shape: kept, visible to the owner, replayable after a
//! fix), or left `pending` with a job queued when the failure is worth retrying.

use diesel::prelude::*;
use serde_json::Value;

use crate::db::models::{InboxEvent, Shop};
use crate::db::schema::inbox_events;
use crate::db::types::InboxStatus;
use crate::db::DbConnection;
use crate::domain::event::{Event, MappingError};
use crate::queue::{self, Job, JobError, JobKind, JobSpec};
use crate::services::ledger::LedgerError;
use crate::services::{compliance, earn, members};

mod read;
pub use read::{read, read_catching_panics, Read};

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Retrying cannot help until the code or the shop's settings change.
    #[error("{0}")]
    Permanent(String),
    /// Worth retrying (database busy, lost a race).
    #[error(transparent)]
    Transient(diesel::result::Error),
}

impl From<diesel::result::Error> for ApplyError {
    /// Only errors that can go away by themselves are retried: an event whose application
    /// breaks a constraint would break it on every attempt, and is kept as failed instead.
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_transient(&e) {
            Self::Transient(e)
        } else {
            Self::Permanent(format!("database refused the change: {e}"))
        }
    }
}

impl From<LedgerError> for ApplyError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Database(db) => Self::from(db),
            other => Self::Permanent(other.to_string()),
        }
    }
}

impl From<MappingError> for ApplyError {
    fn from(e: MappingError) -> Self {
        Self::Permanent(e.to_string())
    }
}

/// Maps and applies one event. Returns `Ignored` when there was nothing to do.
pub fn apply(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, ApplyError> {
    let read = read(shop, event)?;
    apply_read(conn, shop, event, read, now)
}

/// Applies what [`read`] made of an event of `shop`.
fn apply_read(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    read: Read,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, ApplyError> {
    let mapped = match read {
        Read::Nothing => return Ok(InboxStatus::Ignored),
        Read::FetchOrder(order_id) => {
            // A thin webhook: the order is read by a job, never inside this transaction.
            crate::services::reconcile::bigcommerce::fetch::enqueue_fetch(
                conn, shop, &order_id, now,
            )?;
            return Ok(InboxStatus::Applied);
        }
        Read::Event(mapped) => *mapped,
    };
    if !matches!(
        mapped,
        Event::Order(_) | Event::OrderCancelled(_) | Event::Refund(_)
    ) {
        // Anything but an order or a refund may read or rewrite the roll-ups or change what the
        // batch read once (a claim, a redaction, new settings): what the batch collected so
        // far is written first, and what it read is read again.
        crate::services::batch::before_other_event(conn, &shop.id)?;
    }
    match mapped {
        Event::Order(facts) => earn::apply_order(conn, shop, &facts, false, now)?,
        Event::OrderCancelled(facts) => earn::apply_order(conn, shop, &facts, true, now)?,
        Event::Refund(refund) => earn::apply_refund(conn, shop, &refund, now)?,
        Event::Customer(facts) => crate::services::customer_events::apply(
            conn,
            shop,
            &facts,
            event.topic == "customers/create",
            now,
        )?,
        Event::AppUninstalled => compliance::uninstall(conn, shop, now)?,
        Event::CustomerRedact { customer, orders } => {
            compliance::redact_customer(conn, shop, &customer, &orders, now)?;
        }
        Event::ShopRedact => compliance::redact_shop(conn, shop, now)?,
        Event::ShopUpdated {
            currency,
            timezone,
            locale,
        } => crate::services::install::apply_settings(
            conn,
            &shop.id,
            &crate::platform::shopify::shop_query::ShopSettings {
                currency,
                timezone,
                locale,
            },
            now,
        )?,
        Event::CustomerDataRequest { customer, .. } => {
            // The owner answers the request; the admin API serves the member and its ledger.
            // Looking up must not create: a stranger's request stores nothing about them.
            let known = members::find_existing(conn, &shop.id, &customer)?.is_some();
            tracing::info!(shop = %shop.domain, known, "customer data request recorded");
        }
    }
    Ok(InboxStatus::Applied)
}

/// [`apply`], with a panic turned into a permanent failure: one event that trips a bug is kept
/// as failed (visible, replayable after a fix) instead of taking the ingest writer or the job
/// runner down with it.
fn apply_catching_panics(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, ApplyError> {
    catching_panics(|| apply(conn, shop, event, now))
}

fn catching_panics<T>(f: impl FnOnce() -> Result<T, ApplyError>) -> Result<T, ApplyError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(ApplyError::Permanent(format!(
            "applying the event panicked: {what}"
        )))
    })
}

/// Applies what [`read`] made of a stored event and marks the event with the outcome, without
/// a savepoint of its own: for a batch whose transaction is rolled back whole when this returns
/// an error (and then applied with [`apply_stored`], event by event). On error nothing is
/// recorded. In an applier batch the mark is written with the batch's others
/// (`services::batch`).
pub fn apply_read_and_mark(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    read: Read,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, ApplyError> {
    let status = catching_panics(|| apply_read(conn, shop, event, read, now))?;
    crate::services::batch::mark_applied(conn, &shop.id, &event.id, status, now)?;
    Ok(status)
}

/// Applies a just-stored event inside the caller's transaction, isolating its failure in a
/// savepoint so the stored event itself is never lost.
pub fn apply_stored(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
) -> Result<InboxStatus, diesel::result::Error> {
    apply_stored_with(conn, shop, event, now, OnConflict::LeaveToJob)
}

/// What [`apply_stored_with`] does when PostgreSQL aborts the event's savepoint to break a
/// deadlock (or a serialization conflict).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnConflict {
    /// Like any transient failure: the event stays pending, counted as an attempt, for the
    /// `apply_inbox_event` job.
    LeaveToJob,
    /// The error is returned, so the caller rolls its whole transaction back and runs it again:
    /// an applier batch, whose events wait for no job (its sweep takes only events never
    /// attempted), and whose other events' locks were the other half of the deadlock.
    FailTheTransaction,
}

/// [`apply_stored`], choosing what a lost deadlock does.
pub fn apply_stored_with(
    conn: &mut DbConnection,
    shop: &Shop,
    event: &InboxEvent,
    now: chrono::NaiveDateTime,
    on_conflict: OnConflict,
) -> Result<InboxStatus, diesel::result::Error> {
    // The panic is caught inside the savepoint, so it is rolled back like any failure.
    let outcome = conn.transaction(|c| apply_catching_panics(c, shop, event, now));
    let (status, error) = match outcome {
        Ok(status) => (status, None),
        Err(ApplyError::Transient(e))
            if on_conflict == OnConflict::FailTheTransaction
                && crate::db::is_retryable_conflict(&e) =>
        {
            return Err(e);
        }
        Err(ApplyError::Permanent(msg)) => {
            tracing::warn!(shop = %shop.domain, topic = %event.topic, error = %msg, "webhook kept as failed");
            (InboxStatus::Failed, Some(msg))
        }
        Err(ApplyError::Transient(e)) => {
            tracing::warn!(shop = %shop.domain, topic = %event.topic, error = %e, "webhook stored; applying it later");
            // Counted as an attempt, so the applier's sweep leaves it to the job.
            InboxEvent::mark(
                conn,
                &shop.id,
                &event.id,
                InboxStatus::Pending,
                Some(&e.to_string()),
                now,
            )?;
            queue::enqueue(
                conn,
                JobSpec {
                    shop_id: shop.id.clone(),
                    kind: JobKind::ApplyInboxEvent,
                    payload: serde_json::json!({ "inbox_event_id": event.id }),
                    dedupe_key: Some(event.id.clone()),
                    run_at: now,
                    max_attempts: 10,
                },
            )?;
            return Ok(InboxStatus::Pending);
        }
    };
    // `shop/redact` deletes nothing of the inbox but its bodies; the row itself stays.
    InboxEvent::mark(conn, &shop.id, &event.id, status, error.as_deref(), now)?;
    Ok(status)
}

fn event_id_of(job: &Job) -> Option<String> {
    serde_json::from_str::<Value>(&job.payload)
        .ok()
        .and_then(|p| p.get("inbox_event_id")?.as_str().map(str::to_owned))
}

/// The `apply_inbox_event` job: applies a pending (or, for a replay, failed) event.
pub fn run_job(conn: &mut DbConnection, job: &Job) -> Result<(), JobError> {
    let id = event_id_of(job)
        .ok_or_else(|| JobError::Permanent("job payload lacks inbox_event_id".into()))?;
    crate::db::write_transaction(conn, |c| {
        let (event, customer, order) = InboxEvent::find_with_subject(c, &job.shop_id, &id)?;
        // A dismissed event stays dismissed (the owner gave up on it, and retention may have
        // erased its body), even when its failed job is retried.
        if matches!(
            event.status,
            InboxStatus::Applied | InboxStatus::Ignored | InboxStatus::Dismissed
        ) {
            return Ok(());
        }
        // As the appliers do: never beside an uninstall or a redaction of the shop, nor beside
        // an applier applying another event of the same customer or order (an order and its
        // refund side by side would each miss the other's uncommitted rows).
        let alone = crate::services::ingest::changes_the_shop(&event.topic);
        crate::services::ingest::lock_shops(c, [(job.shop_id.as_str(), alone)])?;
        crate::services::ingest::lock_subjects(
            c,
            [crate::services::ingest::ShopSubject {
                shop_id: &job.shop_id,
                customer_id: customer.as_deref(),
                order_id: order.as_deref(),
            }],
        )?;
        let shop = Shop::find(c, &job.shop_id)?;
        // In a savepoint, so a failure leaves nothing half-applied behind the `failed` mark.
        match c.transaction(|c| apply_catching_panics(c, &shop, &event, crate::db::now())) {
            Ok(status) => InboxEvent::mark(c, &shop.id, &id, status, None, crate::db::now())
                .map_err(Into::into),
            Err(ApplyError::Permanent(msg)) => {
                InboxEvent::mark(
                    c,
                    &shop.id,
                    &id,
                    InboxStatus::Failed,
                    Some(&msg),
                    crate::db::now(),
                )?;
                Ok(())
            }
            Err(ApplyError::Transient(e)) => Err(JobError::Retry(e.to_string())),
        }
    })
}

/// The `apply_inbox_event` job gave up: its event, if still pending, is marked failed with the
/// last error, so the owner sees it among failed webhooks (and can replay it) instead of an
/// acknowledged event that stays pending and is never applied.
pub fn give_up(conn: &mut DbConnection, job: &Job, error: &str) -> QueryResult<()> {
    let Some(id) = event_id_of(job) else {
        return Ok(());
    };
    let message = format!("gave up after {} attempts: {error}", job.attempts);
    diesel::update(
        inbox_events::table
            .filter(inbox_events::shop_id.eq(&job.shop_id))
            .filter(inbox_events::id.eq(&id))
            .filter(inbox_events::status.eq(InboxStatus::Pending.as_str())),
    )
    .set((
        inbox_events::status.eq(InboxStatus::Failed.as_str()),
        inbox_events::error.eq(Some(message)),
        inbox_events::processed_at.eq(Some(crate::db::now())),
    ))
    .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_applying_becomes_a_permanent_failure() {
        let outcome = catching_panics(|| {
            let lines: Vec<i64> = Vec::new();
            Ok(if lines[3] > 0 {
                InboxStatus::Applied
            } else {
                InboxStatus::Ignored
            })
        });
        match outcome {
            Err(ApplyError::Permanent(msg)) => {
                assert!(
                    msg.contains("panicked") && msg.contains("index out of bounds"),
                    "{msg}"
                );
            }
            other => panic!("expected a permanent failure, got {other:?}"),
        }
        assert!(matches!(
            catching_panics(|| Ok(InboxStatus::Applied)),
            Ok(InboxStatus::Applied)
        ));
    }

    #[test]
    fn only_database_errors_that_can_go_away_are_retried() {
        use diesel::result::{DatabaseErrorKind, Error};
        let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
        let locked = db(DatabaseErrorKind::Unknown, "database is locked");
        assert!(matches!(ApplyError::from(locked), ApplyError::Transient(_)));
        let conflict = db(
            DatabaseErrorKind::SerializationFailure,
            "could not serialize",
        );
        assert!(matches!(
            ApplyError::from(conflict),
            ApplyError::Transient(_)
        ));
        let check = db(DatabaseErrorKind::CheckViolation, "CHECK constraint failed");
        assert!(matches!(ApplyError::from(check), ApplyError::Permanent(_)));
        assert!(matches!(
            ApplyError::from(Error::NotFound),
            ApplyError::Permanent(_)
        ));
    }
}
