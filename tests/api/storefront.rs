//! `GET {base}/state`: the widget's view, for guests and members, through the app proxy and the
//! widget API. It is a pure read: asking never creates anything.

use diesel::prelude::*;
use serde_json::json;

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{order_json, TestApp, SECRET};

const SHOP: &str = "state.myshopify.com";

fn signed(customer: &str) -> String {
    let q = format!(
        "shop={SHOP}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
        chrono::Utc::now().timestamp()
    );
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

async fn state(app: &TestApp, customer: &str) -> serde_json::Value {
    let resp = app.get(&format!("/proxy/state?{}", signed(customer))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "private, no-store");
    resp.json().await.unwrap()
}

async fn row_counts(app: &TestApp) -> (i64, i64) {
    app.with_db(|c| {
        use boomerang::db::schema::{ledger_entries, members};
        (
            members::table.count().get_result(c).unwrap(),
            ledger_entries::table.count().get_result(c).unwrap(),
        )
    })
    .await
}

#[tokio::test]
async fn a_guest_sees_rewards_and_ways_to_earn_but_no_member() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let body = state(&app, "").await;
    assert_eq!(body["member"], json!(null));
    let rewards = body["rewards"].as_array().unwrap();
    assert_eq!(rewards.len(), 3);
    assert_eq!(
        rewards[0],
        json!({"id": "5-off", "title": "5 off your order", "description": "5.00 USD off your order",
               "kind": "fixed_amount", "points_cost": 500, "affordable": false, "expires_days": 30})
    );
    assert_eq!(body["ways_to_earn"][0]["kind"], "order");
    assert_eq!(body["ways_to_earn"][0]["points"], 1);
    assert_eq!(body["history"], json!([]));
}

#[tokio::test]
async fn a_member_sees_balances_pending_dates_history_and_what_they_can_afford() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let ada = Some((7001, "ada@example.com"));
    let mut old = order_json(1, ada, "paid", &[(10, 1, "600.00")]);
    old["created_at"] = json!("2026-10-01T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "o1", &old).await;
    app.confirm_after(&shop_id, 0).await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o2",
        &order_json(2, ada, "paid", &[(20, 1, "250.00")]),
    )
    .await;
    let body = state(&app, "7001").await;
    let member = &body["member"];
    assert_eq!(member["customer_id"], "7001");
    assert_eq!(member["points_balance"], 600);
    assert_eq!(member["pending_points"], 250);
    assert_eq!(
        member["pending"],
        json!([{"points": 250, "confirms_at": "2026-12-04T00:00:00Z"}])
    );
    for key in ["tier", "next_tier", "points_to_next_tier", "referral_url"] {
        assert!(member.get(key).is_some(), "{key} is part of the contract");
    }
    let affordable: Vec<(&str, bool)> = body["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap(),
                r["affordable"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        affordable,
        [("5-off", true), ("10-off", false), ("free-shipping", false)]
    );
    let history = body["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["status"], "pending");
    assert_eq!(history[0]["reason"], "Order #2");
}

#[tokio::test]
async fn asking_changes_nothing_even_for_an_unknown_customer() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let before = row_counts(&app).await;
    let body = state(&app, "99999").await;
    assert_eq!(body["member"]["points_balance"], 0);
    assert_eq!(body["rewards"][0]["affordable"], false);
    assert_eq!(row_counts(&app).await, before, "no write on read");
}

#[tokio::test]
async fn unsigned_stale_and_foreign_requests_are_refused() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    assert_eq!(
        app.get("/proxy/state?shop=state.myshopify.com&logged_in_customer_id=1")
            .await
            .status(),
        401
    );
    let q = format!(
        "shop={SHOP}&logged_in_customer_id=1&path_prefix=%2Fapps%2Frewards&timestamp={}",
        chrono::Utc::now().timestamp() - 3600
    );
    assert_eq!(
        app.get(&format!(
            "/proxy/state?{q}&signature={}",
            app_proxy::sign(&q, SECRET)
        ))
        .await
        .status(),
        401
    );
    let other = "shop=nobody.myshopify.com&logged_in_customer_id=&path_prefix=%2Fa&timestamp="
        .to_owned()
        + &chrono::Utc::now().timestamp().to_string();
    assert_eq!(
        app.get(&format!(
            "/proxy/state?{other}&signature={}",
            app_proxy::sign(&other, SECRET)
        ))
        .await
        .status(),
        404
    );
    // Widget API: a guest needs no digest; a customer needs the right one.
    assert_eq!(
        app.get(&format!("/widget/v1/state?shop={SHOP}"))
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(&format!(
            "/widget/v1/state?shop={SHOP}&customer=1&digest=00"
        ))
        .await
        .status(),
        401
    );
    let widget_secret = app.keys.widget_secret(&shop_id);
    let digest = hex::encode(boomerang::crypto::hmac_sha256(
        widget_secret.as_bytes(),
        b"1",
    ));
    let ok = app
        .get(&format!(
            "/widget/v1/state?shop={SHOP}&customer=1&digest={digest}"
        ))
        .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_proxy_request_that_repeats_logged_in_customer_id_is_refused() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    // A logged-out shopper who puts `logged_in_customer_id=1` in the storefront URL: Shopify
    // appends its own (empty) one and signs both.
    let q = format!(
        "logged_in_customer_id=1&shop={SHOP}&logged_in_customer_id=&path_prefix=%2Fapps%2Frewards&timestamp={}",
        chrono::Utc::now().timestamp()
    );
    let resp = app
        .get(&format!(
            "/proxy/state?{q}&signature={}",
            app_proxy::sign(&q, SECRET)
        ))
        .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(crate::helpers::error_code(resp).await, "unauthorized");
}
