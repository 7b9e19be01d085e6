//! Two app processes on one database, both running jobs (`RUN_JOBS=true`), as production runs
//! several instances behind one address: a few hundred signed orders (duplicates, shuffled)
//! spread over both are applied exactly once, every periodic job runs once per due time, and
//! after `kill -9` of one process while it holds a job, the other takes the job over once its
//! lease lapses (`JOB_LEASE_SECS=2` here) and finishes everything. Bounded: a run takes about
//! 15 s, and every wait has a limit.
//!
//! On SQLite the same scenario runs with two processes on one file: claims are exclusive there
//! too (`BEGIN IMMEDIATE` takes the file's write lock, which every process honours), so the
//! proof holds on both backends.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use futures_util::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::schema::{jobs, ledger_entries, shops};
use boomerang::db::{DatabaseUrl, Db};
use boomerang::queue::{self, JobKind, JobSpec};

use crate::helpers::{order_json, session_token_with, TestDb, TEST_APP_SECRET};
use crate::processes::{deliver_order, wait_ready};

const SHOP: &str = "instances.myshopify.com";
/// A shop whose Admin API answers slowly: its reconciliation jobs run long enough to be
/// caught running when a process is killed.
const SLOW_SHOP: &str = "instances-slow.myshopify.com";
const API_KEY: &str = "instances-test-api-key";
const API_SECRET: &str = "instances-test-api-secret-0123456789abcdef";
/// How long the slow shop's API takes to answer.
const SLOW: Duration = Duration::from_secs(3);

fn start(url: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("boomerang"))
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("SHOPIFY_API_KEY", API_KEY)
        .env("SHOPIFY_API_SECRET", API_SECRET)
        .env("APP_SECRET", TEST_APP_SECRET)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUN_JOBS", "true")
        .env("JOB_LEASE_SECS", "2")
        // One job at a time per process, so "each process runs one slow job" is something the
        // test can wait for and kill on; jobs side by side in one process are tested in
        // `bigcommerce::fetching` (four claimers, each order read once).
        .env("JOB_WORKERS", "1")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `done` every 100 ms until it holds; panics with `what` after `limit`.
async fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < limit, "timed out waiting: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Kills the process on drop, so a failed assertion leaves no server behind.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Adds the shop behind `SLOW_SHOP` with an access token sealed under the test `APP_SECRET`
/// and its Admin API at `api_base`; returns its id.
fn add_slow_shop(db: &Db, api_base: &str) -> String {
    let keys = boomerang::crypto::Keys::derive(&TEST_APP_SECRET.to_owned().into());
    let spec = boomerang::services::shops::ShopSpec {
        platform: Some(boomerang::db::types::Platform::Shopify),
        domain: SLOW_SHOP.into(),
        access_token: Some("shpat_test".into()),
        api_base: Some(api_base.into()),
        currency: Some("USD".into()),
        ..Default::default()
    };
    let mut c = db.get().unwrap();
    boomerang::services::shops::add_shop(&mut c, &keys, &spec)
        .unwrap()
        .shop
        .id
}

/// Queues a job under the test's own key `key` (the instances queue periodic jobs meanwhile);
/// returns its id.
fn enqueue(
    db: &Db,
    shop_id: &str,
    kind: JobKind,
    key: String,
    run_at: chrono::NaiveDateTime,
) -> String {
    let mut c = db.get().unwrap();
    let spec = JobSpec {
        shop_id: shop_id.to_owned(),
        kind,
        payload: serde_json::json!({}),
        dedupe_key: Some(key.clone()),
        run_at,
        max_attempts: 3,
    };
    assert!(boomerang::db::write_transaction(&mut c, |c| queue::enqueue(c, spec)).unwrap());
    jobs::table
        .filter(jobs::shop_id.eq(shop_id))
        .filter(jobs::dedupe_key.eq(key))
        .select(jobs::id)
        .first(&mut c)
        .unwrap()
}

/// (status, attempts) of each job in `ids`.
fn states(db: &Db, ids: &[String]) -> Vec<(String, i32)> {
    let mut c = db.get().unwrap();
    ids.iter()
        .map(|id| {
            jobs::table
                .find(id)
                .select((jobs::status, jobs::attempts))
                .first(&mut c)
                .unwrap()
        })
        .collect()
}

#[tokio::test]
async fn two_instances_apply_every_order_once_run_every_job_once_and_survive_a_kill_9() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    assert_cmd::Command::cargo_bin("boomerang")
        .unwrap()
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("SHOPIFY_API_KEY", API_KEY)
        .env("SHOPIFY_API_SECRET", API_SECRET)
        .env("APP_SECRET", TEST_APP_SECRET)
        .args(["shop", "add", "--platform", "shopify", "--domain", SHOP])
        .assert()
        .success();
    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap(), 4).unwrap();
    let slow_api = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"data": {"orders": {
                    "pageInfo": {"hasNextPage": false, "endCursor": null}, "nodes": []
                }}}))
                .set_delay(SLOW),
        )
        .mount(&slow_api)
        .await;
    let slow_shop = add_slow_shop(&db, &slow_api.uri());
    let shop_id: String = shops::table
        .filter(shops::domain.eq(SHOP))
        .select(shops::id)
        .first(&mut db.get().unwrap())
        .unwrap();

    // 300 orders over 30 customers; a third delivered twice, all shuffled.
    let placed = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut rng = rand::thread_rng();
    let mut expected: HashMap<u64, i64> = HashMap::new();
    let mut deliveries: Vec<(String, String)> = Vec::new();
    const ORDERS: u64 = 300;
    for i in 0..ORDERS {
        let customer = 2000 + rng.gen_range(0..30u64);
        let units: i64 = rng.gen_range(1..300);
        *expected.entry(customer).or_default() += units;
        let mut order = order_json(
            70_000 + i,
            Some((customer, "i@example.com")),
            "paid",
            &[(i, 1, &format!("{units}.00"))],
        );
        order["created_at"] = serde_json::json!(placed);
        order["updated_at"] = serde_json::json!(placed);
        let body = order.to_string();
        for _ in 0..if i % 3 == 0 { 2 } else { 1 } {
            deliveries.push((format!("instance-{i}"), body.clone()));
        }
    }
    deliveries.shuffle(&mut rng);

    let started = boomerang::db::now();
    let (port_a, port_b) = (free_port(), free_port());
    let mut a = Server(start(&url, dir.path(), port_a));
    let _b = Server(start(&url, dir.path(), port_b));
    let bases = [
        format!("http://127.0.0.1:{port_a}"),
        format!("http://127.0.0.1:{port_b}"),
    ];
    let client = reqwest::Client::new();
    for base in &bases {
        wait_ready(&client, base).await;
    }
    // Every delivery to either instance, alternately, 16 at a time.
    let statuses: Vec<Option<u16>> = stream::iter(deliveries.iter().enumerate())
        .map(|(n, (id, body))| {
            let (client, base) = (&client, &bases[n % 2]);
            async move { deliver_order(client, base, (SHOP, API_SECRET), id, body).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == Some(200)), "{statuses:?}");

    // Every order applied exactly once: one ledger line per order, totals exact.
    let order_lines = || {
        let mut c = db.get().unwrap();
        ledger_entries::table
            .filter(ledger_entries::shop_id.eq(&shop_id))
            .filter(ledger_entries::source.eq("order"))
            .select(ledger_entries::source_id)
            .load::<String>(&mut c)
            .unwrap()
    };
    wait_until(Duration::from_secs(20), "every order applied", || {
        order_lines().len() >= ORDERS as usize
    })
    .await;
    let mut per_order: HashMap<String, usize> = HashMap::new();
    for order in order_lines() {
        *per_order.entry(order).or_default() += 1;
    }
    assert_eq!(per_order.len(), ORDERS as usize);
    assert!(per_order.values().all(|n| *n == 1), "{per_order:?}");
    let token = session_token_with(SHOP, API_SECRET, |claims| claims["aud"] = API_KEY.into());
    for (customer, points) in &expected {
        let got: serde_json::Value = client
            .get(format!("{}/api/admin/v1/customers/{customer}", bases[1]))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            got["pending_points"].as_i64(),
            Some(*points),
            "{customer}: {got}"
        );
    }

    // One process killed while it holds a slow job: queue three slow reconciliations (due
    // first) and a hundred quick jobs, wait until each process runs a slow one, kill -9 one.
    let earlier = boomerang::db::now() - chrono::Duration::minutes(1);
    let slow: Vec<String> = (0..3)
        .map(|n| {
            enqueue(
                &db,
                &slow_shop,
                JobKind::ReconcileOrders,
                format!("test:slow:{n}"),
                earlier,
            )
        })
        .collect();
    let quick: Vec<String> = (0..100)
        .map(|n| {
            let key = format!("test:quick:{n}");
            enqueue(
                &db,
                &shop_id,
                JobKind::ConfirmPoints,
                key,
                boomerang::db::now(),
            )
        })
        .collect();
    let running = || {
        states(&db, &slow)
            .iter()
            .filter(|(status, _)| status == "running")
            .count()
    };
    wait_until(
        Duration::from_secs(10),
        "both processes run a slow job",
        || running() == 2,
    )
    .await;
    a.0.kill().unwrap(); // SIGKILL: no shutdown, its claim is left to lapse
    a.0.wait().unwrap();
    let all: Vec<String> = slow.iter().chain(&quick).cloned().collect();
    wait_until(
        Duration::from_secs(20),
        "the survivor finishes every job",
        || states(&db, &all).iter().all(|(status, _)| status == "done"),
    )
    .await;
    // The killed process's slow job was claimed a second time, by the survivor, after its
    // lease lapsed; nothing ran twice otherwise.
    let attempts: Vec<i32> = states(&db, &slow).into_iter().map(|(_, n)| n).collect();
    assert_eq!(
        attempts.iter().filter(|n| **n == 2).count(),
        1,
        "{attempts:?}"
    );
    assert!(states(&db, &quick).iter().all(|(_, n)| *n == 1));

    // Every periodic job ran once per due time: both instances enqueued the periodic work at
    // start (and every few minutes), yet each (shop, kind, due time) has one row, done. The
    // test may straddle an hour or a day: each bucket of either end is checked.
    let (from, to) = (started, boomerang::db::now());
    let buckets = |kind: JobKind, format: &str| -> (JobKind, Vec<String>) {
        let mut keys = vec![
            from.format(format).to_string(),
            to.format(format).to_string(),
        ];
        keys.dedup();
        (kind, keys)
    };
    let periodic = [
        (
            &shop_id,
            buckets(JobKind::ConfirmPoints, "confirm:%Y-%m-%dT%H"),
        ),
        (&shop_id, buckets(JobKind::Retention, "retention:%Y-%m-%d")),
        (
            &shop_id,
            buckets(JobKind::SegmentCustomers, "segments:%Y-%m-%d"),
        ),
        (
            &slow_shop,
            buckets(JobKind::ConfirmPoints, "confirm:%Y-%m-%dT%H"),
        ),
        (
            &slow_shop,
            buckets(JobKind::ReconcileOrders, "reconcile:%Y-%m-%dT%H"),
        ),
    ];
    // One of them may still be running: the killed process's (taken over once its lease
    // lapses), or one of a due time that began during the test. What was queued settles
    // first, then each due time is counted.
    wait_until(
        Duration::from_secs(30),
        "the periodic jobs of the test's due times finish",
        || {
            let mut c = db.get().unwrap();
            periodic.iter().all(|(shop, (kind, keys))| {
                jobs::table
                    .filter(jobs::shop_id.eq(*shop))
                    .filter(jobs::kind.eq(kind.as_str()))
                    .filter(jobs::dedupe_key.eq_any(keys))
                    .filter(jobs::status.ne("done"))
                    .count()
                    .get_result::<i64>(&mut c)
                    .unwrap()
                    == 0
            })
        },
    )
    .await;
    let mut c = db.get().unwrap();
    for (shop, (kind, keys)) in periodic {
        let rows: Vec<(Option<String>, String)> = jobs::table
            .filter(jobs::shop_id.eq(shop))
            .filter(jobs::kind.eq(kind.as_str()))
            .filter(jobs::dedupe_key.eq_any(&keys))
            .select((jobs::dedupe_key, jobs::status))
            .load(&mut c)
            .unwrap();
        assert!(!rows.is_empty(), "{kind:?} of {shop} was never queued");
        for key in &keys {
            let of_key: Vec<&String> = rows
                .iter()
                .filter(|(k, _)| k.as_ref() == Some(key))
                .map(|(_, status)| status)
                .collect();
            assert!(of_key.len() <= 1, "{kind:?} {key} of {shop}: {of_key:?}");
            assert!(
                of_key.iter().all(|s| *s == "done"),
                "{kind:?} {key} of {shop}: {of_key:?}"
            );
        }
    }
}
