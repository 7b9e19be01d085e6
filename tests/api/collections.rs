//! Collection multipliers: the members of a named collection are synced from the (fake) Admin
//! API, and orders of its products earn the collection's multiplier.

use serde_json::json;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::jobs;

use crate::helpers::{job_context, session_token, TestApp};

const SHOP: &str = "collections.myshopify.com";
const APP_SECRET: &str = "collections-test-app-secret-0123456789abcdef";

fn order(id: u64, product: u64) -> serde_json::Value {
    let mut o = crate::helpers::order_json(
        id,
        Some((4242, "c@example.com")),
        "paid",
        &[(id * 10, 1, "100.00")],
    );
    o["line_items"][0]["product_id"] = json!(product);
    o
}

#[tokio::test]
async fn products_of_a_synced_collection_earn_its_multiplier() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/admin/api/2025-10/graphql.json"))
        .and(body_string_contains("gid://shopify/Collection/77"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"collection": {"products": {
                "pageInfo": {"hasNextPage": false, "endCursor": "x"},
                "nodes": [{"id": "gid://shopify/Product/501"}, {"id": "gid://shopify/Product/502"}]
            }}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&json!({"earning": {"collection_multipliers": [{"collection_id": "77", "multiplier_pct": 200}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let ctx = job_context(APP_SECRET);
    // Only the sync the program change queued: no reconcile or other API traffic in this test.
    let report = jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!((report.done, report.failed), (1, 0));

    app.deliver(SHOP, "orders/paid", "in", &order(1, 501)).await;
    assert_eq!(
        app.customer(SHOP, "4242").await["pending_points"],
        200,
        "double points in the collection"
    );
    app.deliver(SHOP, "orders/paid", "out", &order(2, 999))
        .await;
    assert_eq!(
        app.customer(SHOP, "4242").await["pending_points"],
        300,
        "normal points outside it"
    );
}
