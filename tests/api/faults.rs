//! Crash tests against the real binary: `kill -9` in the middle of a webhook load, restart,
//! redeliver everything (Shopify retries whatever it did not see acknowledged; we resend all of
//! it, acknowledged or not) → every customer's total is exact. Bounded: a few hundred deliveries.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;

use crate::helpers::{order_json, session_token_with, TestDb, TEST_APP_SECRET};
use crate::processes::{deliver_order, wait_ready};

const SHOP: &str = "faults.myshopify.com";
/// The app's own credentials: a real Shopify shop is never served on the public demo ones.
const API_KEY: &str = "faults-test-api-key";
const API_SECRET: &str = "faults-test-api-secret-0123456789abcdef";

fn start(url: &str, dir: &std::path::Path, port: u16) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("boomerang"))
        .current_dir(dir)
        .env("DATABASE_URL", url)
        .env("SHOPIFY_API_KEY", API_KEY)
        .env("SHOPIFY_API_SECRET", API_SECRET)
        .env("APP_SECRET", TEST_APP_SECRET)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("RUN_JOBS", "false")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test]
async fn kill_9_mid_load_then_full_redelivery_leaves_every_total_exact() {
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    // 400 orders over 25 customers; some deliveries twice, all shuffled.
    let placed = (chrono::Utc::now() + chrono::Duration::minutes(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut rng = rand::thread_rng();
    let mut expected: HashMap<u64, i64> = HashMap::new();
    let mut deliveries: Vec<(String, String)> = Vec::new();
    for i in 0..400u64 {
        let customer = 1000 + rng.gen_range(0..25u64);
        let units: i64 = rng.gen_range(1..300);
        *expected.entry(customer).or_default() += units;
        let mut order = order_json(
            50_000 + i,
            Some((customer, "c@example.com")),
            "paid",
            &[(i, 1, &format!("{units}.00"))],
        );
        // Placed after `shop add` installed the shop: not history, so it earns.
        order["created_at"] = serde_json::json!(placed);
        order["updated_at"] = serde_json::json!(placed);
        let body = order.to_string();
        for _ in 0..rng.gen_range(1..=2) {
            deliveries.push((format!("fault-{i}"), body.clone()));
        }
    }
    deliveries.shuffle(&mut rng);

    let mut server = start(&url, dir.path(), port);
    wait_ready(&client, &base).await;
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let sending = {
        let (client, base, deliveries, acknowledged) = (
            client.clone(),
            base.clone(),
            deliveries.clone(),
            acknowledged.clone(),
        );
        tokio::spawn(async move {
            stream::iter(deliveries)
                .for_each_concurrent(16, |(id, body)| {
                    let (client, base, acknowledged) =
                        (client.clone(), base.clone(), acknowledged.clone());
                    async move {
                        if deliver_order(&client, &base, (SHOP, API_SECRET), &id, &body).await
                            == Some(200)
                        {
                            acknowledged.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
                .await;
        })
    };
    // Kill -9 once part of the load is through.
    let started = Instant::now();
    while acknowledged.load(Ordering::SeqCst) < deliveries.len() / 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "load did not progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap(); // SIGKILL: no shutdown, no flushing
    server.wait().unwrap();
    sending.await.unwrap();
    let acked_before_crash = acknowledged.load(Ordering::SeqCst);
    assert!(
        acked_before_crash < deliveries.len(),
        "the crash happened mid-load"
    );

    // Restart on the same database and redeliver everything.
    let mut server = start(&url, dir.path(), port);
    wait_ready(&client, &base).await;
    for (id, body) in &deliveries {
        assert_eq!(
            deliver_order(&client, &base, (SHOP, API_SECRET), id, body).await,
            Some(200),
            "redelivery of {id}"
        );
    }
    // As in production, the job runner applies anything a transient failure left pending.
    assert_cmd::Command::cargo_bin("boomerang")
        .unwrap()
        .current_dir(dir.path())
        .env("DATABASE_URL", &url)
        .env("SHOPIFY_API_KEY", API_KEY)
        .env("SHOPIFY_API_SECRET", API_SECRET)
        .env("APP_SECRET", TEST_APP_SECRET)
        .env("RUST_LOG", "error")
        .args(["jobs", "run-once"])
        .assert()
        .success();
    let token = session_token_with(SHOP, API_SECRET, |claims| claims["aud"] = API_KEY.into());
    for (customer, points) in &expected {
        let got: serde_json::Value = client
            .get(format!("{base}/api/admin/v1/customers/{customer}"))
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
            "customer {customer}: {got}"
        );
        assert_eq!(
            got["lifetime_points"].as_i64(),
            Some(*points),
            "customer {customer}: {got}"
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}
