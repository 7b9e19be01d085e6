//! Adjusting the points of a customer the app has not seen yet asks Shopify about them (a local
//! fake) and enrols them; `404` only when Shopify does not know them, `502` when it cannot be
//! asked, and nothing is created in either case. Both backends.

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{error_code, session_token, TestApp};

const SHOP: &str = "customer-enrol.myshopify.com";
const APP_SECRET: &str = "enrol-app-secret-0123456789abcdef0123";
const GRAPHQL: &str = "/admin/api/2025-10/graphql.json";

async fn setup() -> (TestApp, MockServer) {
    let server = MockServer::start().await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    (app, server)
}

async fn adjust(app: &TestApp, customer: &str) -> reqwest::Response {
    app.admin_post(
        &session_token(SHOP),
        &format!("/api/admin/v1/customers/{customer}/adjustments"),
        json!({"points": 30, "reason": "goodwill"}),
    )
    .await
}

async fn members(app: &TestApp) -> i64 {
    app.with_db(|c| {
        use boomerang::db::schema::members;
        use diesel::prelude::*;
        members::table.count().get_result::<i64>(c).unwrap()
    })
    .await
}

#[tokio::test]
async fn a_customer_shopify_knows_is_enrolled_and_adjusted() {
    let (app, server) = setup().await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(body_string_contains("gid://shopify/Customer/5551"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": {
            "id": "gid://shopify/Customer/5551", "firstName": "Nadia", "lastName": "Haddad",
            "defaultEmailAddress": {"emailAddress": "Nadia@Example.com"}}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let before = members(&app).await;
    let resp = adjust(&app, "5551").await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["points_balance"], 30);
    assert_eq!(body["email"], "nadia@example.com");
    assert_eq!(members(&app).await, before + 1);
    // Known now: the next adjustment does not ask again (the mock expects one call).
    assert_eq!(adjust(&app, "5551").await.status(), 201);
    assert_eq!(app.customer(SHOP, "5551").await["points_balance"], 60);
}

#[tokio::test]
async fn a_customer_shopify_does_not_know_is_404_and_an_outage_is_502_and_nothing_is_created() {
    let (app, server) = setup().await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(body_string_contains("gid://shopify/Customer/5552"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"customer": null}})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(body_string_contains("gid://shopify/Customer/5553"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let before = members(&app).await;
    let unknown = adjust(&app, "5552").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(error_code(unknown).await, "not_found");
    let outage = adjust(&app, "5553").await;
    assert_eq!(outage.status(), 502);
    assert_eq!(error_code(outage).await, "platform_error");
    // Not an id Shopify could have: not asked at all.
    assert_eq!(adjust(&app, "not-an-id").await.status(), 404);
    assert_eq!(members(&app).await, before);
}
