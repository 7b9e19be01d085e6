//! Reading an order after its webhook, when the fake BigCommerce API throttles, has lost the
//! order, or fails: throttling is waited out within the read, a lost order is nothing to do, a
//! failure is retried by the queue; a burst is claimed in batches, each order read once.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::{
    deliver, document, points, queued_reads, run_jobs, serve, setup, stored, thin, DOCUMENTS,
    GUEST, HASH,
};

const CREATED: &str = "Fri, 20 Nov 2026 10:00:05 +0000";

#[tokio::test]
async fn a_throttled_read_waits_for_the_quota_window_then_earns() {
    let (app, server, ctx, shop) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders/270")))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("X-Rate-Limit-Time-Reset-Ms", "15")
                .set_body_json(json!({"status": 429, "title": "Too many requests"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    serve(&server, &document(270, 0, 11, CREATED, &[]), None).await;
    deliver(&app, &thin("store/order/created", 270, "h-1")).await;
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert_eq!(points(&app, &shop, GUEST).await.1, 24);
}

#[tokio::test]
async fn an_order_bigcommerce_no_longer_has_is_nothing_to_do() {
    let (app, server, ctx, shop) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders/271")))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!([{"status": 404, "message": "The requested resource was not found."}]),
        ))
        .mount(&server)
        .await;
    deliver(&app, &thin("store/order/created", 271, "h-1")).await;
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert_eq!(stored(&app, DOCUMENTS).await, 0);
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
}

#[tokio::test]
async fn a_failing_api_is_retried_by_the_queue() {
    let (app, server, ctx, _) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders/272")))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    deliver(&app, &thin("store/order/created", 272, "h-1")).await;
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.retried, report.failed), (0, 1, 0));
    assert_eq!(stored(&app, DOCUMENTS).await, 0);
    // While the read waits for its retry, a new webhook about the order queues another: a
    // change told during a read is never lost behind it.
    deliver(&app, &thin("store/order/updated", 272, "h-2")).await;
    assert_eq!(queued_reads(&app).await, 2);
}

#[tokio::test]
async fn a_revoked_token_fails_the_read_for_good() {
    let (app, server, ctx, _) = setup().await;
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders/273")))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    deliver(&app, &thin("store/order/created", 273, "h-1")).await;
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.retried, report.failed), (0, 0, 1));
}

#[tokio::test]
async fn a_batch_of_reads_retries_only_the_order_whose_read_failed() {
    let (app, server, ctx, shop) = setup().await;
    let base = format!("/stores/{HASH}");
    Mock::given(method("GET"))
        .and(path(format!("{base}/v2/orders/322")))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/v2/orders/323")))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    for id in [320, 321, 324] {
        serve(&server, &document(id, 0, 11, CREATED, &[]), None).await;
    }
    for id in 320..325 {
        deliver(&app, &thin("store/order/created", id, &format!("h-{id}"))).await;
    }
    // One claim takes all five; each job has its own outcome.
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.retried, report.failed), (4, 1, 0));
    assert_eq!(stored(&app, DOCUMENTS).await, 3);
    assert_eq!(points(&app, &shop, GUEST).await, (0, 3 * 24));
    let retrying: Vec<(String, i32)> = app
        .with_db(|c| {
            use boomerang::db::schema::jobs;
            use diesel::prelude::*;
            jobs::table
                .filter(jobs::kind.eq("fetch_bigcommerce_order"))
                .filter(jobs::status.eq("queued"))
                .select((jobs::payload, jobs::attempts))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(retrying.len(), 1, "{retrying:?}");
    assert!(retrying[0].0.contains("\"322\""), "{retrying:?}");
    assert_eq!(retrying[0].1, 1);
}

#[tokio::test]
async fn four_claimers_read_a_burst_of_orders_each_once_and_every_point_arrives() {
    let (app, server, ctx, shop) = setup().await;
    // More orders of one guest than one claim takes, each read through a fake API that takes
    // its time, so the claimers' batches overlap.
    let orders: Vec<u64> = (300..450).collect();
    assert!(orders.len() > 2 * boomerang::services::reconcile::bigcommerce::fetch::BATCH);
    for id in &orders {
        let doc = document(*id, 0, 11, CREATED, &[]);
        let base = format!("/stores/{HASH}");
        Mock::given(method("GET"))
            .and(path(format!("{base}/v2/orders/{id}")))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(doc["order"].clone())
                    .set_delay(std::time::Duration::from_millis(20)),
            )
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        serve(&server, &doc, None).await;
        deliver(&app, &thin("store/order/created", *id, &format!("h-{id}"))).await;
    }
    let burst = orders.len();
    assert_eq!(queued_reads(&app).await, burst as i64);
    let report = boomerang::jobs::run_pending_concurrently(&app.db, &ctx, 4)
        .await
        .unwrap();
    assert_eq!((report.done, report.retried, report.failed), (burst, 0, 0));
    // Stored and applied in the batches' own transactions.
    assert_eq!(stored(&app, DOCUMENTS).await, burst as i64);
    assert_eq!(points(&app, &shop, GUEST).await, (0, burst as i64 * 24));
    // Each order was read once: no two claimers took the same job.
    let requests = server.received_requests().await.unwrap();
    for id in &orders {
        let order_path = format!("/stores/{HASH}/v2/orders/{id}");
        let reads = requests
            .iter()
            .filter(|r| r.url.path() == order_path)
            .count();
        assert_eq!(reads, 1, "order {id}");
    }
}
