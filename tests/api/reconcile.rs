//! Reconciliation against a local fake of the Shopify Admin GraphQL API: missed orders are
//! pulled through the same idempotent path as webhooks, never counted twice.

use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::jobs::{self, JobContext};
use boomerang::queue::{self, JobKind, JobSpec};

use crate::helpers::{job_context, order_json, TestApp};

const SHOP: &str = "reconcile.myshopify.com";
const APP_SECRET: &str = "reconcile-test-app-secret-0123456789abcdef";

fn order_node(
    id: u64,
    customer: u64,
    subtotal: &str,
    refund: Option<(u64, &str)>,
) -> serde_json::Value {
    json!({
        "legacyResourceId": id.to_string(), "name": format!("#{id}"), "email": "r@example.com",
        "createdAt": "2026-11-20T10:00:00Z", "updatedAt": "2026-11-22T10:00:00Z", "cancelledAt": null,
        "test": false, "displayFinancialStatus": if refund.is_some() { "PARTIALLY_REFUNDED" } else { "PAID" },
        "currencyCode": "USD",
        "customer": {"legacyResourceId": customer.to_string(), "email": "r@example.com"},
        "subtotalPriceSet": {"shopMoney": {"amount": subtotal, "currencyCode": "USD"}},
        "totalDiscountsSet": {"shopMoney": {"amount": "0.0"}},
        "totalTaxSet": {"shopMoney": {"amount": "0.0"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
        "totalPriceSet": {"shopMoney": {"amount": subtotal}},
        "lineItems": {"nodes": [{"id": format!("gid://shopify/LineItem/{}", id * 10), "quantity": 2, "currentQuantity": 2,
            "isGiftCard": false, "product": {"legacyResourceId": "1"}, "variant": {"legacyResourceId": "2"},
            "originalUnitPriceSet": {"shopMoney": {"amount": format!("{}", subtotal.parse::<f64>().unwrap() / 2.0)}},
            "totalDiscountSet": {"shopMoney": {"amount": "0.0"}}}]},
        "refunds": refund.map(|(rid, amount)| vec![json!({
            "legacyResourceId": rid.to_string(), "createdAt": "2026-11-22T09:00:00Z",
            "refundLineItems": {"nodes": [{"lineItem": {"id": format!("gid://shopify/LineItem/{}", id * 10)}, "quantity": 1,
                "subtotalSet": {"shopMoney": {"amount": amount}}}]},
            "transactions": {"nodes": [{"kind": "REFUND", "status": "SUCCESS", "amountSet": {"shopMoney": {"amount": amount}}}]}
        })]).unwrap_or_default(),
    })
}

async fn setup(server: &MockServer) -> (TestApp, JobContext, String) {
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    (app, job_context(APP_SECRET), shop_id)
}

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

#[tokio::test]
async fn missed_orders_and_refunds_are_pulled_in_once() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    // Order 3001 arrived by webhook; 3002 (with a refund of half) was missed.
    app.deliver(
        SHOP,
        "orders/paid",
        "hook",
        &order_json(
            3001,
            Some((9001, "r@example.com")),
            "paid",
            &[(30010, 2, "25.00")],
        ),
    )
    .await;
    Mock::given(method("POST"))
        .and(path("/admin/api/2025-10/graphql.json"))
        .and(header("X-Shopify-Access-Token", "shpat_test"))
        .and(body_string_contains("updated_at:>"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"orders": {
            "pageInfo": {"hasNextPage": false, "endCursor": "c1"},
            "nodes": [order_node(3001, 9001, "50.00", None), order_node(3002, 9001, "80.00", Some((4002, "40.00")))]
        }}})))
        .expect(2)
        .mount(&server)
        .await;
    let report = reconcile(&app, &ctx, &shop_id, "run-1").await;
    // The reconcile job, and the mail job the missed second order woke (the NPS survey).
    assert_eq!((report.done, report.failed), (2, 0));
    let member = app.customer(SHOP, "9001").await;
    assert_eq!(member["pending_points"], 50 + 80 - 40, "{member}");
    // A second run sees the same orders again: nothing changes.
    reconcile(&app, &ctx, &shop_id, "run-2").await;
    assert_eq!(app.customer(SHOP, "9001").await["pending_points"], 90);
    let watermark = app
        .with_db(move |c| {
            boomerang::db::models::Shop::find(c, &shop_id)
                .unwrap()
                .reconciled_until
        })
        .await;
    assert!(watermark.is_some());
}

#[tokio::test]
async fn an_api_outage_is_retried_later_and_changes_nothing() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let report = reconcile(&app, &ctx, &shop_id, "outage").await;
    assert_eq!((report.done, report.retried, report.failed), (0, 1, 0));
    let watermark = app
        .with_db(move |c| {
            boomerang::db::models::Shop::find(c, &shop_id)
                .unwrap()
                .reconciled_until
        })
        .await;
    assert!(
        watermark.is_none(),
        "the watermark only moves after a complete run"
    );
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

/// A window too large for one run (200 pages) is read oldest update first; the run that stops
/// there may move the watermark only to the newest update it read, or the rest of the window
/// would never be reconciled.
#[tokio::test]
async fn a_run_cut_short_by_its_page_limit_moves_the_watermark_only_as_far_as_it_read() {
    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    Mock::given(method("POST"))
        .and(path("/admin/api/2025-10/graphql.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"orders": {
                "pageInfo": {"hasNextPage": true, "endCursor": "more"},
                "nodes": [order_node(3101, 9101, "10.00", None)]
            }}})),
        )
        .mount(&server)
        .await;
    let report = reconcile(&app, &ctx, &shop_id, "big-window").await;
    assert_eq!((report.done, report.failed), (1, 0));
    let read_until = chrono::NaiveDate::from_ymd_opt(2026, 11, 22)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    assert_eq!(watermark(&app, &shop_id).await, Some(read_until));
}

/// Webhooks keep SQLite's write lock busy; the reconciliation's last write (its watermark) and
/// the job's outcome wait their turn in the app's writer queue instead of timing out in
/// SQLite's busy handler with `database is locked`.
#[tokio::test]
async fn a_reconciliation_that_ends_while_webhooks_hold_the_write_lock_waits_its_turn() {
    use std::time::Duration;

    let server = MockServer::start().await;
    let (app, ctx, shop_id) = setup(&server).await;
    Mock::given(method("POST"))
        .and(path("/admin/api/2025-10/graphql.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"orders": {
                    "pageInfo": {"hasNextPage": false, "endCursor": null},
                    "nodes": []
                }}}))
                .set_delay(Duration::from_millis(400)),
        )
        .mount(&server)
        .await;
    let spec = JobSpec {
        shop_id: shop_id.clone(),
        kind: JobKind::ReconcileOrders,
        payload: json!({}),
        dedupe_key: Some("under-load".into()),
        run_at: boomerang::db::now(),
        max_attempts: 3,
    };
    app.with_db(move |c| queue::enqueue(c, spec).unwrap()).await;
    let running = {
        let (db, ctx) = (app.db.clone(), ctx.clone());
        tokio::spawn(async move { jobs::run_pending(&db, &ctx).await.unwrap() })
    };
    // While the job waits for the API, a writer takes the lock for longer than SQLite's
    // busy timeout (5 s), as a stream of webhook batches does.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let db = app.db.clone();
    let holder = tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        boomerang::db::write_transaction(&mut c, |_| {
            std::thread::sleep(Duration::from_millis(6_500));
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap();
    });
    let report = running.await.unwrap();
    holder.await.unwrap();
    assert_eq!((report.done, report.retried, report.failed), (1, 0, 0));
    assert!(watermark(&app, &shop_id).await.is_some());
}
