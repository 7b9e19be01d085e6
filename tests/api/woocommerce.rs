//! WooCommerce shops through the real HTTP path: signed `order.*` webhooks built from the
//! documented order (`tests/fixtures/woocommerce/order_created.json`), earning, refunds taken
//! back by difference, cancellation, duplicates, out-of-order deliveries, and coupons on a
//! fake WooCommerce REST API (`coupons.rs`). What is refused or ignored on receipt is in
//! `receiving.rs`.

mod coupons;
mod receiving;
mod reconcile;

use serde_json::{json, Value};

use boomerang::db::types::Platform;
use boomerang::platform::woocommerce::sign;

use crate::helpers::{backdate_install, fixture, TestApp};

pub(crate) const SHOP: &str = "woo.example";
pub(crate) const SECRET: &str = "woo-webhook-secret-a";

/// A WooCommerce shop added as `boomerang shop add` would, with its install dated before the
/// test orders; returns (shop id, admin API key).
pub(crate) async fn add_woo_shop(
    app: &TestApp,
    domain: &str,
    secret: &str,
    api: Option<&str>,
) -> (String, String) {
    let (domain, secret) = (domain.to_owned(), secret.to_owned());
    let api = api.map(str::to_owned);
    let keys = app.keys.clone();
    app.with_db(move |c| {
        let spec = boomerang::services::shops::ShopSpec {
            platform: Some(Platform::WooCommerce),
            domain,
            webhook_secret: Some(secret),
            consumer_key: api.as_ref().map(|_| "ck_test".to_owned()),
            consumer_secret: api.as_ref().map(|_| "cs_test".to_owned()),
            api_base: api,
            currency: Some("USD".into()),
            ..Default::default()
        };
        let added = boomerang::services::shops::add_shop(c, &keys, &spec).unwrap();
        backdate_install(c, &added.shop.id);
        (added.shop.id, added.admin_api_key.unwrap())
    })
    .await
}

/// The documented order, dated 2026-11-20 (after the test install), as `customer` (0: guest)
/// with `email`, in `status`, last modified at `modified` (UTC), with `refunds` (id, total).
pub(crate) fn order(
    id: u64,
    customer: u64,
    email: &str,
    status: &str,
    modified: &str,
    refunds: &[(u64, &str)],
) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("woocommerce/order_created.json")).unwrap();
    body["id"] = json!(id);
    body["number"] = json!(id.to_string());
    body["customer_id"] = json!(customer);
    body["billing"]["email"] = json!(email);
    body["status"] = json!(status);
    body["date_created_gmt"] = json!("2026-11-20T10:00:00");
    body["date_paid_gmt"] = json!("2026-11-20T10:00:05");
    body["date_modified_gmt"] = json!(modified);
    body["refunds"] = refunds
        .iter()
        .map(|(id, total)| json!({"id": id, "reason": "", "total": total}))
        .collect();
    body
}

/// Posts `body` signed with `secret` to the shop's webhook URL.
pub(crate) async fn post(
    app: &TestApp,
    domain: &str,
    topic: &str,
    delivery: &str,
    body: &str,
    secret: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/webhooks/woocommerce/{domain}")))
        .header("Content-Type", "application/json")
        .header("X-WC-Webhook-Source", format!("https://{domain}/"))
        .header("X-WC-Webhook-Topic", topic)
        .header("X-WC-Webhook-Resource", "order")
        .header("X-WC-Webhook-Event", topic.trim_start_matches("order."))
        .header("X-WC-Webhook-ID", "12")
        .header("X-WC-Webhook-Delivery-ID", delivery)
        .header("X-WC-Webhook-Signature", sign(body.as_bytes(), secret))
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Delivers an order to the test shop; returns the answer's `status`.
pub(crate) async fn deliver(app: &TestApp, topic: &str, delivery: &str, body: &Value) -> String {
    let resp = post(app, SHOP, topic, delivery, &body.to_string(), SECRET).await;
    assert_eq!(resp.status(), 200, "{topic} {delivery}");
    let answer: Value = resp.json().await.unwrap();
    answer["status"].as_str().unwrap().to_owned()
}

/// (spendable, pending) points of the member with `email` in the shop.
pub(crate) async fn points(app: &TestApp, shop_id: &str, email: &str) -> (i64, i64) {
    let (shop_id, email) = (shop_id.to_owned(), email.to_owned());
    app.with_db(move |c| {
        use boomerang::db::schema::members;
        use diesel::prelude::*;
        members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::email.eq(email))
            .filter(members::merged_into.is_null())
            .select((members::points_balance, members::pending_points))
            .first::<(i64, i64)>(c)
            .optional()
            .unwrap()
            .unwrap_or((0, 0))
    })
    .await
}

/// How many webhooks are stored, in any shop.
pub(crate) async fn stored(app: &TestApp) -> i64 {
    app.with_db(|c| {
        use boomerang::db::schema::inbox_events;
        use diesel::prelude::*;
        inbox_events::table
            .filter(inbox_events::platform.eq("woocommerce"))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

pub(crate) const GUEST: &str = "john.doe@example.com";

#[tokio::test]
async fn a_guest_earns_on_the_documented_order_by_billing_email() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let mut body: Value = serde_json::from_str(&fixture("woocommerce/order_created.json")).unwrap();
    // The documented order is from 2017: dated after the install, it earns.
    body["date_created_gmt"] = json!("2026-11-20T10:00:00");
    assert_eq!(
        deliver(&app, "order.created", "d-1", &body).await,
        "accepted"
    );
    // 18.00 of lines after discounts (shipping and tax earn nothing): 18 points, pending.
    assert_eq!(points(&app, &shop, GUEST).await, (0, 18));
    // The return window runs from the order's own date (2026-11-20), not from delivery.
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
        "14 days after the order's date"
    );
}

#[tokio::test]
async fn a_registered_customer_earns_and_the_admin_api_shows_it() {
    let app = TestApp::spawn().await;
    let (_, token) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let pending = order(
        801,
        31,
        "Ada@Example.com ",
        "pending",
        "2026-11-20T10:00:00",
        &[],
    );
    assert_eq!(
        deliver(&app, "order.created", "d-1", &pending).await,
        "accepted"
    );
    let paid = order(
        801,
        31,
        "ada@example.com",
        "processing",
        "2026-11-20T10:01:00",
        &[],
    );
    assert_eq!(
        deliver(&app, "order.updated", "d-2", &paid).await,
        "accepted"
    );
    let resp = app.admin_get(&token, "/api/admin/v1/customers/31").await;
    assert_eq!(resp.status(), 200);
    let customer: Value = resp.json().await.unwrap();
    assert_eq!(customer["pending_points"], 18, "{customer}");
    assert_eq!(customer["email"], "ada@example.com");
}

#[tokio::test]
async fn refunds_are_taken_back_by_difference_once() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let paid = order(802, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]);
    deliver(&app, "order.created", "d-1", &paid).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
    // A partial refund of 6.00 of the 18.00 that earned: a third of the points.
    let partial = order(
        802,
        0,
        GUEST,
        "processing",
        "2026-11-21T09:00:00",
        &[(901, "-6.00")],
    );
    assert_eq!(
        deliver(&app, "order.updated", "d-2", &partial).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await.1, 12);
    // The next update carries the same refund (a note was added): nothing more goes back.
    let again = order(
        802,
        0,
        GUEST,
        "processing",
        "2026-11-21T09:30:00",
        &[(901, "-6.00")],
    );
    assert_eq!(
        deliver(&app, "order.updated", "d-3", &again).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await.1, 12);
    // Refunded in full: the rest goes back, and only the rest.
    let full = order(
        802,
        0,
        GUEST,
        "refunded",
        "2026-11-22T09:00:00",
        &[(903, "-23.35"), (901, "-6.00")],
    );
    assert_eq!(
        deliver(&app, "order.updated", "d-4", &full).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
    let refunded = app
        .with_db(move |c| {
            use boomerang::db::schema::orders;
            use diesel::prelude::*;
            orders::table
                .filter(orders::shop_id.eq(shop))
                .select(orders::refunded_minor)
                .first::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(refunded, 2935);
}

#[tokio::test]
async fn a_refunded_status_set_by_hand_takes_everything_back() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let paid = order(803, 0, GUEST, "completed", "2026-11-20T10:00:05", &[]);
    deliver(&app, "order.created", "d-1", &paid).await;
    let refunded = order(803, 0, GUEST, "refunded", "2026-11-23T10:00:00", &[]);
    deliver(&app, "order.updated", "d-2", &refunded).await;
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
}

#[tokio::test]
async fn a_cancellation_takes_the_award_back_and_sticks() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let paid = order(804, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]);
    deliver(&app, "order.created", "d-1", &paid).await;
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
    let cancelled = order(804, 0, GUEST, "cancelled", "2026-11-20T12:00:00", &[]);
    assert_eq!(
        deliver(&app, "order.updated", "d-2", &cancelled).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
    // An older paid snapshot arriving late does not award the order again.
    let late = order(804, 0, GUEST, "processing", "2026-11-20T11:00:00", &[]);
    assert_eq!(
        deliver(&app, "order.updated", "d-3", &late).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
}

#[tokio::test]
async fn the_same_delivery_or_the_same_content_is_a_duplicate() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let paid = order(805, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]);
    assert_eq!(
        deliver(&app, "order.created", "d-1", &paid).await,
        "accepted"
    );
    // WooCommerce fired twice for one change: same body, another delivery id.
    assert_eq!(
        deliver(&app, "order.created", "d-2", &paid).await,
        "duplicate"
    );
    // The same delivery id again, whatever the body.
    let later = order(805, 0, GUEST, "completed", "2026-11-20T11:00:00", &[]);
    assert_eq!(
        deliver(&app, "order.updated", "d-1", &later).await,
        "duplicate"
    );
    assert_eq!(stored(&app).await, 1);
    assert_eq!(points(&app, &shop, GUEST).await.1, 18);
}

#[tokio::test]
async fn an_older_snapshot_after_a_newer_one_never_undoes_a_reversal() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    // The newer body (with its refund) arrives first, then the order's creation.
    let newer = order(
        806,
        0,
        GUEST,
        "processing",
        "2026-11-21T12:00:00",
        &[(911, "-6.00")],
    );
    assert_eq!(
        deliver(&app, "order.updated", "d-2", &newer).await,
        "accepted"
    );
    assert_eq!(points(&app, &shop, GUEST).await.1, 12);
    let older = order(806, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]);
    assert_eq!(
        deliver(&app, "order.created", "d-1", &older).await,
        "accepted"
    );
    assert_eq!(
        points(&app, &shop, GUEST).await.1,
        12,
        "the refund stays taken back"
    );
    let (status, updated) = app
        .with_db(move |c| {
            use boomerang::db::schema::orders;
            use diesel::prelude::*;
            orders::table
                .filter(orders::shop_id.eq(shop))
                .select((orders::financial_status, orders::platform_updated_at))
                .first::<(String, chrono::NaiveDateTime)>(c)
                .unwrap()
        })
        .await;
    assert_eq!(status, "partially_refunded", "the newer snapshot is kept");
    assert_eq!(updated.to_string(), "2026-11-21 12:00:00");
}
