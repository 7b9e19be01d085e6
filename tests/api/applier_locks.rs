//! Appliers side by side on PostgreSQL: an event whose claim could not name the customer it
//! turns out to be about waits for the applier holding that customer; another shop's customer
//! with the same id does not; a batch that loses a deadlock is run again, its events never
//! left to a job.

use std::sync::mpsc;
use std::time::Duration;

use diesel::prelude::*;

use boomerang::db::models::Member;
use boomerang::db::schema::{inbox_events, jobs};
use boomerang::db::{now, write_transaction};
use boomerang::domain::event::CustomerRef;
use boomerang::services::members::{resolve, GuestClaim};

use crate::helpers::{order_json, TestApp};

const SHOP: &str = "locks.myshopify.com";

/// A guest checkout with the verified e-mail of an account goes to the account. Its delivery
/// names no customer, so its claim locked none: on PostgreSQL it takes the account's lock when
/// its e-mail leads there, and waits while another applier applies one of the account's own
/// events (both deciding on what they read before the other committed gave the account two
/// surveys on one day). SQLite has one writer: it goes to the account at once.
#[tokio::test]
async fn a_guest_order_led_to_an_account_waits_for_the_applier_holding_the_account() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // The account's own order with its e-mail proves the e-mail is theirs.
    let proof = order_json(
        1,
        Some((7005, "erin@example.com")),
        "paid",
        &[(10, 1, "20.00")],
    );
    app.deliver(SHOP, "orders/paid", "d1", &proof).await;
    crate::ingest::drained(&app).await;

    let guest = CustomerRef {
        id: None,
        email: Some("erin@example.com".into()),
    };
    // Another applier, applying an event of customer 7005 (PostgreSQL).
    let holder = Holder::of(&app, &shop_id, Some("7005"), None);
    let (done_tx, done_rx) = mpsc::channel::<Member>();
    let db = app.db.clone();
    let shop = shop_id.clone();
    let resolver = std::thread::spawn(move || {
        let mut conn = db.write_connection().unwrap();
        let resolved = write_transaction(&mut conn, |c| {
            resolve(
                c,
                &shop,
                Some(&guest),
                None,
                GuestClaim::Allowed,
                None,
                now(),
            )
        })
        .unwrap()
        .expect("the guest order is someone's");
        done_tx.send(resolved.member).unwrap();
    });
    if let Some(holder) = holder {
        // Still waiting while the other applier holds the account (a resolve that did not wait
        // answers in milliseconds; a slow machine can only make this pass, never fail).
        assert!(
            done_rx.recv_timeout(Duration::from_millis(300)).is_err(),
            "the guest order was resolved beside the applier holding its account"
        );
        holder.release();
    }
    let member = done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    resolver.join().unwrap();
    assert_eq!(member.platform_customer_id.as_deref(), Some("7005"));
    assert!(member.email_verified);
}

/// The appliers' locks are per shop: customer 7005 of one shop, held by an applier, holds up
/// nothing of another shop's customer 7005 (WooCommerce numbers customers and orders per store,
/// so such ids meet all the time on one database).
#[tokio::test]
async fn an_applier_holding_a_customer_of_one_shop_does_not_hold_up_the_same_id_in_another() {
    const OTHER: &str = "other-locks.myshopify.com";
    let app = TestApp::spawn().await;
    let held_shop = app.add_shop(SHOP, "USD").await;
    let other_shop = app.add_shop(OTHER, "USD").await;
    // An applier applying an event of customer 7005 and order 1 of the first shop (PostgreSQL).
    let holder = Holder::of(&app, &held_shop, Some("7005"), Some("1"));
    // The same customer and order ids, in the other shop.
    let order = order_json(
        1,
        Some((7005, "erin@example.com")),
        "paid",
        &[(10, 1, "20.00")],
    );
    let applied = tokio::time::timeout(Duration::from_secs(10), async {
        app.deliver(OTHER, "orders/paid", "other-d1", &order).await;
        crate::ingest::drained(&app).await;
    })
    .await;
    if let Some(holder) = holder {
        holder.release();
    }
    assert!(
        applied.is_ok(),
        "the other shop's order waited for the applier holding the first shop's customer"
    );
    let member = app
        .with_db(move |c| Member::find_by_customer_id(c, &other_shop, "7005"))
        .await
        .unwrap()
        .expect("the other shop's customer is a member");
    assert!(member.pending_points + member.points_balance > 0);
}

/// A deadlock PostgreSQL breaks by aborting an applier's batch is nobody's failure: the batch is
/// rolled back and run again as it was, and its event is applied with no error, at its first
/// attempt and with no `apply_inbox_event` job (the appliers' sweep takes only events never
/// attempted, so with jobs off, as on an instance with `RUN_JOBS=false`, such an event would
/// wait forever). Seen with two instances under load: the batch, having lost once, was applied
/// again event by event, lost again, and the deadlock was recorded on its events.
///
/// The other side of the deadlock is this test's transaction: it holds the customer's roll-up
/// lock, and each time the applier waits for it (holding the event's inbox row since its
/// claim), it asks for that row. The applier, waiting first, is the one PostgreSQL aborts; the
/// test lets go of the row (a savepoint rolled back) and makes the applier lose the same way
/// once more before it lets go of everything. The old way lost the second time event by event,
/// where the claim's row lock outlives the event's savepoint: the event was left pending for a
/// job. SQLite has one writer and no such locks: there the event is simply applied.
#[tokio::test]
async fn a_batch_that_loses_a_deadlock_is_applied_again_not_left_to_a_job() {
    let app = TestApp::spawn_with(crate::batch_apply::ONE_APPLIER).await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let first = order_json(
        1,
        Some((7005, "erin@example.com")),
        "paid",
        &[(10, 1, "20.00")],
    );
    app.deliver(SHOP, "orders/paid", "d1", &first).await;
    crate::ingest::drained(&app).await;
    let member = {
        let shop = shop_id.clone();
        app.with_db(move |c| Member::find_by_customer_id(c, &shop, "7005"))
            .await
            .unwrap()
            .expect("the first order made the member")
    };
    let other_side = app
        .test_db
        .is_postgres()
        .then(|| OtherSide::start(&app, &shop_id, &member.id, "d2", 2));
    let second = order_json(
        2,
        Some((7005, "erin@example.com")),
        "paid",
        &[(20, 1, "30.00")],
    );
    crate::ingest::store_pending(&app, &shop_id, vec![("orders/paid", "d2", second)]).await;
    if let Some(other_side) = other_side {
        other_side.finish();
    }
    // Panics with the stuck events' (attempts, error) if the deadlock was left to a job.
    crate::ingest::drained(&app).await;
    let shop = shop_id.clone();
    let (rows, apply_jobs) = app
        .with_db(move |c| {
            let rows: Vec<(String, i32, Option<String>)> = inbox_events::table
                .filter(inbox_events::shop_id.eq(&shop))
                .filter(inbox_events::delivery_id.eq("d2"))
                .select((
                    inbox_events::status,
                    inbox_events::attempts,
                    inbox_events::error,
                ))
                .load(c)
                .unwrap();
            let apply_jobs: i64 = jobs::table
                .filter(jobs::shop_id.eq(&shop))
                .filter(jobs::kind.eq("apply_inbox_event"))
                .count()
                .get_result(c)
                .unwrap();
            (rows, apply_jobs)
        })
        .await;
    // One attempt: the one that applied it (a lost deadlock counts none).
    assert_eq!(rows, vec![("applied".to_owned(), 1, None)]);
    assert_eq!(apply_jobs, 0);
    let customer = app.customer(SHOP, "7005").await;
    assert_eq!(customer["pending_points"], 50);
}

/// A transaction of the test's own that holds a member's roll-up lock and, each time an
/// applier waits for that lock, asks for the inbox row of the delivery the applier claimed: a
/// deadlock, `rounds` times.
struct OtherSide {
    thread: std::thread::JoinHandle<()>,
}

impl OtherSide {
    /// Holds the roll-up lock once this returns.
    fn start(
        app: &TestApp,
        shop_id: &str,
        member_id: &str,
        delivery_id: &str,
        rounds: usize,
    ) -> Self {
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let db = app.db.clone();
        let (shop_id, member_id, delivery_id) = (
            shop_id.to_owned(),
            member_id.to_owned(),
            delivery_id.to_owned(),
        );
        let thread = std::thread::spawn(move || {
            let mut conn = db.write_connection().unwrap();
            let mut watcher = db.write_connection().unwrap();
            write_transaction(&mut conn, |c| -> QueryResult<()> {
                // The key `retention::metrics_customers` locks a customer's roll-ups by.
                boomerang::db::lock_keys(c, vec![format!("metrics:{shop_id}:{member_id}")])?;
                held_tx.send(()).unwrap();
                for _ in 0..rounds {
                    wait_for_a_waiting_advisory_lock(&mut watcher);
                    // The applier holds the row while it waits: asking for it closes the
                    // circle.
                    let held = c.transaction(|c| {
                        diesel::sql_query(
                            "SELECT id FROM inbox_events WHERE shop_id = $1 AND delivery_id = $2 \
                             FOR UPDATE NOWAIT",
                        )
                        .bind::<diesel::sql_types::Text, _>(&shop_id)
                        .bind::<diesel::sql_types::Text, _>(&delivery_id)
                        .execute(c)
                    });
                    assert!(
                        held.is_err(),
                        "the waiting applier did not hold the row: {held:?}"
                    );
                    // Waits for the applier's row lock until PostgreSQL aborts the applier (it
                    // waited first; this transaction goes on), then lets go of the row again.
                    let asked = c.transaction(|c| {
                        diesel::update(
                            inbox_events::table
                                .filter(inbox_events::shop_id.eq(&shop_id))
                                .filter(inbox_events::delivery_id.eq(&delivery_id)),
                        )
                        .set(inbox_events::attempts.eq(inbox_events::attempts))
                        .execute(c)?;
                        Err::<(), _>(diesel::result::Error::RollbackTransaction)
                    });
                    assert!(matches!(
                        asked,
                        Err(diesel::result::Error::RollbackTransaction)
                    ));
                }
                Ok(())
            })
            .unwrap();
        });
        held_rx.recv().unwrap();
        Self { thread }
    }

    /// Lets go of the lock once its rounds are done.
    fn finish(self) {
        self.thread.join().unwrap();
    }
}

/// Waits (at most 20 s) until some transaction of the test's database waits for an advisory
/// lock (the cluster's other databases are other tests').
fn wait_for_a_waiting_advisory_lock(conn: &mut boomerang::db::DbConnection) {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let waiting: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
             WHERE d.datname = current_database() AND l.locktype = 'advisory' AND NOT l.granted",
        )
        .get_result(conn)
        .unwrap();
        if waiting.n > 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no applier waited for the roll-up lock"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Another applier's transaction holding the appliers' lock of a customer and order of a shop
/// (PostgreSQL only: SQLite has one writer and no such locks) until released.
struct Holder {
    release: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Holder {
    /// Holds the lock once this returns; `None` on SQLite.
    fn of(
        app: &TestApp,
        shop_id: &str,
        customer: Option<&str>,
        order: Option<&str>,
    ) -> Option<Self> {
        if !app.test_db.is_postgres() {
            return None;
        }
        let (held_tx, held_rx) = mpsc::channel::<()>();
        let (release, release_rx) = mpsc::channel::<()>();
        let db = app.db.clone();
        let (shop_id, customer, order) = (
            shop_id.to_owned(),
            customer.map(str::to_owned),
            order.map(str::to_owned),
        );
        let thread = std::thread::spawn(move || {
            let mut conn = db.write_connection().unwrap();
            write_transaction(&mut conn, |c| -> QueryResult<()> {
                boomerang::services::ingest::lock_subjects(
                    c,
                    [boomerang::services::ingest::ShopSubject {
                        shop_id: &shop_id,
                        customer_id: customer.as_deref(),
                        order_id: order.as_deref(),
                    }],
                )?;
                held_tx.send(()).unwrap();
                release_rx.recv().unwrap();
                Ok(())
            })
            .unwrap();
        });
        held_rx.recv().unwrap();
        Some(Self { release, thread })
    }

    /// Commits the holder's transaction, letting go of the lock.
    fn release(self) {
        self.release.send(()).unwrap();
        self.thread.join().unwrap();
    }
}
