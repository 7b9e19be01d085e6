//! BigCommerce reconciliation against a fake API: orders modified since the watermark are
//! listed (oldest change first), each read into the same document a webhook's read makes, and
//! earn once; the watermark moves past what was stored; the listing is followed by moving
//! `min_date_modified`.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::jobs::JobContext;
use boomerang::queue::{self, JobKind, JobSpec};

use super::{
    deliver, document, points, run_jobs, serve, setup, stored, thin, DOCUMENTS, GUEST, TOKEN,
};
use crate::helpers::TestApp;

/// The order listing of the test store (`store-abc123`).
const ORDERS: &str = "/stores/abc123/v2/orders";

/// Answers listings with `min_date_modified` = `since` and `page` with `orders`.
async fn listing(server: &MockServer, since: Option<&str>, page: u32, orders: Vec<Value>) {
    let mut mock = Mock::given(method("GET"))
        .and(path(ORDERS))
        .and(header("x-auth-token", TOKEN))
        .and(query_param("sort", "date_modified:asc"))
        .and(query_param("limit", "250"))
        .and(query_param("page", page.to_string()));
    if let Some(since) = since {
        mock = mock.and(query_param("min_date_modified", since));
    }
    let answer = if orders.is_empty() {
        ResponseTemplate::new(204)
    } else {
        ResponseTemplate::new(200).set_body_json(Value::Array(orders))
    };
    mock.respond_with(answer).mount(server).await;
}

/// Runs one reconciliation job of `shop_id` (a new one per `bucket`).
async fn reconcile(app: &TestApp, ctx: &JobContext, shop_id: &str, bucket: &str) {
    let spec = JobSpec {
        shop_id: shop_id.to_owned(),
        kind: JobKind::ReconcileOrders,
        payload: json!({}),
        dedupe_key: Some(bucket.to_owned()),
        run_at: boomerang::db::now(),
        max_attempts: 3,
    };
    app.with_db(move |c| queue::enqueue(c, spec).unwrap()).await;
    let report = run_jobs(app, ctx).await;
    assert_eq!((report.done, report.failed), (1, 0), "{bucket}");
}

async fn watermark(app: &TestApp, shop_id: &str) -> Option<String> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        boomerang::db::models::Shop::find(c, &shop_id)
            .unwrap()
            .reconciled_until
            .map(|t| t.to_string())
    })
    .await
}

#[tokio::test]
async fn a_missed_webhooks_order_is_found_and_earns_once() {
    let (app, server, ctx, shop_id) = setup().await;
    let missed = document(280, 31, 10, "Sat, 21 Nov 2026 10:00:00 +0000", &[]);
    serve(&server, &missed, None).await;
    listing(&server, None, 1, vec![missed["order"].clone()]).await;

    reconcile(&app, &ctx, &shop_id, "first").await;
    assert_eq!(points(&app, &shop_id, GUEST).await, (0, 24));
    assert_eq!(stored(&app, DOCUMENTS).await, 1);
    assert_eq!(
        watermark(&app, &shop_id).await.as_deref(),
        Some("2026-11-21 10:00:00")
    );
    // The next run starts five minutes before the watermark and reads the same state again:
    // stored once, earned once.
    reconcile(&app, &ctx, &shop_id, "second").await;
    assert_eq!(points(&app, &shop_id, GUEST).await, (0, 24));
    assert_eq!(stored(&app, DOCUMENTS).await, 1);
    let since: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == ORDERS)
        .filter_map(|r| {
            r.url
                .query_pairs()
                .find(|(k, _)| k == "min_date_modified")
                .map(|(_, v)| v.into_owned())
        })
        .collect();
    assert_eq!(
        since.last().map(String::as_str),
        Some("2026-11-21T09:55:00+00:00")
    );
}

#[tokio::test]
async fn an_order_already_read_after_its_webhook_is_not_counted_twice() {
    let (app, server, ctx, shop_id) = setup().await;
    let doc = document(281, 0, 11, "Sat, 21 Nov 2026 10:00:00 +0000", &[]);
    serve(&server, &doc, None).await;
    deliver(&app, &thin("store/order/created", 281, "h-1")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop_id, GUEST).await.1, 24);
    listing(&server, None, 1, vec![doc["order"].clone()]).await;
    reconcile(&app, &ctx, &shop_id, "after-webhook").await;
    assert_eq!(points(&app, &shop_id, GUEST).await.1, 24);
    assert_eq!(
        stored(&app, DOCUMENTS).await,
        1,
        "the reconciled state is a duplicate"
    );
}

#[tokio::test]
async fn a_full_page_moves_the_listing_on_from_its_newest_change() {
    let (app, server, ctx, shop_id) = setup().await;
    // A first page of 250 (the same order listed 250 times stands in for 250 orders), then
    // the next listing from its newest change holds one more order.
    let first = document(282, 0, 11, "Sat, 21 Nov 2026 10:00:00 +0000", &[]);
    let second = document(283, 0, 11, "Sun, 22 Nov 2026 08:00:00 +0000", &[]);
    // A watermark before both, so the run starts there whatever the date: a first run reads
    // from 60 days before now, which from 2027-01-20 on is past the first page's change and
    // would leave nothing to move the listing on from.
    let id = shop_id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        let before = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap();
        diesel::update(shops::table.find(&id))
            .set(shops::reconciled_until.eq(Some(before)))
            .execute(c)
            .unwrap()
    })
    .await;
    serve(&server, &first, None).await;
    serve(&server, &second, None).await;
    listing(
        &server,
        Some("2026-11-21T10:00:00+00:00"),
        1,
        vec![second["order"].clone()],
    )
    .await;
    Mock::given(method("GET"))
        .and(path(ORDERS))
        .and(query_param("page", "1"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(Value::Array(vec![first["order"].clone(); 250])),
        )
        .mount(&server)
        .await;

    reconcile(&app, &ctx, &shop_id, "pages").await;
    assert_eq!(
        points(&app, &shop_id, GUEST).await.1,
        48,
        "both orders earned"
    );
    assert_eq!(stored(&app, DOCUMENTS).await, 2);
    assert_eq!(
        watermark(&app, &shop_id).await.as_deref(),
        Some("2026-11-22 08:00:00")
    );
}
