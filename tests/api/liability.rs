//! The points liability report adds up the ledger: earned, pending, spent, reversed, expired and
//! outstanding points, valued at the catalog's best fixed-amount rate.

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{order_json, refund_json, session_token, TestApp, SECRET};

const SHOP: &str = "ledgerco.myshopify.com";
const APP_SECRET: &str = "liability-test-app-secret-0123456789abcdef";

#[tokio::test]
async fn the_report_adds_up_the_ledger() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}})),
        )
        .mount(&server)
        .await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    let ada = Some((7001, "ada@example.com"));
    // 1,200 points confirmed, 300 still pending.
    let mut old = order_json(1, ada, "paid", &[(10, 1, "1200.00")]);
    old["created_at"] = json!("2026-10-01T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "o1", &old).await;
    app.confirm_after(&shop_id, 0).await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o2",
        &order_json(2, ada, "paid", &[(20, 1, "300.00")]),
    )
    .await;
    // 100 of the pending 300 refunded; 500 spent on "5 off"; 50 taken away by the owner.
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(9, 2, &[], "100.00"),
    )
    .await;
    let q = format!(
        "shop={SHOP}&logged_in_customer_id=7001&path_prefix=%2Fapps%2Frewards&timestamp={}",
        chrono::Utc::now().timestamp()
    );
    let redeem = app
        .client
        .post(app.url(&format!(
            "/proxy/redeem?{q}&signature={}",
            app_proxy::sign(&q, SECRET)
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(redeem.status(), 200);
    let token = session_token(SHOP);
    app.admin_post(
        &token,
        "/api/admin/v1/customers/7001/adjustments",
        json!({"points": -50, "reason": "Correction"}),
    )
    .await;

    let today = chrono::Utc::now().date_naive();
    let report: serde_json::Value = app
        .admin_get(
            &token,
            &format!("/api/admin/v1/reports/liability?from=2026-01-01&to={today}"),
        )
        .await
        .json()
        .await
        .unwrap();
    let points = |k: &str| {
        report[k]["points"]
            .as_i64()
            .unwrap_or_else(|| panic!("{k} in {report}"))
    };
    assert_eq!(points("earned"), 1500, "{report}");
    assert_eq!(points("reversed"), 100, "{report}");
    assert_eq!(points("spent"), 500, "{report}");
    assert_eq!(points("adjusted_down"), 50, "{report}");
    assert_eq!(points("expired"), 0);
    assert_eq!(points("pending"), 200, "{report}");
    assert_eq!(points("outstanding"), 1200 - 500 - 50, "{report}");
    // The default catalog's best rate: 5.00 for 500 points (1 cent a point).
    assert_eq!(report["outstanding"]["value_minor"], 650);
    assert_eq!(report["currency"], "USD");
    let customer = app.customer(SHOP, "7001").await;
    assert_eq!(
        customer["points_balance"],
        points("outstanding"),
        "the report agrees with the balance"
    );

    let bad = app
        .admin_get(&token, "/api/admin/v1/reports/liability?from=2026-13-01")
        .await;
    assert_eq!(bad.status(), 400);
    let backwards = app
        .admin_get(
            &token,
            "/api/admin/v1/reports/liability?from=2026-11-02&to=2026-11-01",
        )
        .await;
    assert_eq!(backwards.status(), 400);
}

#[tokio::test]
async fn a_report_up_to_the_last_day_chrono_knows_is_refused_not_a_panic() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    for query in [
        "to=+262142-12-31",
        "to=%2B262142-12-31",
        "to=262142-12-31",
        "from=-262143-01-01",
        "from=%2D262143-01-01&to=2026-01-01",
        "to=10000-01-01",
        "from=1969-12-31",
    ] {
        let resp = app
            .admin_get(&token, &format!("/api/admin/v1/reports/liability?{query}"))
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "bad_request", "{query}");
    }
    let widest = app
        .admin_get(
            &token,
            "/api/admin/v1/reports/liability?from=1970-01-01&to=9999-12-31",
        )
        .await;
    assert_eq!(widest.status(), 200);
}

#[tokio::test]
async fn a_signup_bonus_of_i64_max_saved_before_the_caps_fails_its_events_and_the_report_answers() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // A program stored before the caps existed (today's PUT refuses it).
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.find(&shop_id))
            .set(shops::program.eq(r#"{"earning":{"signup_points":9223372036854775807}}"#))
            .execute(c)
            .unwrap();
    })
    .await;
    for id in [7101, 7102] {
        let customer = json!({"id": id, "email": format!("c{id}@example.com"),
            "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"});
        app.deliver(SHOP, "customers/create", &format!("c{id}"), &customer)
            .await;
    }
    let token = session_token(SHOP);
    let failed: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/webhooks?status=failed")
        .await
        .json()
        .await
        .unwrap();
    let events = failed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{failed}");
    assert!(
        events[0]["error"].as_str().unwrap().contains("limit"),
        "{failed}"
    );
    let report = app
        .admin_get(&token, "/api/admin/v1/reports/liability")
        .await;
    assert_eq!(report.status(), 200);
    let report: serde_json::Value = report.json().await.unwrap();
    assert_eq!(report["earned"]["points"], 0, "{report}");
    assert_eq!(report["outstanding"]["points"], 0, "{report}");
}

/// The report's days are the shop's: a line written at 12:00 UTC on 1 June is on 2 June in
/// Kiritimati (UTC+14), so it counts for 2 June there and not for 1 June.
#[tokio::test]
async fn the_reports_days_are_the_shops_days() {
    use boomerang::db::schema::shops;
    use boomerang::domain::points::{LedgerKind, LedgerStatus};
    use boomerang::services::ledger::{post, Posting, WhenShort};
    use diesel::prelude::*;
    let app = TestApp::spawn().await;
    let (shop_id, member_id) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    app.with_db(move |c| {
        diesel::update(shops::table.find(&shop_id))
            .set(shops::timezone.eq("Pacific/Kiritimati"))
            .execute(c)
            .unwrap();
        let at = chrono::NaiveDate::from_ymd_opt(2026, 6, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let posting = Posting {
            shop_id,
            member_id,
            delta: 100,
            kind: LedgerKind::Signup,
            status: LedgerStatus::Confirmed,
            reason: None,
            source: "test".into(),
            source_id: "signup".into(),
            action: "signup".into(),
            detail: None,
            confirms_at: None,
            when_short: WhenShort::Refuse,
        };
        boomerang::db::write_transaction(c, |c| post(c, &posting, at)).unwrap();
    })
    .await;
    let token = session_token(SHOP);
    for (day, earned) in [("2026-06-01", 0), ("2026-06-02", 100)] {
        let report: serde_json::Value = app
            .admin_get(
                &token,
                &format!("/api/admin/v1/reports/liability?from={day}&to={day}"),
            )
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(report["earned"]["points"], earned, "{day}: {report}");
    }
}
