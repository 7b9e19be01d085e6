//! BigCommerce shops through the real HTTP path: thin webhooks (`store/order/*`, the documented
//! fixtures) verified and stored, the order then read by a job from a fake BigCommerce API
//! (wiremock) as one document, and earning, refunds (14 partial, 4 full), cancellation (5),
//! duplicates and out-of-order deliveries (`earning.rs`). Receipt (signatures, shapes) is in
//! `receiving.rs`, the API's failures in `fetching.rs`, reconciliation in `reconcile.rs`.

mod backfill;
mod earning;
mod erasure;
mod fetching;
mod program;
mod receiving;
mod reconcile;

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::types::Platform;
use boomerang::jobs::{self, JobContext};

use crate::helpers::{backdate_install, fixture, job_context, TestApp, TEST_APP_SECRET};

pub(crate) const HASH: &str = "abc123";
pub(crate) const SHOP: &str = "store-abc123";
/// The shop's own secret, sent back in `X-Boomerang-Webhook-Secret` by its hooks.
pub(crate) const SECRET: &str = "bc-webhook-secret-a";
/// The app's client secret: the key of Standard Webhooks signatures.
pub(crate) const CLIENT_SECRET: &str = "bc-client-secret";
pub(crate) const TOKEN: &str = "bc-access-token";
pub(crate) const GUEST: &str = "jane.doe@example.com";

/// An app with BigCommerce credentials configured.
pub(crate) async fn spawn() -> TestApp {
    TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", "bc-client-id"),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .await
}

/// A BigCommerce shop added as `boomerang shop add` would (install dated before the test
/// orders), its API at `api`; returns (shop id, admin API key).
pub(crate) async fn add_bc_shop(
    app: &TestApp,
    domain: &str,
    secret: &str,
    api: &str,
) -> (String, String) {
    let (domain, secret, api) = (domain.to_owned(), secret.to_owned(), api.to_owned());
    let keys = app.keys.clone();
    app.with_db(move |c| {
        let spec = boomerang::services::shops::ShopSpec {
            platform: Some(Platform::BigCommerce),
            domain,
            access_token: Some(TOKEN.into()),
            webhook_secret: Some(secret),
            api_base: Some(api),
            currency: Some("USD".into()),
            ..Default::default()
        };
        let added = boomerang::services::shops::add_shop(c, &keys, &spec).unwrap();
        backdate_install(c, &added.shop.id);
        (added.shop.id, added.admin_api_key.unwrap())
    })
    .await
}

/// A test app, a fake BigCommerce API and the test shop on it.
pub(crate) async fn setup() -> (TestApp, MockServer, JobContext, String) {
    let server = MockServer::start().await;
    let app = spawn().await;
    let (shop_id, _) = add_bc_shop(&app, SHOP, SECRET, &server.uri()).await;
    (app, server, job_context(TEST_APP_SECRET), shop_id)
}

/// A thin webhook body of `scope` about `order_id`, as the documented fixture.
pub(crate) fn thin(scope: &str, order_id: u64, hash: &str) -> Value {
    let mut body: Value =
        serde_json::from_str(&fixture("bigcommerce/store_order_created.json")).unwrap();
    body["scope"] = json!(scope);
    body["data"]["id"] = json!(order_id);
    body["hash"] = json!(hash);
    body["producer"] = json!(format!("stores/{HASH}"));
    body
}

/// Posts `body` to `domain`'s webhook URL with the custom header secret.
pub(crate) async fn post(
    app: &TestApp,
    domain: &str,
    body: &str,
    secret: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/webhooks/bigcommerce/{domain}")))
        .header("Content-Type", "application/json")
        .header("X-Boomerang-Webhook-Secret", secret)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// Delivers a thin webhook to the test shop; returns the answer's `status`.
pub(crate) async fn deliver(app: &TestApp, body: &Value) -> String {
    let resp = post(app, SHOP, &body.to_string(), SECRET).await;
    assert_eq!(resp.status(), 200, "{body}");
    let answer: Value = resp.json().await.unwrap();
    answer["status"].as_str().unwrap().to_owned()
}

/// The order document of the fixture as `order_id`, placed by `customer` (0: guest) in
/// `status_id`, last modified `modified` (RFC 2822), with `refunds` (id, amount).
pub(crate) fn document(
    order_id: u64,
    customer: u64,
    status_id: i64,
    modified: &str,
    refunds: &[(u64, f64)],
) -> Value {
    let mut doc: Value = serde_json::from_str(&fixture("bigcommerce/order_document.json")).unwrap();
    doc["order"]["id"] = json!(order_id);
    doc["order"]["customer_id"] = json!(customer);
    doc["order"]["status_id"] = json!(status_id);
    doc["order"]["date_modified"] = json!(modified);
    // What the refunds add up to, as BigCommerce reports it on the order itself.
    // (A fold from +0.0: `sum` of nothing is −0.0, which prints as "-0.0000".)
    let refunded = refunds.iter().fold(0.0, |sum, (_, amount)| sum + amount);
    doc["order"]["refunded_amount"] = json!(format!("{refunded:.4}"));
    doc["refunds"] = refunds
        .iter()
        .map(|(id, amount)| {
            json!({"id": id, "order_id": order_id, "user_id": 1,
                   "created": "2026-11-21T09:00:00+00:00", "reason": "", "total_amount": amount,
                   "total_tax": 0, "items": [{"item_type": "ORDER", "item_id": order_id,
                   "requested_amount": amount}],
                   "payments": [{"id": id, "provider_id": "storecredit", "amount": amount,
                                 "offline": false, "is_declined": false}]})
        })
        .collect();
    doc
}

/// Serves `doc` on the fake API: the order, its products, coupons and refunds (each mock
/// answering at most `times` times when given, so a later mount can take over).
pub(crate) async fn serve(server: &MockServer, doc: &Value, times: Option<u64>) {
    let id = doc["order"]["id"].as_u64().unwrap();
    let base = format!("/stores/{HASH}");
    let parts = [
        (format!("{base}/v2/orders/{id}"), doc["order"].clone()),
        (
            format!("{base}/v2/orders/{id}/products"),
            doc["products"].clone(),
        ),
        (
            format!("{base}/v2/orders/{id}/coupons"),
            doc["coupons"].clone(),
        ),
        (
            format!("{base}/v3/orders/{id}/payment_actions/refunds"),
            json!({"data": doc["refunds"], "meta": {}}),
        ),
    ];
    // The app asks for refunds only when the order says money went back (or is refunded):
    // a mock it never calls would answer a later read meant for another mount.
    let refunded = doc["order"]["refunded_amount"] != json!("0.0000")
        || matches!(doc["order"]["status_id"].as_i64(), Some(4 | 14));
    let parts = if refunded { &parts[..] } else { &parts[..3] };
    for (at, answer) in parts.iter().cloned() {
        let mock = Mock::given(method("GET"))
            .and(path(at))
            .and(header("x-auth-token", TOKEN))
            .respond_with(ResponseTemplate::new(200).set_body_json(answer));
        match times {
            Some(n) => mock.up_to_n_times(n).mount(server).await,
            None => mock.mount(server).await,
        }
    }
}

/// Runs every due job (the order reads) and the applier.
pub(crate) async fn run_jobs(app: &TestApp, ctx: &JobContext) -> jobs::RunReport {
    jobs::run_pending(&app.db, ctx).await.unwrap()
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

/// How many BigCommerce events are stored under `topic`, in any shop.
pub(crate) async fn stored(app: &TestApp, topic: &str) -> i64 {
    let topic = topic.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::inbox_events;
        use diesel::prelude::*;
        inbox_events::table
            .filter(inbox_events::platform.eq("bigcommerce"))
            .filter(inbox_events::topic.eq(topic))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// How many order reads are queued.
pub(crate) async fn queued_reads(app: &TestApp) -> i64 {
    app.with_db(|c| {
        use boomerang::db::schema::jobs;
        use diesel::prelude::*;
        jobs::table
            .filter(jobs::kind.eq("fetch_bigcommerce_order"))
            .filter(jobs::status.eq("queued"))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// The stored order's (financial status, platform update time, refunded minor units).
pub(crate) async fn order_row(app: &TestApp, shop_id: &str) -> (String, String, i64) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::orders;
        use diesel::prelude::*;
        let (status, updated, refunded) = orders::table
            .filter(orders::shop_id.eq(shop_id))
            .select((
                orders::financial_status,
                orders::platform_updated_at,
                orders::refunded_minor,
            ))
            .first::<(String, chrono::NaiveDateTime, i64)>(c)
            .unwrap();
        (status, updated.to_string(), refunded)
    })
    .await
}

pub(crate) const DOCUMENTS: &str = "bigcommerce/order.document";
