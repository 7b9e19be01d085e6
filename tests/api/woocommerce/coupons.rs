//! Rewards become WooCommerce coupons through the shop's REST API (a wiremock fake): bound to
//! the customer's e-mail, single use, expiring; refusals give the points back; a 429 is waited
//! out.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{add_woo_shop, SECRET, SHOP};
use crate::coupon_shops::{self, add_member, grant_points, redemption};
use crate::helpers::TestApp;

const COUPONS: &str = "/wp-json/wc/v3/coupons";
const CUSTOMER: u64 = 31;

/// A shop on the fake site whose customer 31 (ada@example.com) has 1,000 spendable points.
async fn setup(server: &MockServer) -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let (shop_id, token) = add_woo_shop(&app, SHOP, SECRET, Some(&server.uri())).await;
    let id = shop_id.clone();
    app.with_db(move |c| add_member(c, &id, CUSTOMER, "ada@example.com"))
        .await;
    grant_points(&app, &token, CUSTOMER, 1000).await;
    Mock::given(method("GET"))
        .and(path("/wp-json/wc/v3/customers/31"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": 31, "email": "ada@example.com"})),
        )
        .mount(server)
        .await;
    (app, shop_id, token)
}

async fn redeem(app: &TestApp, shop_id: &str) -> reqwest::Response {
    let digest = hex::encode(boomerang::crypto::hmac_sha256(
        app.keys.widget_secret(shop_id).as_bytes(),
        b"31",
    ));
    app.client
        .post(app.url(&format!(
            "/widget/v1/redeem?shop={SHOP}&customer=31&digest={digest}"
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap()
}

/// The points customer 31 can spend.
async fn balance(app: &TestApp, token: &str) -> i64 {
    coupon_shops::balance(app, token, CUSTOMER).await
}

async fn coupon_posts(server: &MockServer) -> Vec<Value> {
    coupon_shops::coupon_posts(server, COUPONS).await
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"id": 719, "code": "whatever"}))
}

#[tokio::test]
async fn a_reward_becomes_a_single_use_coupon_for_the_customers_email() {
    let server = MockServer::start().await;
    // Basic auth with the shop's consumer key and secret ("ck_test:cs_test").
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .and(header("Authorization", "Basic Y2tfdGVzdDpjc190ZXN0"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let (app, shop_id, token) = setup(&server).await;
    let resp = redeem(&app, &shop_id).await;
    assert_eq!(resp.status(), 200);
    let issued: Value = resp.json().await.unwrap();
    let code = issued["code"].as_str().unwrap();
    assert_eq!(balance(&app, &token).await, 500);
    let sent = coupon_posts(&server).await;
    assert_eq!(sent.len(), 1);
    let coupon = &sent[0];
    assert_eq!(coupon["code"], code);
    assert_eq!(coupon["discount_type"], "fixed_cart");
    assert_eq!(coupon["amount"], "5.00");
    assert_eq!(coupon["email_restrictions"], json!(["ada@example.com"]));
    assert_eq!(coupon["usage_limit"], 1);
    let expires = coupon["date_expires_gmt"].as_str().unwrap();
    assert_eq!(coupon["date_expires"].as_str(), Some(expires));
    let expires_at = issued["expires_at"].as_str().unwrap();
    assert!(expires_at.starts_with(expires), "{expires_at} vs {expires}");
    let (_, status, discount) = redemption(&app).await;
    assert_eq!(
        (status.as_str(), discount.as_deref()),
        ("issued", Some("719"))
    );
}

#[tokio::test]
async fn a_refused_coupon_gives_the_points_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "rest_invalid_param", "message": "Invalid parameter(s): amount",
            "data": {"status": 400}})))
        .expect(1)
        .mount(&server)
        .await;
    let (app, shop_id, token) = setup(&server).await;
    let resp = redeem(&app, &shop_id).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "platform_error", "{body}");
    assert_eq!(balance(&app, &token).await, 1000, "the points are back");
}

#[tokio::test]
async fn a_throttled_call_waits_out_retry_after_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let (app, shop_id, token) = setup(&server).await;
    let started = std::time::Instant::now();
    let resp = redeem(&app, &shop_id).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(coupon_posts(&server).await.len(), 2);
    assert_eq!(balance(&app, &token).await, 500);
}

#[tokio::test]
async fn a_coupon_whose_answer_was_lost_is_found_by_its_code() {
    let server = MockServer::start().await;
    // The first attempt made the coupon but its answer was a 502; the retry hears "exists".
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "code": "woocommerce_rest_coupon_code_already_exists",
            "message": "The coupon code already exists", "data": {"status": 400}})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": 720}])))
        .expect(1)
        .mount(&server)
        .await;
    let (app, shop_id, token) = setup(&server).await;
    let resp = redeem(&app, &shop_id).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(balance(&app, &token).await, 500);
}
