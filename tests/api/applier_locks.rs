//! Appliers side by side on PostgreSQL: an event whose claim could not name the customer it
//! turns out to be about waits for the applier holding that customer; another shop's customer
//! with the same id does not.

use std::sync::mpsc;
use std::time::Duration;

use boomerang::db::models::Member;
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
            write_transaction(&mut conn, |c| -> diesel::QueryResult<()> {
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
