//! BigCommerce shops: rewards become v2 coupons through the store's REST API (a wiremock fake
//! at the shop's `--api-base`): the body checked, refusals giving the points back, a taken code
//! found again, a throttled call waited out, a free product refused before any call. An owner's
//! cancellation is in `cancelling.rs`; the storefront widget reading the shopper from
//! BigCommerce's current-customer token in `widget.rs`, and in a real browser in
//! `browser/bigcommerce.rs`.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use boomerang::db::models::Shop;
use boomerang::db::types::Platform;
use boomerang::db::DatabaseUrl;
use boomerang::platform::bigcommerce::current_customer;

use crate::coupon_shops::{self, add_member, grant_points, redemption};
use crate::helpers::{TestApp, TEST_APP_SECRET};

mod cancelling;
mod widget;

pub(crate) const HASH: &str = "abc123";
pub(crate) const SHOP: &str = "store-abc123";
const ACCESS_TOKEN: &str = "bc-access-token";
pub(crate) const CLIENT_ID: &str = "bc-client-id";
pub(crate) const CLIENT_SECRET: &str = "bc-client-secret";
pub(crate) const CUSTOMER: u64 = 4927;
const COUPONS: &str = "/stores/abc123/v2/coupons";

/// The app, with the BigCommerce app's credentials, and a BigCommerce store added as
/// `boomerang shop add --platform bigcommerce --domain store-abc123 --access-token …
/// --api-base {fake}` would, whose customer 4927 has 1,000 spendable points. Returns the app
/// and the shop's admin API key.
pub(crate) async fn setup(server: &MockServer) -> (TestApp, String) {
    let app = TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", CLIENT_ID),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
    ])
    .await;
    // `shop add` queues the history backfill: the store has no orders.
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders")))
        .respond_with(ResponseTemplate::new(204))
        .mount(server)
        .await;
    let token = add_store(&app, SHOP, Some(&server.uri())).await;
    grant_points(&app, &token, CUSTOMER, 1000).await;
    (app, token)
}

/// Adds a BigCommerce store with `boomerang shop add --platform bigcommerce --domain …
/// --access-token … [--api-base …]`, and its member (customer 4927); returns the admin API key
/// the command printed.
pub(crate) async fn add_store(app: &TestApp, domain: &str, api_base: Option<&str>) -> String {
    let database_url = match &app.config.database_url {
        DatabaseUrl::Sqlite(file) => format!("sqlite://{}", file.display()),
        DatabaseUrl::Postgres(url) => url.clone(),
    };
    let mut args = vec![
        "shop".to_owned(),
        "add".into(),
        "--platform".into(),
        "bigcommerce".into(),
        "--domain".into(),
        domain.into(),
        "--access-token".into(),
        ACCESS_TOKEN.into(),
        "--currency".into(),
        "USD".into(),
    ];
    if let Some(base) = api_base {
        args.extend(["--api-base".to_owned(), base.to_owned()]);
    }
    let out = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir().unwrap();
        assert_cmd::Command::cargo_bin("boomerang")
            .unwrap()
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("APP_SECRET", TEST_APP_SECRET)
            .env("RUST_LOG", "warn")
            .timeout(std::time::Duration::from_secs(60))
            .args(args)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out).unwrap();
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("admin API key"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_else(|| panic!("no admin API key in {stdout}"))
        .to_owned();
    let domain = domain.to_owned();
    app.with_db(move |c| {
        let shop = Shop::find_by_domain(c, Platform::BigCommerce, &domain)
            .unwrap()
            .unwrap();
        crate::helpers::backdate_install(c, &shop.id);
        add_member(c, &shop.id, CUSTOMER, "ada@example.com");
    })
    .await;
    key
}

/// A current-customer token as the storefront would get it for customer 4927 of `hash`.
pub(crate) fn customer_token(hash: &str, secret: &str, issued_ago: i64) -> String {
    let iat = chrono::Utc::now().timestamp() - issued_ago;
    current_customer::sign(CLIENT_ID, secret, hash, CUSTOMER, iat, iat + 900).unwrap()
}

pub(crate) fn fresh_token() -> String {
    customer_token(HASH, CLIENT_SECRET, 0)
}

async fn redeem(app: &TestApp) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/widget/v1/redeem?shop={SHOP}&bc_token={}",
            fresh_token()
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap()
}

/// The points customer 4927 can spend.
async fn balance(app: &TestApp, token: &str) -> i64 {
    coupon_shops::balance(app, token, CUSTOMER).await
}

async fn coupon_posts(server: &MockServer) -> Vec<Value> {
    coupon_shops::coupon_posts(server, COUPONS).await
}

fn created() -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(json!({"id": 41, "num_uses": 0}))
}

#[tokio::test]
async fn a_reward_becomes_a_single_use_bigcommerce_coupon() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .and(header("X-Auth-Token", ACCESS_TOKEN))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let (app, token) = setup(&server).await;
    let resp = redeem(&app).await;
    assert_eq!(resp.status(), 200);
    let issued: Value = resp.json().await.unwrap();
    let code = issued["code"].as_str().unwrap();
    assert_eq!(balance(&app, &token).await, 500);
    let sent = coupon_posts(&server).await;
    assert_eq!(sent.len(), 1);
    let coupon = &sent[0];
    assert_eq!(coupon["code"], code);
    assert_eq!(coupon["type"], "per_total_discount");
    assert_eq!(coupon["amount"], "5.00");
    assert_eq!(coupon["enabled"], true);
    assert_eq!(
        coupon["applies_to"],
        json!({"entity": "categories", "ids": [0]})
    );
    assert_eq!(
        (
            coupon["max_uses"].as_u64(),
            coupon["max_uses_per_customer"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert!(coupon["name"].as_str().unwrap().contains(code), "{coupon}");
    // The expiry goes as RFC 2822, the same instant the shopper is told.
    let expires =
        chrono::DateTime::parse_from_rfc2822(coupon["expires"].as_str().unwrap()).unwrap();
    let told =
        chrono::DateTime::parse_from_rfc3339(issued["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(expires, told);
    let (_, status, discount) = redemption(&app).await;
    assert_eq!(
        (status.as_str(), discount.as_deref()),
        ("issued", Some("41"))
    );
}

#[tokio::test]
async fn a_refused_coupon_gives_the_points_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(422).set_body_json(json!([
            {"status": 422, "message": "The field 'amount' is invalid."}])))
        .expect(1)
        .mount(&server)
        .await;
    let (app, token) = setup(&server).await;
    let resp = redeem(&app).await;
    assert!(resp.status().is_server_error(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "platform_error", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("amount"),
        "{body}"
    );
    assert_eq!(balance(&app, &token).await, 1000, "the points are back");
    assert_eq!(redemption(&app).await.1, "failed");
}

#[tokio::test]
async fn a_free_product_reward_is_refused_before_any_call_and_the_points_stay() {
    let server = MockServer::start().await;
    let (app, token) = setup(&server).await;
    let reward = json!({"rewards": [{"id": "free-mug", "title": "A free mug",
        "kind": "free_product", "variant_id": "4001", "points_cost": 300}]});
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&reward)
        .send()
        .await
        .unwrap();
    // Refused when saved, naming the reward...
    assert_eq!(put.status(), 422);
    let refused: Value = put.json().await.unwrap();
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("\"free-mug\"") && message.contains("every unit"),
        "{refused}"
    );
    // ...and at redemption too, for a program saved before saving refused it.
    let stored = reward.to_string();
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table)
            .set(shops::program.eq(stored))
            .execute(c)
            .unwrap();
    })
    .await;
    let resp = app
        .client
        .post(app.url(&format!(
            "/widget/v1/redeem?shop={SHOP}&bc_token={}",
            fresh_token()
        )))
        .json(&json!({"reward_id": "free-mug"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("free unit"),
        "{body}"
    );
    assert_eq!(balance(&app, &token).await, 1000);
    // `shop add` read the store's settings from the fake; no coupon call was made.
    let coupon_calls = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().contains("/coupons"))
        .count();
    assert_eq!(coupon_calls, 0);
}

/// Answers a coupon listing by code with the coupon of that code.
struct ListsTheCode;

impl Respond for ListsTheCode {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let code = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!([{"id": 42, "code": code, "num_uses": 0}]))
    }
}

#[tokio::test]
async fn a_taken_code_from_a_lost_attempt_is_found_by_its_code() {
    let server = MockServer::start().await;
    // The first attempt made the coupon but its answer was a 502; the retry hears "taken".
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!([
            {"status": 409, "message": "The field 'code' must be unique."}])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(COUPONS))
        .respond_with(ListsTheCode)
        .expect(1)
        .mount(&server)
        .await;
    let (app, token) = setup(&server).await;
    let resp = redeem(&app).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(balance(&app, &token).await, 500);
    assert_eq!(redemption(&app).await.2.as_deref(), Some("42"));
}

#[tokio::test]
async fn a_throttled_call_waits_out_the_rate_limit_window_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(
            ResponseTemplate::new(429).insert_header("X-Rate-Limit-Time-Reset-Ms", "1000"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let (app, token) = setup(&server).await;
    let started = std::time::Instant::now();
    let resp = redeem(&app).await;
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(900));
    assert_eq!(coupon_posts(&server).await.len(), 2);
    assert_eq!(balance(&app, &token).await, 500);
}

#[tokio::test]
async fn a_store_without_its_own_api_base_is_called_at_bigcommerce_api_base() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .and(header("X-Auth-Token", ACCESS_TOKEN))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let app = TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", CLIENT_ID),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
        ("BIGCOMMERCE_API_BASE", &server.uri()),
    ])
    .await;
    let token = add_store(&app, SHOP, None).await;
    grant_points(&app, &token, CUSTOMER, 1000).await;
    assert_eq!(redeem(&app).await.status(), 200);
    assert_eq!(balance(&app, &token).await, 500);
}
