//! Webhook ingestion under load: group commit, then apply.
//!
//! Every verified delivery goes to one writer thread, which takes whatever has queued up
//! meanwhile (up to [`MAX_BATCH`]) and stores it in **one** write transaction: one commit, one
//! fsync for many deliveries. Only after that commit does each sender get its answer, so an
//! acknowledged webhook is always durable.
//!
//! A delivery that arrives alone (the normal, unloaded case) is also applied in that
//! transaction, so its points show at once. More at a time means a burst: its events are stored
//! `pending` and the applier threads (`ingest/applier.rs`) apply them right after, in batches of
//! their own, keeping acknowledgements fast. The appliers also sweep pending events on start and
//! every second, so events stored before a crash are applied after the restart. Applying is
//! idempotent, so nothing is counted twice whoever gets there first.
//!
//! On SQLite one applier is enough (there is one writer at a time anyway). On PostgreSQL
//! several apply side by side (`INBOX_APPLIERS`), like appliers of other instances: each claims
//! different events (`SKIP LOCKED`) and first locks the customers they are about. On SQLite a
//! checkpointer thread also copies the committed log into the database file beside them
//! ([`crate::db::wal`]), so no commit of theirs does. There the writer stores what it leaves
//! for the applier in a file of its own ([`crate::db::arrivals`]), through a connection of its
//! own, under that file's write lock alone, while the applier applies under the main file's
//! (through the shared connection, [`Db::write_connection`]): each moment one of them held
//! SQLite's single lock used to be a moment the other waited. The applier moves the arrivals
//! into the inbox before each batch.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::db::arrivals::arrivals_transaction;
use crate::db::models::Shop;
use crate::db::{write_transaction, Backend, Db, DbConnection, DbError};
use crate::services::compliance::Subject;
use crate::services::inbox::{self, Delivery, Received};

mod applier;
mod pending;
mod subject_locks;
mod supervise;
mod wake;
use applier::{applier, checkpointer};
pub use pending::apply_pending;
pub use subject_locks::{lock_shops, lock_subjects, ShopSubject};
use supervise::{supervise, Alive};
use wake::{CloseOnDrop, Wake};

/// The most deliveries stored in one transaction.
pub const MAX_BATCH: usize = 256;
/// Batches up to this size are applied at once, in the storing transaction: a delivery that
/// arrives alone, so its points show as soon as it is acknowledged. Any larger group is left to
/// the appliers. Applying in the writer is one event after another, each with its own
/// statements, while every acknowledgement queued behind it waits; with 32 here a shop sending
/// up to 32 deliveries at a time never built the backlog that hands them to the appliers'
/// batches, and was acknowledged at ~200/s on PostgreSQL (p99 up to 200 ms) and ~1,000–1,500/s
/// on SQLite, against ~1,300–4,700/s and ~1,300–6,600/s with 1 (docs/PERFORMANCE.md, twentieth
/// session).
pub const INLINE_APPLY_MAX: usize = 1;

type Reply = oneshot::Sender<Result<Received, DbError>>;

struct Submission {
    delivery: Delivery,
    /// Who the delivery is about, read from the body by the submitting task so the single
    /// writer thread does not parse bodies.
    subject: Subject,
    reply: Reply,
}

/// The handle handlers submit deliveries to. Cloning is cheap; the threads stop when the last
/// handle is dropped.
#[derive(Debug, Clone)]
pub struct Ingest {
    tx: mpsc::Sender<Submission>,
    counters: Arc<Counters>,
}

/// What the writer and the applier tell each other.
#[derive(Debug, Default)]
struct Counters {
    /// Deliveries submitted and not yet taken by the writer.
    queued: AtomicUsize,
    /// Events deferred to the appliers and not yet applied. While there are any, the writer
    /// defers too: applying inline would wait for the appliers' locks on the same customers
    /// (and hold acknowledgements up meanwhile), and the appliers are faster at it in batches.
    backlog: AtomicUsize,
    /// Whether the writer thread is running; without it no webhook can be acknowledged.
    writer_alive: AtomicBool,
    /// Whether the applier threads are running.
    applier_alive: AtomicBool,
}

impl Ingest {
    /// Starts the writer and `appliers` applier threads (at least one) on `db`.
    /// `topic_is_used` filters topics the app ignores before anything is stored.
    pub fn start(
        db: Db,
        appliers: usize,
        topic_is_used: fn(&str) -> bool,
    ) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Submission>(MAX_BATCH * 8);
        let wake = Arc::new(Wake::default());
        let counters = Arc::new(Counters::default());
        // Marked alive before the threads start, so a probe right after start sees them up.
        counters.applier_alive.store(true, Ordering::Release);
        counters.writer_alive.store(true, Ordering::Release);
        for n in 0..appliers.max(1) {
            let (applier_db, applier_counters, wake) = (db.clone(), counters.clone(), wake.clone());
            std::thread::Builder::new()
                .name(format!("inbox-applier-{n}"))
                .spawn(move || {
                    let _alive = Alive::mark(&applier_counters.applier_alive);
                    supervise("inbox-applier", || {
                        applier(&applier_db, &wake, &applier_counters);
                    });
                })?;
        }
        if db.backend() == Backend::Sqlite {
            let (checkpoint_db, wake) = (db.clone(), wake.clone());
            std::thread::Builder::new()
                .name("wal-checkpoint".into())
                .spawn(move || checkpointer(&checkpoint_db, &wake))?;
        }
        let writer_counters = counters.clone();
        let mut rx = rx;
        std::thread::Builder::new()
            .name("inbox-writer".into())
            .spawn(move || {
                let _alive = Alive::mark(&writer_counters.writer_alive);
                // When the writer is gone (the app is stopping), so are the appliers.
                let _close = CloseOnDrop(&wake);
                // A panic loses only the batch in hand: its senders get an error (a 5xx, so
                // the platform delivers again), and the restarted writer takes the next one.
                supervise("inbox-writer", || {
                    writer(&db, &mut rx, &wake, &writer_counters, topic_is_used);
                });
            })?;
        Ok(Self { tx, counters })
    }

    /// Whether the writer and the applier threads are running (the readiness probe): with the
    /// writer gone, every webhook would be answered 5xx.
    pub fn is_running(&self) -> bool {
        self.counters.writer_alive.load(Ordering::Acquire)
            && self.counters.applier_alive.load(Ordering::Acquire)
    }

    /// Stores the delivery durably (and applies it when the app is not under load); returns
    /// once it is committed.
    pub async fn submit(&self, delivery: Delivery) -> Result<Received, DbError> {
        let (reply, answer) = oneshot::channel();
        let subject = Subject::of(&delivery.payload);
        // Wait for room first (the wait ends early if the platform hangs up), and count the
        // delivery as queued only once nothing can cancel the send: a count left behind by a
        // cancelled send would never be taken off, and the applier would yield for good.
        let slot = self.tx.reserve().await.map_err(|_| DbError::TaskAborted)?;
        self.counters.queued.fetch_add(1, Ordering::AcqRel);
        slot.send(Submission {
            delivery,
            subject,
            reply,
        });
        answer.await.map_err(|_| DbError::TaskAborted)?
    }
}

fn writer(
    db: &Db,
    rx: &mut mpsc::Receiver<Submission>,
    wake: &Wake,
    counters: &Counters,
    topic_is_used: fn(&str) -> bool,
) {
    let backlog = &counters.backlog;
    // SQLite: the writer's own connection, for the arrivals file (opened on first use).
    let mut own: Option<DbConnection> = None;
    while let Some(first) = rx.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let _ = counters
            .queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                Some(n.saturating_sub(batch.len()))
            });
        let apply_now = batch.len() <= INLINE_APPLY_MAX && backlog.load(Ordering::Acquire) == 0;
        let stored = if apply_now || db.backend() == Backend::Postgres {
            db.write_connection().and_then(|mut conn| {
                write_transaction(&mut conn, |c| {
                    store_batch(c, &batch, apply_now, topic_is_used)
                })
                .map_err(DbError::from)
            })
        } else {
            store_arriving(db, &mut own, &batch, topic_is_used)
        };
        match stored {
            Ok((received, deferred)) => {
                backlog.fetch_add(deferred, Ordering::AcqRel);
                for (submission, outcome) in batch.into_iter().zip(received) {
                    let _ = submission.reply.send(Ok(outcome));
                }
                if deferred > 0 {
                    wake.signal();
                }
            }
            Err(e) => {
                // Nothing of the batch was committed: every sender gets an error (a 5xx, so
                // the platform delivers again), none an acknowledgement.
                tracing::error!(error = %e, deliveries = batch.len(), "could not store a batch of webhooks");
                for submission in batch {
                    let _ = submission.reply.send(Err(DbError::TaskAborted));
                }
            }
        }
    }
}

/// SQLite: stores a batch left for the appliers in the arrivals file, through the writer's own
/// connection, holding that file's write lock alone (`db::arrivals`): the appliers apply under
/// the main file's lock meanwhile. A connection that failed is opened again for the next batch.
fn store_arriving(
    db: &Db,
    own: &mut Option<DbConnection>,
    batch: &[Submission],
    topic_is_used: fn(&str) -> bool,
) -> Result<(Vec<Received>, usize), DbError> {
    let conn = match own {
        Some(conn) => conn,
        None => own.insert(db.own_connection()?),
    };
    let stored = arrivals_transaction(conn, |c| store_batch(c, batch, false, topic_is_used))
        .map_err(DbError::from);
    if stored.is_err() {
        *own = None;
    }
    stored
}

/// Topics whose application changes the shop row itself.
const CHANGES_THE_SHOP: &[&str] = &["app/uninstalled", "shop/redact", "shop/update"];

/// Whether applying an event of `topic` changes the shop row itself.
pub fn changes_the_shop(topic: &str) -> bool {
    CHANGES_THE_SHOP.contains(&topic)
}

/// Stores each delivery of the batch (once), applying it too when `apply_now`; returns the
/// answers and how many of the stored deliveries were left pending for the appliers.
fn store_batch(
    conn: &mut DbConnection,
    batch: &[Submission],
    apply_now: bool,
    topic_is_used: fn(&str) -> bool,
) -> Result<(Vec<Received>, usize), diesel::result::Error> {
    if !apply_now {
        // Nothing applied: the batch's rows go in one insert (the acknowledgements' main cost
        // on PostgreSQL was a round trip and an execution per delivery).
        let shops = shops_of(conn, batch)?;
        let items: Vec<inbox::ToStore<'_>> = batch
            .iter()
            .map(|s| inbox::ToStore {
                shop: shops.get(&shop_key(&s.delivery)).and_then(Option::as_ref),
                delivery: &s.delivery,
                subject: &s.subject,
            })
            .collect();
        let received = inbox::store_pending(conn, &items, topic_is_used)?;
        let pending = received.iter().filter(|r| r.inbox_id.is_some()).count();
        return Ok((received, pending));
    }
    // The shops' locks come first, so their ids are read here and the shops themselves after
    // the locks (as a concurrent uninstall or redaction left them).
    let before_locks = shops_of(conn, batch)?;
    lock_shops(
        conn,
        batch.iter().filter_map(|s| {
            let shop = before_locks.get(&shop_key(&s.delivery))?.as_ref()?;
            Some((shop.id.as_str(), changes_the_shop(&s.delivery.topic)))
        }),
    )?;
    lock_subjects(
        conn,
        batch.iter().filter_map(|s| {
            let shop = before_locks.get(&shop_key(&s.delivery))?.as_ref()?;
            Some(ShopSubject::of(&shop.id, &s.subject))
        }),
    )?;
    let mut shops: HashMap<ShopKey, Option<Shop>> = HashMap::new();
    let mut out = Vec::with_capacity(batch.len());
    let mut left_pending = 0;
    for Submission {
        delivery, subject, ..
    } in batch
    {
        let key = shop_key(delivery);
        let shop = match shops.get(&key) {
            Some(shop) => shop.clone(),
            None => {
                let shop = Shop::find_by_domain(conn, delivery.platform, &delivery.shop_domain)?;
                shops.insert(key.clone(), shop.clone());
                shop
            }
        };
        // Applied now only under the locks taken above: a delivery whose shop is not the one
        // they were taken for (installed since) is stored for an applier.
        let locked_for = before_locks.get(&key).and_then(Option::as_ref);
        let locked = matches!((locked_for, &shop), (Some(a), Some(b)) if a.id == b.id);
        let received = inbox::store(
            conn,
            shop.as_ref(),
            delivery,
            subject,
            topic_is_used,
            locked,
        )?;
        if !locked && received.inbox_id.is_some() {
            left_pending += 1;
        }
        out.push(received);
        if changes_the_shop(&delivery.topic) {
            // Later deliveries of the batch must see the shop as this one left it.
            shops.remove(&key);
        }
    }
    Ok((out, left_pending))
}

/// A delivery's shop: (platform, domain).
type ShopKey = (String, String);

fn shop_key(delivery: &Delivery) -> ShopKey {
    (delivery.platform.to_string(), delivery.shop_domain.clone())
}

/// The shops the batch's deliveries name, each read once (`None`: not installed).
fn shops_of(
    conn: &mut DbConnection,
    batch: &[Submission],
) -> diesel::QueryResult<HashMap<ShopKey, Option<Shop>>> {
    let mut shops = HashMap::new();
    for Submission { delivery, .. } in batch {
        if let std::collections::hash_map::Entry::Vacant(slot) = shops.entry(shop_key(delivery)) {
            slot.insert(Shop::find_by_domain(
                conn,
                delivery.platform,
                &delivery.shop_domain,
            )?);
        }
    }
    Ok(shops)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::db::types::Platform;

    fn delivery() -> Delivery {
        Delivery {
            platform: Platform::Shopify,
            shop_domain: "queue.myshopify.com".into(),
            topic: "orders/paid".into(),
            delivery_id: "d".into(),
            event_id: None,
            api_version: None,
            triggered_at: None,
            payload: "{}".into(),
        }
    }

    #[tokio::test]
    async fn a_delivery_whose_sender_hangs_up_while_waiting_for_room_is_not_counted_as_queued() {
        // No writer: a channel with room for one delivery, which the first one takes.
        let (tx, mut rx) = mpsc::channel::<Submission>(1);
        let ingest = Ingest {
            tx,
            counters: Arc::new(Counters::default()),
        };
        let wait = Duration::from_millis(50);
        assert!(tokio::time::timeout(wait, ingest.submit(delivery()))
            .await
            .is_err());
        // The platform hangs up on the second while it waits for room in the queue.
        assert!(tokio::time::timeout(wait, ingest.submit(delivery()))
            .await
            .is_err());
        assert_eq!(ingest.counters.queued.load(Ordering::Acquire), 1);
        assert!(rx.try_recv().is_ok(), "the first delivery was queued");
        assert!(rx.try_recv().is_err(), "the second never was");
    }

    #[test]
    fn a_thread_that_ended_is_reported_as_not_running() {
        let counters = Arc::new(Counters::default());
        counters.applier_alive.store(true, Ordering::Release);
        let writer_counters = counters.clone();
        let (started, start) = std::sync::mpsc::channel::<()>();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let writer = std::thread::spawn(move || {
            let _alive = Alive::mark(&writer_counters.writer_alive);
            let _ = started.send(());
            let _ = stopped.recv();
        });
        start.recv().unwrap();
        let (tx, _rx) = mpsc::channel::<Submission>(1);
        let ingest = Ingest {
            tx,
            counters: counters.clone(),
        };
        assert!(ingest.is_running());
        drop(stop);
        writer.join().unwrap();
        assert!(!ingest.is_running(), "the writer is gone");
    }
}
