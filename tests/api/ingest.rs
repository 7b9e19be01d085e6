//! Group commit and the applier: a burst of concurrent deliveries is stored in shared
//! transactions, acknowledged only once committed, and applied exactly once afterwards; events
//! stored but not applied (a crash between the two) are applied after a restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::stream::{self, StreamExt};

use boomerang::db::schema::inbox_events;
use boomerang::services::ingest::INLINE_APPLY_MAX;

use crate::helpers::{order_json, TestApp};

const SHOP: &str = "burst.myshopify.com";

/// Events acknowledged and not applied yet: pending in the inbox, or on SQLite still waiting in
/// the arrivals file to be moved there (`db::arrivals`).
async fn pending_events(app: &TestApp) -> i64 {
    app.with_db(|c| {
        let pending: i64 = inbox_events::table
            .filter(inbox_events::status.eq("pending"))
            .count()
            .get_result(c)
            .unwrap();
        pending + boomerang::db::arrivals::waiting(c).unwrap()
    })
    .await
}

/// Retention roll-ups kept back by applier batches and not written yet (`retention::backlog`).
pub(crate) async fn rollups_kept_back(app: &TestApp) -> i64 {
    use boomerang::db::schema::rollup_backlog;
    app.with_db(|c| {
        rollup_backlog::table
            .filter(rollup_backlog::error.is_null())
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// Waits until the applier has applied everything, the retention roll-ups included (bounded).
pub(crate) async fn drained(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while pending_events(app).await > 0 || rollups_kept_back(app).await > 0 {
        if Instant::now() > deadline {
            let stuck: Vec<(i32, Option<String>)> = app
                .with_db(|c| {
                    inbox_events::table
                        .filter(inbox_events::status.eq("pending"))
                        .select((inbox_events::attempts, inbox_events::error))
                        .limit(5)
                        .load(c)
                        .unwrap()
                })
                .await;
            panic!("the applier did not drain the inbox: {stuck:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts every `(webhook id, body)` as `orders/paid`, `in_flight` at a time; each must be
/// acknowledged. Returns the receipts (`accepted`, `duplicate`…), in completion order.
async fn deliver_all(
    app: &TestApp,
    deliveries: Vec<(String, String)>,
    in_flight: usize,
) -> Vec<String> {
    stream::iter(deliveries)
        .map(|(id, body)| async move {
            let resp = app
                .post_shopify_webhook("orders/paid", SHOP, &id, &body)
                .await;
            assert_eq!(resp.status(), 200, "delivery {id}");
            resp.json::<serde_json::Value>().await.unwrap()["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .buffer_unordered(in_flight)
        .collect()
        .await
}

#[tokio::test]
async fn a_burst_is_acknowledged_durably_and_applied_exactly_once() {
    let app = TestApp::spawn_with(&[("DATABASE_POOL_SIZE", "8")]).await;
    app.add_shop(SHOP, "USD").await;
    // 300 orders of 10 customers, each delivered twice, 150 in flight: far more than one
    // batch applies inline, so most are deferred to the applier.
    const { assert!(INLINE_APPLY_MAX < 150) };
    let mut deliveries = Vec::new();
    for i in 0..300u64 {
        let customer = 9000 + i % 10;
        let email = format!("c{customer}@example.com");
        let body = order_json(
            70_000 + i,
            Some((customer, email.as_str())),
            "paid",
            &[(1, 1, "10.00")],
        )
        .to_string();
        deliveries.push((format!("burst-{i}"), body.clone()));
        deliveries.push((format!("burst-{i}"), body));
    }
    let statuses = deliver_all(&app, deliveries, 150).await;
    assert_eq!(statuses.iter().filter(|s| *s == "accepted").count(), 300);
    assert_eq!(statuses.iter().filter(|s| *s == "duplicate").count(), 300);
    let stored: i64 = app
        .with_db(|c| {
            let in_inbox: i64 = inbox_events::table.count().get_result(c).unwrap();
            in_inbox + boomerang::db::arrivals::waiting(c).unwrap()
        })
        .await;
    assert_eq!(stored, 300, "every acknowledged delivery is stored, once");

    drained(&app).await;
    for customer in 9000..9010u64 {
        let c = app.customer(SHOP, &customer.to_string()).await;
        assert_eq!(c["pending_points"], 300, "customer {customer}: {c}");
    }
    let applied: i64 = app
        .with_db(|c| {
            inbox_events::table
                .filter(inbox_events::status.eq("applied"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(applied, 300);
}

#[tokio::test]
async fn every_delivery_sent_one_to_five_times_shuffled_and_concurrently_counts_once() {
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    let seed: u64 = rand::random();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    // 200 orders of 20 customers with different amounts; each delivery 1–5 times (the same
    // webhook id, as Shopify retries), all shuffled, 64 in flight.
    let mut expected: HashMap<u64, i64> = HashMap::new();
    let mut deliveries = Vec::new();
    for i in 0..200u64 {
        let customer = 9200 + rng.gen_range(0..20u64);
        let units: i64 = rng.gen_range(1..200);
        *expected.entry(customer).or_default() += units;
        let email = format!("c{customer}@example.com");
        let body = order_json(
            90_000 + i,
            Some((customer, email.as_str())),
            "paid",
            &[(1, 1, &format!("{units}.00"))],
        )
        .to_string();
        for _ in 0..rng.gen_range(1..=5) {
            deliveries.push((format!("copies-{i}"), body.clone()));
        }
    }
    deliveries.shuffle(&mut rng);
    let sent = deliveries.len();
    let statuses = deliver_all(&app, deliveries, 64).await;
    let accepted = statuses.iter().filter(|s| *s == "accepted").count();
    assert_eq!(accepted, 200, "seed {seed}: one acceptance per order");
    assert_eq!(
        sent - accepted,
        statuses.iter().filter(|s| *s == "duplicate").count()
    );
    drained(&app).await;
    for (customer, points) in &expected {
        let c = app.customer(SHOP, &customer.to_string()).await;
        assert_eq!(
            c["pending_points"].as_i64(),
            Some(*points),
            "seed {seed}, customer {customer}: {c}"
        );
    }
}

#[tokio::test]
async fn events_stored_but_not_applied_before_a_crash_are_applied_after_restart() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // What a crash between the group commit and the applier leaves behind: stored, pending,
    // never attempted.
    app.with_db(move |c| {
        let body = order_json(
            80_001,
            Some((9100, "late@example.com")),
            "paid",
            &[(1, 1, "42.00")],
        );
        boomerang::db::models::NewInboxEvent {
            id: boomerang::db::new_id(),
            shop_id,
            platform: boomerang::db::types::Platform::Shopify,
            topic: "orders/paid".into(),
            delivery_id: "stored-before-crash".into(),
            event_id: None,
            api_version: None,
            triggered_at: None,
            payload: body.to_string(),
            status: boomerang::db::types::InboxStatus::Pending,
            error: None,
            attempts: 0,
            received_at: boomerang::db::now(),
            processed_at: None,
        }
        .insert_once(c)
        .unwrap();
    })
    .await;
    // The running app's applier sweeps it up without being told.
    drained(&app).await;
    assert_eq!(app.customer(SHOP, "9100").await["pending_points"], 42);
    // And a redelivery of it is a duplicate that changes nothing.
    let status = app
        .deliver(
            SHOP,
            "orders/paid",
            "stored-before-crash",
            &order_json(
                80_001,
                Some((9100, "late@example.com")),
                "paid",
                &[(1, 1, "42.00")],
            ),
        )
        .await;
    assert_eq!(status, "duplicate");
    assert_eq!(app.customer(SHOP, "9100").await["pending_points"], 42);
}

/// Stores `(topic, delivery id, body)` as pending, never-attempted events received one
/// millisecond apart, in one transaction, with the customer and order each is about as the
/// webhook endpoint records them: what a burst leaves for the applier.
pub(crate) async fn store_pending(
    app: &TestApp,
    shop_id: &str,
    events: Vec<(&str, &str, serde_json::Value)>,
) {
    let shop_id = shop_id.to_owned();
    let events: Vec<(String, String, String)> = events
        .into_iter()
        .map(|(t, d, b)| (t.to_owned(), d.to_owned(), b.to_string()))
        .collect();
    app.with_db(move |c| store_pending_in(c, &shop_id, events))
        .await;
}

/// [`store_pending`] on a connection of the test's own.
pub(crate) fn store_pending_in(
    c: &mut boomerang::db::DbConnection,
    shop_id: &str,
    events: Vec<(String, String, String)>,
) {
    boomerang::db::write_transaction(c, |c| {
        let t0 = boomerang::db::now();
        for (i, (topic, delivery_id, payload)) in events.into_iter().enumerate() {
            let about = boomerang::services::compliance::Subject::of(&payload);
            boomerang::db::models::NewInboxEvent {
                id: boomerang::db::new_id(),
                shop_id: shop_id.to_owned(),
                platform: boomerang::db::types::Platform::Shopify,
                topic,
                delivery_id,
                event_id: None,
                api_version: None,
                triggered_at: None,
                payload,
                status: boomerang::db::types::InboxStatus::Pending,
                error: None,
                attempts: 0,
                received_at: t0 + chrono::Duration::milliseconds(i as i64),
                processed_at: None,
            }
            .insert_once_about(
                c,
                about.customer_id.as_deref(),
                about.order_id.as_deref(),
            )?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .unwrap();
}

/// The inbox rows of the shop as (delivery id, status, error).
async fn inbox_rows(app: &TestApp, shop_id: &str) -> Vec<(String, String, Option<String>)> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(&shop_id))
            .order(inbox_events::received_at.asc())
            .select((
                inbox_events::delivery_id,
                inbox_events::status,
                inbox_events::error,
            ))
            .load(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn an_order_applied_after_a_shop_redact_in_the_same_batch_brings_no_personal_data_back() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let order = order_json(
        81_001,
        Some((9200, "gone@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    let redact = serde_json::json!({"shop_id": 1, "shop_domain": SHOP});
    store_pending(
        &app,
        &shop_id,
        vec![
            ("shop/redact", "redact", redact),
            ("orders/paid", "late-order", order),
        ],
    )
    .await;
    drained(&app).await;
    let shop = shop_id.clone();
    let members: i64 = app
        .with_db(move |c| {
            use boomerang::db::schema::members;
            members::table
                .filter(members::shop_id.eq(&shop))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(members, 0, "a redacted shop has no members");
    let rows = inbox_rows(&app, &shop_id).await;
    assert_eq!(rows[1].0, "late-order");
    if app.test_db.is_postgres() {
        // Two appliers may claim the two events apart: the order then waits for the redaction
        // (and is ignored) or goes first (and is erased by it); never beside it.
        assert!(
            ["ignored", "applied"].contains(&rows[1].1.as_str()),
            "{rows:?}"
        );
    } else {
        assert_eq!(rows[1].1, "ignored", "{rows:?}");
    }
}

/// Makes every ledger insert of the database fail with `message`; on PostgreSQL with the
/// SQLSTATE `code`.
async fn refuse_ledger_inserts(app: &TestApp, message: &str, code: &str) {
    let sql = if app.test_db.is_postgres() {
        format!(
            "CREATE FUNCTION refuse_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             RAISE EXCEPTION '{message}' USING ERRCODE = '{code}'; END $$; \
             CREATE TRIGGER refuse_ledger BEFORE INSERT ON ledger_entries \
             FOR EACH ROW EXECUTE FUNCTION refuse_ledger();"
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_ledger BEFORE INSERT ON ledger_entries \
             BEGIN SELECT RAISE(ABORT, '{message}'); END;"
        )
    };
    app.with_db(move |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&sql).unwrap();
    })
    .await;
}

/// The failed webhooks the owner sees in the admin.
async fn failed_webhooks(app: &TestApp) -> Vec<serde_json::Value> {
    let body: serde_json::Value = app
        .admin_get(
            &crate::helpers::session_token(SHOP),
            "/api/admin/v1/webhooks?status=failed",
        )
        .await
        .json()
        .await
        .unwrap();
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_webhook_that_fails_the_same_way_every_time_is_kept_failed_and_shown() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // A constraint the event's application breaks, whenever it is tried.
    refuse_ledger_inserts(&app, "ledger line refused", "23514").await;
    let order = order_json(
        82_001,
        Some((9300, "c@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "refused", &order).await,
        "accepted"
    );
    let rows = inbox_rows(&app, &shop_id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "failed", "{rows:?}");
    assert!(
        rows[0]
            .2
            .as_deref()
            .unwrap_or("")
            .contains("ledger line refused"),
        "{rows:?}"
    );
    let failed = failed_webhooks(&app).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["delivery_id"], "refused");
    let queued: i64 = app
        .with_db(|c| {
            boomerang::db::schema::jobs::table
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(queued, 0, "no job retries what cannot succeed");
}

#[tokio::test]
async fn a_webhook_whose_apply_job_gives_up_is_marked_failed_and_shown() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // Looks transient (a busy database), so it is retried, but never goes away.
    refuse_ledger_inserts(&app, "database is locked", "40001").await;
    let order = order_json(
        83_001,
        Some((9400, "c@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    app.deliver(SHOP, "orders/paid", "busy", &order).await;
    assert_eq!(inbox_rows(&app, &shop_id).await[0].1, "pending");
    // The job's last attempt is due now.
    app.with_db(|c| {
        use boomerang::db::schema::jobs;
        diesel::update(jobs::table)
            .set(jobs::max_attempts.eq(1))
            .execute(c)
            .unwrap();
    })
    .await;
    let report = boomerang::jobs::run_pending(
        &app.db,
        &crate::helpers::job_context("unused-in-these-jobs-0123456789abcdef"),
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 1, "{report:?}");
    let rows = inbox_rows(&app, &shop_id).await;
    assert_eq!(rows[0].1, "failed", "{rows:?}");
    assert!(
        rows[0].2.as_deref().unwrap_or("").contains("gave up"),
        "{rows:?}"
    );
    assert_eq!(failed_webhooks(&app).await.len(), 1);
}

/// Makes the database refuse the ledger line of one order (on PostgreSQL an error that aborts
/// the whole transaction it happens in).
async fn refuse_ledger_line_of(app: &TestApp, order_id: &str) {
    let sql = if app.test_db.is_postgres() {
        format!(
            "CREATE FUNCTION refuse_one_line() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             IF NEW.source_id = '{order_id}' THEN \
             RAISE EXCEPTION 'this line refused' USING ERRCODE = '23514'; END IF; \
             RETURN NEW; END $$; \
             CREATE TRIGGER refuse_one_line BEFORE INSERT ON ledger_entries \
             FOR EACH ROW EXECUTE FUNCTION refuse_one_line();"
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_one_line BEFORE INSERT ON ledger_entries \
             WHEN NEW.source_id = '{order_id}' BEGIN SELECT RAISE(ABORT, 'this line refused'); END;"
        )
    };
    app.with_db(move |c| {
        use diesel::connection::SimpleConnection;
        c.batch_execute(&sql).unwrap();
    })
    .await;
}

#[tokio::test]
async fn events_that_fail_inside_an_applier_batch_are_kept_failed_and_the_others_of_the_batch_apply(
) {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    refuse_ledger_line_of(&app, "84002").await;
    let order = |id: u64, customer: u64| {
        order_json(
            id,
            Some((customer, &format!("c{customer}@example.com"))),
            "paid",
            &[(1, 1, "42.00")],
        )
    };
    // One batch: a good order, one the database refuses, one of the wrong shape, a good one.
    store_pending(
        &app,
        &shop_id,
        vec![
            ("orders/paid", "good-1", order(84_001, 9401)),
            ("orders/paid", "refused", order(84_002, 9402)),
            (
                "orders/paid",
                "bad-shape",
                serde_json::json!({"id": "not a number"}),
            ),
            ("orders/paid", "good-2", order(84_004, 9404)),
        ],
    )
    .await;
    drained(&app).await;
    let rows = inbox_rows(&app, &shop_id).await;
    let status: HashMap<&str, &str> = rows
        .iter()
        .map(|(id, status, _)| (id.as_str(), status.as_str()))
        .collect();
    assert_eq!(status["good-1"], "applied", "{rows:?}");
    assert_eq!(status["refused"], "failed", "{rows:?}");
    assert_eq!(status["bad-shape"], "failed", "{rows:?}");
    assert_eq!(status["good-2"], "applied", "{rows:?}");
    let refused = rows.iter().find(|r| r.0 == "refused").unwrap();
    assert!(
        refused
            .2
            .as_deref()
            .unwrap_or("")
            .contains("this line refused"),
        "{rows:?}"
    );
    assert_eq!(app.customer(SHOP, "9401").await["pending_points"], 42);
    assert_eq!(app.customer(SHOP, "9404").await["pending_points"], 42);
    // Nothing of the refused order's application is left half-done.
    let shop = shop_id.clone();
    let refused_orders: i64 = app
        .with_db(move |c| {
            use boomerang::db::schema::orders;
            orders::table
                .filter(orders::shop_id.eq(&shop))
                .filter(orders::platform_order_id.eq("84002"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(refused_orders, 0, "the refused order was rolled back whole");
    assert_eq!(failed_webhooks(&app).await.len(), 2);
}

/// The `apply_inbox_event` job (a retry of an event the writer or an applier could not apply)
/// takes its customer's and order's locks as appliers do: on PostgreSQL, while another
/// transaction holds the order's, the job waits and applies nothing; then it applies the event.
#[tokio::test]
async fn an_apply_job_waits_for_whoever_holds_its_order() {
    use boomerang::db::models::NewInboxEvent;
    use boomerang::db::types::{InboxStatus, JobStatus, Platform};
    use boomerang::db::{new_id, now};
    use boomerang::queue::{Job, NewJob};

    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let order = order_json(
        84_001,
        Some((9500, "held@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    let (sid, body) = (shop_id.clone(), order.to_string());
    let job: Job = app
        .with_db(move |c| {
            let id = new_id();
            // Attempted once already (so the running appliers leave it to its job).
            NewInboxEvent {
                id: id.clone(),
                shop_id: sid.clone(),
                platform: Platform::Shopify,
                topic: "orders/paid".into(),
                delivery_id: "retried".into(),
                event_id: None,
                api_version: None,
                triggered_at: None,
                payload: body,
                status: InboxStatus::Pending,
                error: None,
                attempts: 1,
                received_at: now(),
                processed_at: None,
            }
            .insert_once_about(c, Some("9500"), Some("84001"))
            .unwrap();
            NewJob {
                id: new_id(),
                shop_id: sid,
                kind: "apply_inbox_event".into(),
                payload: serde_json::json!({ "inbox_event_id": id }).to_string(),
                dedupe_key: None,
                status: JobStatus::Queued,
                attempts: 0,
                max_attempts: 5,
                run_at: now(),
                locked_until: None,
                last_error: None,
                created_at: now(),
                updated_at: now(),
            }
            .enqueue(c)
            .unwrap();
            Job::claim_next(c, now(), now() + chrono::Duration::minutes(5))
                .unwrap()
                .unwrap()
        })
        .await;
    let status = || async { inbox_rows(&app, &shop_id).await[0].1.clone() };

    // The appliers' lock key of order 84001 of this shop (`ingest::subject_locks`).
    let order_lock = format!("apply:order:{shop_id}:84001");
    let holder = if app.test_db.is_postgres() {
        let mut c = app.db.get().unwrap();
        diesel::sql_query("SELECT pg_advisory_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(&order_lock)
            .execute(&mut *c)
            .unwrap();
        Some(c)
    } else {
        None
    };
    let db = app.db.clone();
    let run = tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        boomerang::services::apply::run_job(&mut c, &job)
    });
    if let Some(mut c) = holder {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!run.is_finished(), "the job waits for the order's lock");
        assert_eq!(status().await, "pending");
        diesel::sql_query("SELECT pg_advisory_unlock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(&order_lock)
            .execute(&mut *c)
            .unwrap();
    }
    run.await.unwrap().unwrap();
    assert_eq!(status().await, "applied");
}

/// The writer's one insert for a batch answers each delivery as storing them one by one would:
/// the first of equal deliveries accepted and the rest duplicates (in the batch or stored
/// before), unknown shops and unused topics ignored, and only the accepted ones stored.
#[tokio::test]
async fn a_batch_stored_in_one_insert_answers_each_delivery_as_one_by_one() {
    use boomerang::db::models::Shop;
    use boomerang::db::types::Platform;
    use boomerang::services::compliance::Subject;
    use boomerang::services::inbox::{store_pending, Delivery, Receipt, ToStore};
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let answers = app
        .with_db(|c| {
            let shop = Shop::find_by_domain(c, Platform::Shopify, SHOP)
                .unwrap()
                .unwrap();
            let delivery = |id: &str, topic: &str, order: u64| Delivery {
                platform: Platform::Shopify,
                shop_domain: SHOP.into(),
                topic: topic.into(),
                delivery_id: id.into(),
                event_id: None,
                api_version: None,
                triggered_at: None,
                payload: order_json(order, Some((9300, "one@example.com")), "paid", &[])
                    .to_string(),
            };
            let used = |topic: &str| topic == "orders/paid";
            let first = [delivery("a", "orders/paid", 1)];
            let subjects: Vec<Subject> = first.iter().map(|d| Subject::of(&d.payload)).collect();
            let items: Vec<ToStore> = first
                .iter()
                .zip(&subjects)
                .map(|(delivery, subject)| ToStore {
                    shop: Some(&shop),
                    delivery,
                    subject,
                })
                .collect();
            let before = store_pending(c, &items, used).unwrap();
            let batch = [
                delivery("b", "orders/paid", 2),
                delivery("a", "orders/paid", 1),
                delivery("b", "orders/paid", 2),
                delivery("c", "products/update", 3),
                delivery("d", "orders/paid", 4),
                delivery("e", "orders/paid", 5),
            ];
            let subjects: Vec<Subject> = batch.iter().map(|d| Subject::of(&d.payload)).collect();
            let items: Vec<ToStore> = batch
                .iter()
                .zip(&subjects)
                .enumerate()
                .map(|(i, (delivery, subject))| ToStore {
                    // The fifth names a shop that is not installed.
                    shop: (i != 4).then_some(&shop),
                    delivery,
                    subject,
                })
                .collect();
            let answers = store_pending(c, &items, used).unwrap();
            (before, answers)
        })
        .await;
    let (before, answers) = answers;
    assert_eq!(before[0].receipt, Receipt::Accepted);
    let receipts: Vec<Receipt> = answers.iter().map(|a| a.receipt).collect();
    assert_eq!(
        receipts,
        [
            Receipt::Accepted,
            Receipt::Duplicate,
            Receipt::Duplicate,
            Receipt::Ignored,
            Receipt::Ignored,
            Receipt::Accepted,
        ]
    );
    assert!(answers[0].inbox_id.is_some() && answers[5].inbox_id.is_some());
    assert!(answers[1..5].iter().all(|a| a.inbox_id.is_none()));
    // In the inbox once applied (on SQLite they wait in the arrivals file until the applier
    // moves them: `db::arrivals`); their status is not looked at.
    drained(&app).await;
    let stored: Vec<(String, Option<String>)> = app
        .with_db(|c| {
            inbox_events::table
                .select((inbox_events::delivery_id, inbox_events::order_id))
                .order(inbox_events::delivery_id)
                .load(c)
                .unwrap()
        })
        .await;
    let row = |id: &str, order: &str| (id.to_owned(), Some(order.to_owned()));
    assert_eq!(stored, [row("a", "1"), row("b", "2"), row("e", "5")]);
}

/// What the writer leaves for the applier under load (on SQLite in the arrivals file, moved
/// into the inbox before each applier batch: `db::arrivals`), and a crash may leave unapplied,
/// is applied once by the running app's sweep, unasked; a redelivery, before or after that, is
/// a duplicate that changes nothing.
#[tokio::test]
async fn deliveries_left_for_the_applier_are_applied_once_by_its_sweep_and_redeliveries_are_duplicates(
) {
    use boomerang::db::models::Shop;
    use boomerang::db::types::Platform;
    use boomerang::services::compliance::Subject;
    use boomerang::services::inbox::{store_pending, Delivery, Receipt, ToStore};

    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let body = order_json(
        80_101,
        Some((9110, "arrival@example.com")),
        "paid",
        &[(1, 1, "17.00")],
    );
    let payload = body.to_string();
    let answers = app
        .with_db(move |c| {
            let shop = Shop::find_by_domain(c, Platform::Shopify, SHOP)
                .unwrap()
                .unwrap();
            let delivery = |id: &str| Delivery {
                platform: Platform::Shopify,
                shop_domain: SHOP.into(),
                topic: "orders/paid".into(),
                delivery_id: id.into(),
                event_id: None,
                api_version: None,
                triggered_at: None,
                payload: payload.clone(),
            };
            let (first, again) = (delivery("left-for-applier"), delivery("left-for-applier"));
            let subject = Subject::of(&payload);
            let store = |c: &mut boomerang::db::DbConnection, d: &Delivery| {
                let items = [ToStore {
                    shop: Some(&shop),
                    delivery: d,
                    subject: &subject,
                }];
                store_pending(c, &items, |t| t == "orders/paid").unwrap()[0].receipt
            };
            // Nothing wakes the applier for these: its sweep finds them.
            [store(c, &first), store(c, &again)]
        })
        .await;
    assert_eq!(answers, [Receipt::Accepted, Receipt::Duplicate]);
    drained(&app).await;
    assert_eq!(app.customer(SHOP, "9110").await["pending_points"], 17);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "left-for-applier", &body)
            .await,
        "duplicate"
    );
    assert_eq!(app.customer(SHOP, "9110").await["pending_points"], 17);
    let (rows, waiting): (i64, i64) = app
        .with_db(|c| {
            let rows = inbox_events::table
                .filter(inbox_events::delivery_id.eq("left-for-applier"))
                .count()
                .get_result(c)
                .unwrap();
            (rows, boomerang::db::arrivals::waiting(c).unwrap())
        })
        .await;
    assert_eq!((rows, waiting), (1, 0), "moved into the inbox once");
}
