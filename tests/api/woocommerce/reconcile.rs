//! WooCommerce reconciliation against a fake REST API (wiremock): orders a webhook never
//! brought are read back and earn once, through the same inbox as webhooks; pages are followed;
//! the watermark moves only past stored pages; other shops are untouched.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::jobs::{self, JobContext};
use boomerang::queue::{self, JobKind, JobSpec};

use super::{add_woo_shop, deliver, order, points, stored, SECRET, SHOP};
use crate::helpers::{job_context, TestApp, TEST_APP_SECRET};

const ORDERS: &str = "/wp-json/wc/v3/orders";
/// Basic auth of `ck_test:cs_test`, the keys `add_woo_shop` gives a shop with an API.
const BASIC: &str = "Basic Y2tfdGVzdDpjc190ZXN0";

async fn setup(server: &MockServer) -> (TestApp, JobContext, String) {
    let app = TestApp::spawn().await;
    let (shop_id, _) = add_woo_shop(&app, SHOP, SECRET, Some(&server.uri())).await;
    (app, job_context(TEST_APP_SECRET), shop_id)
}

/// Answers the orders listing's `page` with `orders`, saying there are `total` pages.
async fn listing(server: &MockServer, page: u32, total: u32, orders: Vec<Value>) {
    Mock::given(method("GET"))
        .and(path(ORDERS))
        .and(header("authorization", BASIC))
        .and(query_param("page", page.to_string()))
        .and(query_param("orderby", "modified"))
        .and(query_param("order", "asc"))
        .and(query_param("dates_are_gmt", "true"))
        .and(query_param("per_page", "100"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-WP-TotalPages", total.to_string().as_str())
                .set_body_json(Value::Array(orders)),
        )
        .mount(server)
        .await;
}

/// Runs one reconciliation job of `shop_id` (a new one per `bucket`).
async fn reconcile(
    app: &TestApp,
    ctx: &JobContext,
    shop_id: &str,
    bucket: &str,
) -> jobs::RunReport {
    let spec = JobSpec {
        shop_id: shop_id.to_owned(),
        kind: JobKind::ReconcileOrders,
        payload: json!({}),
        dedupe_key: Some(bucket.to_owned()),
        run_at: boomerang::db::now(),
        max_attempts: 3,
    };
    app.with_db(move |c| queue::enqueue(c, spec).unwrap()).await;
    jobs::run_pending(&app.db, ctx).await.unwrap()
}

async fn watermark(app: &TestApp, shop_id: &str) -> Option<chrono::NaiveDateTime> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        boomerang::db::models::Shop::find(c, &shop_id)
            .unwrap()
            .reconciled_until
    })
    .await
}

/// The `modified_after` of each listing request the fake site received.
async fn modified_after(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == ORDERS)
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "modified_after")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

fn at(text: &str) -> chrono::NaiveDateTime {
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").unwrap()
}

#[tokio::test]
async fn a_missed_webhooks_order_is_found_and_earns_once() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let missed = order(
        901,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    listing(&server, 1, 1, vec![missed]).await;

    let report = reconcile(&app, &ctx, &shop_id, "first").await;
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(stored(&app).await, 1);
    // The next run reads the same document again: stored once, earned once.
    let report = reconcile(&app, &ctx, &shop_id, "second").await;
    assert_eq!((report.done, report.failed), (1, 0));
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(stored(&app).await, 1);
}

#[tokio::test]
async fn an_order_already_delivered_by_webhook_is_not_counted_twice() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let body = order(
        902,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    // WooCommerce's own encoding differs from ours byte for byte (a pretty body here): the
    // inbox stores it again, and applying it changes nothing.
    let resp = super::post(
        &app,
        SHOP,
        "order.created",
        "d-902",
        &serde_json::to_string_pretty(&body).unwrap(),
        SECRET,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    // The same bytes as a webhook delivery are not even stored again.
    assert_eq!(
        deliver(&app, "order.updated", "d-903", &body).await,
        "accepted"
    );
    listing(&server, 1, 1, vec![body]).await;

    let report = reconcile(&app, &ctx, &shop_id, "after-webhook").await;
    assert_eq!((report.done, report.failed), (1, 0));
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(stored(&app).await, 2, "the reconciled copy is a duplicate");
}

#[tokio::test]
async fn a_refund_seen_only_by_reconciliation_is_taken_back_by_difference() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let paid = order(
        904,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    deliver(&app, "order.created", "d-904", &paid).await;
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    let refunded = order(
        904,
        31,
        "ada@example.com",
        "processing",
        "2026-11-22T10:00:00",
        &[(77, "-6.00")],
    );
    listing(&server, 1, 1, vec![refunded]).await;
    // A third of the 18.00 that earned goes back, once however often it is read.
    reconcile(&app, &ctx, &shop_id, "refund").await;
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 12));
    reconcile(&app, &ctx, &shop_id, "refund-again").await;
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 12));
}

#[tokio::test]
async fn pages_are_followed_and_the_watermark_advances_past_them() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let first = order(
        905,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    let second = order(
        906,
        32,
        "bob@example.com",
        "processing",
        "2026-11-21T11:30:00",
        &[],
    );
    listing(&server, 1, 2, vec![first]).await;
    listing(&server, 2, 2, vec![second]).await;

    let report = reconcile(&app, &ctx, &shop_id, "paged").await;
    assert_eq!((report.done, report.failed), (1, 0));
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(points(&app, &shop_id, "bob@example.com").await, (0, 18));
    let read = modified_after(&server).await;
    assert_eq!(read.len(), 2, "no page past X-WP-TotalPages: {read:?}");
    assert_eq!(
        watermark(&app, &shop_id).await,
        Some(at("2026-11-21T11:30:00"))
    );

    // The next run starts a little before the watermark.
    reconcile(&app, &ctx, &shop_id, "next").await;
    let read = modified_after(&server).await;
    assert_eq!(read.last().map(String::as_str), Some("2026-11-21T11:25:00"));
}

#[tokio::test]
async fn an_empty_page_ends_a_listing_without_a_page_count() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let only = order(
        907,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    for (page, orders) in [(1, vec![only]), (2, vec![])] {
        Mock::given(method("GET"))
            .and(path(ORDERS))
            .and(query_param("page", page.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(Value::Array(orders)))
            .mount(&server)
            .await;
    }
    let report = reconcile(&app, &ctx, &shop_id, "unpaged").await;
    assert_eq!((report.done, report.failed), (1, 0));
    assert_eq!(modified_after(&server).await.len(), 2);
    assert_eq!(
        watermark(&app, &shop_id).await,
        Some(at("2026-11-21T10:00:00"))
    );
}

#[tokio::test]
async fn refused_keys_leave_the_watermark_and_points_alone() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    Mock::given(method("GET"))
        .and(path(ORDERS))
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources."}),
        ))
        .mount(&server)
        .await;
    let report = reconcile(&app, &ctx, &shop_id, "refused").await;
    // Wrong keys are not retried in a loop: the job gives up until the next hourly run.
    assert_eq!((report.done, report.retried, report.failed), (0, 0, 1));
    assert_eq!(watermark(&app, &shop_id).await, None);
    assert_eq!(stored(&app).await, 0);
    assert_eq!(modified_after(&server).await.len(), 1);
}

#[tokio::test]
async fn a_shop_without_rest_keys_is_skipped_quietly() {
    let app = TestApp::spawn().await;
    let (shop_id, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let ctx = job_context(TEST_APP_SECRET);
    let report = reconcile(&app, &ctx, &shop_id, "keyless").await;
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert_eq!(watermark(&app, &shop_id).await, None);
}

#[tokio::test]
async fn another_shops_orders_and_watermark_are_untouched() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let other_server = MockServer::start().await;
    let (other_id, _) = add_woo_shop(
        &app,
        "other-woo.example",
        "other-secret",
        Some(&other_server.uri()),
    )
    .await;
    // The other shop earned on its own order 908 by webhook.
    let theirs = order(
        908,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T09:00:00",
        &[],
    );
    let resp = super::post(
        &app,
        "other-woo.example",
        "order.created",
        "o-908",
        &theirs.to_string(),
        "other-secret",
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(points(&app, &other_id, "ada@example.com").await, (0, 18));
    // This shop's site has an order with the same id and customer.
    let ours = order(
        908,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    listing(&server, 1, 1, vec![ours]).await;

    reconcile(&app, &ctx, &shop_id, "mine").await;
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(points(&app, &other_id, "ada@example.com").await, (0, 18));
    assert_eq!(watermark(&app, &other_id).await, None);
    assert!(other_server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_hourly_schedule_reconciles_a_woocommerce_shop() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let missed = order(
        909,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    listing(&server, 1, 1, vec![missed]).await;
    app.with_db(|c| {
        boomerang::db::write_transaction(c, |c| jobs::enqueue_periodic(c, boomerang::db::now()))
            .unwrap()
    })
    .await;
    let report = jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!(report.failed, 0);
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(
        watermark(&app, &shop_id).await,
        Some(at("2026-11-21T10:00:00"))
    );
}

/// A run that fails on its second page keeps what the first stored, and the watermark passes
/// only that page: the next run resumes there.
#[tokio::test]
async fn a_run_that_fails_midway_keeps_the_pages_it_stored() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    let first = order(
        910,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    listing(&server, 1, 2, vec![first]).await;
    Mock::given(method("GET"))
        .and(path(ORDERS))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    let report = reconcile(&app, &ctx, &shop_id, "midway").await;
    assert_eq!(report.failed, 1);
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(
        watermark(&app, &shop_id).await,
        Some(at("2026-11-21T10:00:00"))
    );
}

#[tokio::test]
async fn a_throttled_listing_is_waited_out() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    Mock::given(method("GET"))
        .and(path(ORDERS))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    let missed = order(
        911,
        31,
        "ada@example.com",
        "processing",
        "2026-11-21T10:00:00",
        &[],
    );
    listing(&server, 1, 1, vec![missed]).await;
    let report = reconcile(&app, &ctx, &shop_id, "throttled").await;
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert_eq!(points(&app, &shop_id, "ada@example.com").await, (0, 18));
    assert_eq!(modified_after(&server).await.len(), 2);
}
