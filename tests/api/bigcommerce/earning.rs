//! Earning on BigCommerce orders read after their thin webhooks: a guest by e-mail, a
//! customer by id, refunds (14 partial, 4 full) taken back once, a cancellation (5), an older
//! state read after a newer one, duplicate deliveries and a burst about one order.

use serde_json::{json, Value};
use wiremock::MockServer;

use super::{
    add_bc_shop, deliver, document, order_row, points, queued_reads, run_jobs, serve, setup, spawn,
    stored, thin, DOCUMENTS, GUEST, HASH, SECRET, SHOP,
};
use crate::helpers::{fixture, job_context, TEST_APP_SECRET};

const CREATED: &str = "Fri, 20 Nov 2026 10:00:05 +0000";

#[tokio::test]
async fn a_guest_earns_on_the_documented_webhook_once_the_order_is_read() {
    let (app, server, ctx, shop) = setup().await;
    serve(&server, &document(250, 0, 11, CREATED, &[]), None).await;
    let body: Value =
        serde_json::from_str(&fixture("bigcommerce/store_order_created.json")).unwrap();
    let mut body = body;
    body["producer"] = json!(format!("stores/{HASH}"));
    assert_eq!(deliver(&app, &body).await, "accepted");
    // Stored and applied: a read is queued, nothing is earned before it runs.
    assert_eq!(queued_reads(&app).await, 1);
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.failed), (1, 0));
    // 18.00 + 6.00 of goods after the coupon (shipping and tax earn nothing): 24 points.
    assert_eq!(points(&app, &shop, GUEST).await, (0, 24));
    assert_eq!(stored(&app, DOCUMENTS).await, 1);
    let confirms_at = app
        .with_db(move |c| {
            use boomerang::db::schema::ledger_entries;
            use diesel::prelude::*;
            ledger_entries::table
                .filter(ledger_entries::shop_id.eq(shop))
                .filter(ledger_entries::kind.eq("earn"))
                .select(ledger_entries::confirms_at)
                .first::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        confirms_at.unwrap().to_string(),
        "2026-12-04 10:00:00",
        "14 days after the order's own date_created"
    );
}

#[tokio::test]
async fn a_registered_customer_earns_and_the_admin_api_shows_it() {
    let server = MockServer::start().await;
    let app = spawn().await;
    let (_, token) = add_bc_shop(&app, SHOP, SECRET, &server.uri()).await;
    serve(&server, &document(260, 31, 10, CREATED, &[]), None).await;
    deliver(&app, &thin("store/order/created", 260, "h-260")).await;
    run_jobs(&app, &job_context(TEST_APP_SECRET)).await;
    let resp = app.admin_get(&token, "/api/admin/v1/customers/31").await;
    assert_eq!(resp.status(), 200);
    let customer: Value = resp.json().await.unwrap();
    assert_eq!(customer["pending_points"], 24, "{customer}");
    assert_eq!(customer["email"], GUEST);
}

#[tokio::test]
async fn a_partial_then_a_full_refund_take_back_their_share_once() {
    let (app, server, ctx, shop) = setup().await;
    serve(&server, &document(261, 0, 11, CREATED, &[]), Some(1)).await;
    deliver(&app, &thin("store/order/created", 261, "h-1")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 24);
    // Partially refunded (14): 6.00 of the 24.00 that earned, a quarter of the points.
    let partial = document(261, 0, 14, "Sat, 21 Nov 2026 09:00:00 +0000", &[(7, 6.0)]);
    serve(&server, &partial, Some(1)).await;
    deliver(&app, &thin("store/order/refund/created", 261, "h-2")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
    // The same state read again (an `updated` for a note): nothing more goes back.
    serve(&server, &partial, Some(1)).await;
    deliver(&app, &thin("store/order/updated", 261, "h-3")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
    assert_eq!(
        stored(&app, DOCUMENTS).await,
        2,
        "the same state is stored once"
    );
    // Refunded (4): the rest goes back, and only the rest.
    let full = document(
        261,
        0,
        4,
        "Sun, 22 Nov 2026 09:00:00 +0000",
        &[(7, 6.0), (8, 25.4)],
    );
    serve(&server, &full, None).await;
    deliver(&app, &thin("store/order/statusUpdated", 261, "h-4")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
    let (status, _, refunded) = order_row(&app, &shop).await;
    assert_eq!((status.as_str(), refunded), ("refunded", 3140));
}

#[tokio::test]
async fn a_cancellation_takes_the_award_back_and_an_older_state_does_not_undo_it() {
    let (app, server, ctx, shop) = setup().await;
    serve(&server, &document(262, 0, 11, CREATED, &[]), Some(1)).await;
    deliver(&app, &thin("store/order/created", 262, "h-1")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 24);
    serve(
        &server,
        &document(262, 0, 5, "Fri, 20 Nov 2026 12:00:00 +0000", &[]),
        Some(1),
    )
    .await;
    deliver(&app, &thin("store/order/statusUpdated", 262, "h-2")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
    // A read answered from a stale replica (the paid state) arrives after: nothing is awarded.
    serve(
        &server,
        &document(262, 0, 11, "Fri, 20 Nov 2026 11:00:00 +0000", &[]),
        None,
    )
    .await;
    deliver(&app, &thin("store/order/updated", 262, "h-3")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
}

#[tokio::test]
async fn an_older_state_after_a_newer_one_never_undoes_a_refund() {
    let (app, server, ctx, shop) = setup().await;
    // The refunded state is read first, then an older paid one.
    let newer = document(263, 0, 14, "Sat, 21 Nov 2026 12:00:00 +0000", &[(9, 6.0)]);
    serve(&server, &newer, Some(1)).await;
    deliver(&app, &thin("store/order/refund/created", 263, "h-2")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
    serve(&server, &document(263, 0, 11, CREATED, &[]), None).await;
    deliver(&app, &thin("store/order/created", 263, "h-1")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(
        points(&app, &shop, GUEST).await.1,
        18,
        "the refund stays taken back"
    );
    let (status, updated, _) = order_row(&app, &shop).await;
    assert_eq!(status, "partially_refunded", "the newer state is kept");
    assert_eq!(updated, "2026-11-21 12:00:00");
}

#[tokio::test]
async fn a_duplicate_delivery_and_a_burst_about_one_order_read_it_once() {
    let (app, server, ctx, shop) = setup().await;
    let doc = document(264, 0, 11, CREATED, &[]);
    serve(&server, &doc, None).await;
    // Out of order: the status change is told before the creation.
    let status = thin("store/order/statusUpdated", 264, "h-status");
    assert_eq!(deliver(&app, &status).await, "accepted");
    assert_eq!(deliver(&app, &status).await, "duplicate", "same hash");
    assert_eq!(
        deliver(&app, &thin("store/order/created", 264, "h-created")).await,
        "accepted"
    );
    assert_eq!(
        deliver(&app, &thin("store/order/updated", 264, "h-updated")).await,
        "accepted"
    );
    assert_eq!(stored(&app, "store/order/statusUpdated").await, 1);
    assert_eq!(queued_reads(&app).await, 1, "one read while it waits");
    let report = run_jobs(&app, &ctx).await;
    assert_eq!((report.done, report.failed), (1, 0));
    assert_eq!(points(&app, &shop, GUEST).await.1, 24);
    let reads = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == format!("/stores/{HASH}/v2/orders/264"))
        .count();
    assert_eq!(reads, 1);
    // A later webhook reads again: the same state is a duplicate, earning nothing more.
    deliver(&app, &thin("store/order/updated", 264, "h-later")).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(stored(&app, DOCUMENTS).await, 1);
    assert_eq!(points(&app, &shop, GUEST).await.1, 24);
}
