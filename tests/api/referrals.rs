//! Referrals end to end (issue 12): links, claims, attribution from the paid order, the life
//! of a referral up to the reward, fraud signals, the review queue, caps, affiliates and bad
//! input. Orders are back-dated so their return window has passed or not, as each test needs.

mod affiliates;
mod claims;
mod life;
mod signals;

use chrono::{Duration, Utc};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::models::Shop;
use boomerang::platform::shopify::app_proxy;

use crate::helpers::{session_token, TestApp, SECRET};

pub(crate) const SHOP: &str = "glow.myshopify.com";
pub(crate) const OTHER: &str = "other.myshopify.com";
pub(crate) const APP_SECRET: &str = "referrals-test-app-secret-0123456789abcd";

/// The contract's example program: 10.00 off for the friend (orders of 30.00+), 500 points for
/// the referrer, flagged below 30.00, at most `cap` rewards a month.
pub(crate) fn referral_program(review: &str, cap: u32) -> Value {
    json!({"referrals": {"enabled": true,
        "friend_reward": {"kind": "fixed_amount", "amount_minor": 1000, "min_order_minor": 3000, "expires_days": 30},
        "referrer_reward": {"points": 500},
        "min_order_minor": 3000, "max_rewards_per_month": cap, "review": review}})
}

/// The platform: every discount create succeeds.
pub(crate) async fn platform() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/77"}, "userErrors": []}}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeFreeShippingCreate"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"discountCodeFreeShippingCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/78"}, "userErrors": []}}})),
        )
        .mount(&server)
        .await;
    server
}

/// An app with the shop on the fake platform running `program`; returns the app and shop id.
pub(crate) async fn setup(server: &MockServer, program: Value) -> (TestApp, String) {
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    let resp = put_program(&app, SHOP, program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    (app, shop_id)
}

pub(crate) async fn put_program(app: &TestApp, shop: &str, program: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(shop))
        .json(&program)
        .send()
        .await
        .unwrap()
}

pub(crate) use crate::helpers::order_days_ago;

/// The referrer: customer 7001 (Ada), with one order of her own 100 days ago from her home.
pub(crate) async fn referrer(app: &TestApp) -> String {
    let mut own = order_days_ago(1001, (7001, "ada.lovelace@gmail.com"), 100, "40.00");
    own["shipping_address"] = json!({"address1": "12 Main Street", "address2": "Apt 4", "city": "Springfield", "zip": "12345", "country_code": "US", "phone": "+1 (555) 010-2030"});
    own["browser_ip"] = json!("203.0.113.7");
    own["payment_details"] =
        json!({"credit_card_bin": "424242", "credit_card_number": "•••• •••• •••• 4242"});
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "ada-own", &own).await,
        "accepted"
    );
    code_of(app, SHOP, "7001").await
}

/// A member's referral code as the owner sees it (made on first read).
pub(crate) async fn code_of(app: &TestApp, shop: &str, customer: &str) -> String {
    app.customer(shop, customer).await["referral_code"]
        .as_str()
        .expect("a referral code")
        .to_owned()
}

pub(crate) fn proxy_query(shop: &str, customer: &str) -> String {
    let q = format!(
        "shop={shop}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
        Utc::now().timestamp()
    );
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

/// `POST /proxy/referrals/claim` as a guest from `ip`.
pub(crate) async fn claim_from(
    app: &TestApp,
    shop: &str,
    code: &str,
    email: &str,
    ip: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/proxy/referrals/claim?{}", proxy_query(shop, ""))))
        .header("X-Forwarded-For", ip)
        .json(&json!({"code": code, "email": email}))
        .send()
        .await
        .unwrap()
}

pub(crate) async fn claim(app: &TestApp, code: &str, email: &str) -> reqwest::Response {
    claim_from(app, SHOP, code, email, "198.51.100.1").await
}

/// The shop's referrals, optionally in one status.
pub(crate) async fn referrals(app: &TestApp, status: Option<&str>) -> Vec<Value> {
    let path = match status {
        Some(s) => format!("/api/admin/v1/referrals?status={s}"),
        None => "/api/admin/v1/referrals".to_owned(),
    };
    let resp = app.admin_get(&session_token(SHOP), &path).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["referrals"]
        .as_array()
        .unwrap()
        .clone()
}

/// Runs the confirmation job (which settles referrals) as if `days` had passed.
pub(crate) async fn settle_after(app: &TestApp, shop_id: &str, days: i64) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        boomerang::db::write_transaction(c, |c| {
            let shop = Shop::find(c, &shop_id)?;
            let at = boomerang::db::now() + Duration::days(days);
            boomerang::services::ledger::confirm_due(c, &shop.id, at)?;
            boomerang::services::referrals::settle_due(c, &shop, at)
        })
        .unwrap()
    })
    .await;
}

/// The referral lines of a customer's ledger.
pub(crate) async fn referral_lines(app: &TestApp, customer: &str) -> Vec<Value> {
    let resp = app
        .admin_get(
            &session_token(SHOP),
            &format!("/api/admin/v1/customers/{customer}/ledger"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "referral")
        .cloned()
        .collect()
}

/// How many rows `table` holds (nothing-stored checks).
pub(crate) async fn count(app: &TestApp, table: &'static str) -> i64 {
    app.with_db(move |c| {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<N>(c)
            .unwrap()
            .n
    })
    .await
}
