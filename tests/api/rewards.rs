//! Redeeming points for discount codes through the app proxy and the widget API, against a
//! local fake of the Shopify Admin API: success, refusals, throttling, outages, concurrency,
//! cancellation. Points are never overspent and never lost.

use serde_json::json;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{error_code, session_token, TestApp, SECRET};

pub(crate) const SHOP: &str = "glow.myshopify.com";
pub(crate) const APP_SECRET: &str = "rewards-test-app-secret-0123456789abcdef";

pub(crate) fn created() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
        "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}}))
}

/// A shop on the fake API with customer 7001 holding `points` spendable points.
pub(crate) async fn setup(server: &MockServer, points: i64) -> TestApp {
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    app.with_db(|c| {
        let shop = boomerang::db::models::Shop::find_by_domain(
            c,
            boomerang::db::types::Platform::Shopify,
            SHOP,
        )
        .unwrap()
        .unwrap();
        crate::helpers::insert_member(c, &shop.id, Some("7001"), Some("ada@example.com"));
    })
    .await;
    if points > 0 {
        let resp = app
            .admin_post(
                &session_token(SHOP),
                "/api/admin/v1/customers/7001/adjustments",
                json!({"points": points, "reason": "test"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    app
}

/// The query string Shopify's app proxy would add, signed.
pub(crate) fn proxy_query(customer: &str, timestamp: i64) -> String {
    let q = format!("shop={SHOP}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={timestamp}");
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

pub(crate) async fn redeem_as(
    app: &TestApp,
    customer: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    let url = app.url(&format!(
        "/proxy/redeem?{}",
        proxy_query(customer, chrono::Utc::now().timestamp())
    ));
    app.client.post(url).json(&body).send().await.unwrap()
}

pub(crate) async fn balance(app: &TestApp) -> i64 {
    app.customer(SHOP, "7001").await["points_balance"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_redemption_creates_a_single_use_code_for_the_customer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .and(body_string_contains("gid://shopify/Customer/7001"))
        .and(body_string_contains("\"usageLimit\":1"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 1200).await;
    let resp = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let code = body["code"].as_str().unwrap();
    assert!(code.starts_with("GLOW-"), "{code}");
    assert_eq!(body["points"], 500);
    assert!(chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).is_ok());
    assert_eq!(balance(&app).await, 700);
    let requests = server.received_requests().await.unwrap();
    assert!(
        String::from_utf8_lossy(&requests[0].body).contains(code),
        "the code sent is the code shown"
    );
}

#[tokio::test]
async fn a_refusal_or_an_outage_returns_the_points() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": null, "userErrors": [{"field": ["basicCodeDiscount", "endsAt"], "message": "Ends at needs to be after starts_at"}]}}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app = setup(&server, 1200).await;
    let refused = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(refused.status(), 502);
    assert_eq!(error_code(refused).await, "platform_error");
    assert_eq!(balance(&app).await, 1200);
    let outage = redeem_as(&app, "7001", json!({"reward_id": "10-off"})).await;
    assert_eq!(outage.status(), 502);
    assert_eq!(balance(&app).await, 1200);
    let ledger: serde_json::Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001/ledger")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "redeem").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "redeem_refund").count(),
        2,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_throttled_call_is_retried_within_the_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": {"cost": {"requestedQueryCost": 10, "throttleStatus": {"maximumAvailable": 1000, "currentlyAvailable": 0, "restoreRate": 100}}}})))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(created())
        .mount(&server)
        .await;
    let app = setup(&server, 600).await;
    let resp = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(balance(&app).await, 100);
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let app = setup(&server, 400).await;
    let poor = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(poor.status(), 422);
    assert_eq!(error_code(poor).await, "insufficient_points");
    let unknown = redeem_as(&app, "7001", json!({"reward_id": "nope"})).await;
    assert_eq!(unknown.status(), 404);
    let guest = redeem_as(&app, "", json!({"reward_id": "5-off"})).await;
    assert_eq!(guest.status(), 401);
    let stale = app
        .client
        .post(app.url(&format!(
            "/proxy/redeem?{}",
            proxy_query("7001", chrono::Utc::now().timestamp() - 600)
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 401);
    let forged = app
        .client
        .post(app.url(&format!(
            "/proxy/redeem?{}",
            proxy_query("7001", chrono::Utc::now().timestamp()).replace("7001", "7002")
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let not_json = redeem_as(&app, "7001", json!({"reward": "5-off"})).await;
    assert_eq!(not_json.status(), 400);
    assert_eq!(balance(&app).await, 400);
}

#[tokio::test]
async fn fifty_parallel_redeems_of_one_balance_give_exactly_one_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created().set_delay(std::time::Duration::from_millis(20)))
        .mount(&server)
        .await;
    let app = setup(&server, 500).await;
    let url = app.url("/proxy/redeem");
    let mut handles = Vec::new();
    for _ in 0..50 {
        let (client, url) = (app.client.clone(), url.clone());
        handles.push(tokio::spawn(async move {
            let q = proxy_query("7001", chrono::Utc::now().timestamp());
            client
                .post(format!("{url}?{q}"))
                .json(&json!({"reward_id": "5-off"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        49,
        "{statuses:?}"
    );
    assert_eq!(balance(&app).await, 0);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "one code asked for"
    );
}

#[tokio::test]
async fn the_owner_can_cancel_an_unused_code_and_the_points_come_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .mount(&server)
        .await;
    mount_deactivate(&server, 1).await;
    mount_usage(&server, 0).await;
    mount_delete(&server, 1).await;
    let app = setup(&server, 500).await;
    assert_eq!(
        redeem_as(&app, "7001", json!({"reward_id": "5-off"}))
            .await
            .status(),
        200
    );
    assert_eq!(balance(&app).await, 0);
    let id = redemption(&app).await.0;
    let token = session_token(SHOP);
    let cancel = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status(), 202);
    let body: serde_json::Value = cancel.json().await.unwrap();
    assert_eq!(body["status"], "cancelling");
    assert!(
        chrono::DateTime::parse_from_rfc3339(body["points_return_at"].as_str().unwrap()).is_ok()
    );
    assert_eq!(
        balance(&app).await,
        0,
        "the points wait for the usage count to settle"
    );
    let again = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(again.status(), 409);
    run_jobs_due_by(&app, boomerang::services::redeem::USAGE_SETTLES_AFTER).await;
    assert_eq!(balance(&app).await, 500);
    assert_eq!(redemption(&app).await.1, "cancelled");
    let settled = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(settled.status(), 409);
    assert_eq!(balance(&app).await, 500);
    let other_shop = app
        .admin_post(
            &session_token("else.myshopify.com"),
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(other_shop.status(), 401);
}

/// Shopify deactivates a code, `times` times.
pub(crate) async fn mount_deactivate(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeDeactivate"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeDeactivate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/1"}, "userErrors": []}}})),
        )
        .expect(times)
        .mount(server)
        .await;
}

/// Shopify reports `uses` for the code (until the mock is replaced).
pub(crate) async fn mount_usage(server: &MockServer, uses: i64) {
    Mock::given(method("POST"))
        .and(body_string_contains("asyncUsageCount"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"codeDiscountNode": {"codeDiscount": {"asyncUsageCount": uses}}}}),
        ))
        .mount(server)
        .await;
}

/// Shopify deletes a code, `times` times.
pub(crate) async fn mount_delete(server: &MockServer, times: u64) {
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeDelete"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeDelete": {"deletedCodeDiscountId": "gid://shopify/DiscountCodeNode/1", "userErrors": []}}})))
        .expect(times)
        .mount(server)
        .await;
}

/// The (id, status) of the shop's only redemption.
pub(crate) async fn redemption(app: &TestApp) -> (String, String) {
    app.with_db(|c| {
        use boomerang::db::schema::redemptions;
        use diesel::prelude::*;
        redemptions::table
            .select((redemptions::id, redemptions::status))
            .first::<(String, String)>(c)
            .unwrap()
    })
    .await
}

/// Runs the jobs that will be due `later` from now, as if that time had passed.
pub(crate) async fn run_jobs_due_by(app: &TestApp, later: chrono::Duration) {
    run_jobs_due_by_with(app, later, APP_SECRET).await;
}

/// [`run_jobs_due_by`] for an app running on another `APP_SECRET`.
pub(crate) async fn run_jobs_due_by_with(app: &TestApp, later: chrono::Duration, app_secret: &str) {
    app.with_db(move |c| {
        use boomerang::db::schema::jobs;
        use diesel::prelude::*;
        diesel::update(jobs::table.filter(jobs::run_at.le(boomerang::db::now() + later)))
            .set(jobs::run_at.eq(boomerang::db::now()))
            .execute(c)
            .unwrap();
    })
    .await;
    let report = boomerang::jobs::run_pending(&app.db, &crate::helpers::job_context(app_secret))
        .await
        .unwrap();
    assert_eq!(
        (report.retried, report.failed),
        (0, 0),
        "every due job done at once"
    );
}

#[tokio::test]
async fn other_platforms_redeem_through_the_widget_api_with_a_customer_digest() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeFreeShippingCreate"))
        .and(body_string_contains("\"destination\":{\"all\":true}"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"discountCodeFreeShippingCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/2"}, "userErrors": []}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 900).await;
    let shop_id = app
        .with_db(|c| {
            boomerang::db::models::Shop::find_by_domain(
                c,
                boomerang::db::types::Platform::Shopify,
                SHOP,
            )
            .unwrap()
            .unwrap()
            .id
        })
        .await;
    let secret =
        boomerang::crypto::Keys::derive(&APP_SECRET.to_owned().into()).widget_secret(&shop_id);
    let digest = hex::encode(boomerang::crypto::hmac_sha256(secret.as_bytes(), b"7001"));
    let url = app.url(&format!(
        "/widget/v1/redeem?shop={SHOP}&customer=7001&digest={digest}"
    ));
    let ok = app
        .client
        .post(&url)
        .json(&json!({"reward_id": "free-shipping"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(balance(&app).await, 100);
    let bad = app
        .client
        .post(app.url(&format!(
            "/widget/v1/redeem?shop={SHOP}&customer=7001&digest={}",
            "00".repeat(32)
        )))
        .json(&json!({"reward_id": "5-off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
}

/// A platform whose call never returns: the process "dies" while asking for the code.
pub(crate) struct DiesMidCall;

impl boomerang::platform::PlatformApi for DiesMidCall {
    async fn create_discount(
        &self,
        _: &boomerang::platform::ShopCredentials,
        _: &boomerang::platform::DiscountRequest,
    ) -> Result<String, boomerang::platform::ApiError> {
        panic!("the process died here")
    }
    async fn find_discount(
        &self,
        _: &boomerang::platform::ShopCredentials,
        _: &str,
    ) -> Result<Option<String>, boomerang::platform::ApiError> {
        unreachable!()
    }
    async fn discount_used(
        &self,
        _: &boomerang::platform::ShopCredentials,
        _: &str,
    ) -> Result<bool, boomerang::platform::ApiError> {
        unreachable!()
    }
    async fn deactivate_discount(
        &self,
        _: &boomerang::platform::ShopCredentials,
        _: &str,
    ) -> Result<(), boomerang::platform::ApiError> {
        unreachable!()
    }
    async fn delete_discount(
        &self,
        _: &boomerang::platform::ShopCredentials,
        _: &str,
    ) -> Result<(), boomerang::platform::ApiError> {
        unreachable!()
    }
}

/// Redeems with `DiesMidCall`, then lets the recovery job run against `server`.
async fn crash_then_recover(server: &MockServer) -> TestApp {
    let app = crash_mid_redeem(server).await;
    // Time passes: the recovery job falls due.
    run_jobs_due_by(&app, boomerang::services::redeem::RECOVER_AFTER).await;
    app
}

/// A shop where customer 7001's redemption of 500 points died while asking for the code: the
/// redemption is pending, the points held.
pub(crate) async fn crash_mid_redeem(server: &MockServer) -> TestApp {
    let app = setup(server, 500).await;
    let shop = app
        .with_db(|c| {
            boomerang::db::models::Shop::find_by_domain(
                c,
                boomerang::db::types::Platform::Shopify,
                SHOP,
            )
            .unwrap()
            .unwrap()
        })
        .await;
    let keys = boomerang::crypto::Keys::derive(&APP_SECRET.to_owned().into());
    let db = app.db.clone();
    let crashed = tokio::spawn(async move {
        boomerang::services::redeem::redeem(&db, &DiesMidCall, &keys, &shop, "7001", "5-off", None)
            .await
    });
    assert!(crashed.await.is_err(), "the redemption died mid-call");
    assert_eq!(
        balance(&app).await,
        0,
        "points are held while the redemption is pending"
    );
    app
}

#[tokio::test]
async fn a_crash_before_the_code_was_created_returns_the_points() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": {"codeDiscountNodeByCode": null}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let app = crash_then_recover(&server).await;
    assert_eq!(balance(&app).await, 500);
}

#[tokio::test]
async fn a_crash_after_the_code_was_created_keeps_the_redemption() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("codeDiscountNodeByCode"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"data": {"codeDiscountNodeByCode": {"id": "gid://shopify/DiscountCodeNode/9"}}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let app = crash_then_recover(&server).await;
    assert_eq!(balance(&app).await, 0);
    let status = app
        .with_db(|c| {
            use boomerang::db::schema::redemptions;
            use diesel::prelude::*;
            redemptions::table
                .select(redemptions::status)
                .first::<String>(c)
                .unwrap()
        })
        .await;
    assert_eq!(status, "issued");
}

#[tokio::test]
async fn the_catalog_is_editable_through_the_program() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"percentage\":0.15"))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 3000).await;
    let token = session_token(SHOP);
    let program: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = program["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["5-off", "10-off", "free-shipping"],
        "the default catalog"
    );
    assert_eq!(program["rewards"][0]["kind"], "fixed_amount");
    assert_eq!(program["rewards"][0]["amount_minor"], 500);
    assert_eq!(program["code_prefix"], "GLOW");

    let put = |body: serde_json::Value| {
        app.client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let catalog = json!({"rewards": [
        {"id": "vip-15", "title": "15% off", "kind": "percent", "percent": 15, "points_cost": 2000, "min_order_minor": 5000, "expires_days": 7},
        {"id": "old", "title": "Retired", "kind": "fixed_amount", "amount_minor": 100, "points_cost": 100, "active": false}
    ], "code_prefix": "VIP"});
    assert_eq!(put(catalog).await.unwrap().status(), 200);
    for bad in [
        json!({"rewards": [{"id": "x", "title": "t", "kind": "percent", "percent": 150, "points_cost": 10}]}),
        json!({"rewards": [{"id": "a", "title": "t", "kind": "percent", "percent": 10, "points_cost": 10},
                           {"id": "a", "title": "t", "kind": "percent", "percent": 10, "points_cost": 10}]}),
        json!({"code_prefix": "no spaces"}),
    ] {
        assert_eq!(put(bad.clone()).await.unwrap().status(), 422, "{bad}");
    }
    let unknown_kind = put(
        json!({"rewards": [{"id": "x", "title": "t", "kind": "gift_card", "points_cost": 10}]}),
    )
    .await
    .unwrap();
    assert_eq!(unknown_kind.status(), 422, "JSON, but not a reward");

    let retired = redeem_as(&app, "7001", json!({"reward_id": "old"})).await;
    assert_eq!(retired.status(), 403);
    let gone = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(gone.status(), 404, "replaced catalogs drop old rewards");
    let ok = redeem_as(&app, "7001", json!({"reward_id": "vip-15"})).await;
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert!(body["code"].as_str().unwrap().starts_with("VIP-"));
    assert_eq!(balance(&app).await, 1000);
}

#[tokio::test]
async fn a_variable_reward_spends_the_points_asked_in_whole_units() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"amount\":\"4.00\""))
        .respond_with(created())
        .expect(1)
        .mount(&server)
        .await;
    let app = setup(&server, 1000).await;
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(
            &json!({"rewards": [{"id": "slider", "title": "Points off", "kind": "variable",
            "points_per_unit": 100, "min_points": 100, "max_points": 800, "points_cost": 100}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let missing = redeem_as(&app, "7001", json!({"reward_id": "slider"})).await;
    assert_eq!(missing.status(), 422);
    let too_many = redeem_as(&app, "7001", json!({"reward_id": "slider", "points": 900})).await;
    assert_eq!(too_many.status(), 422);
    let ok = redeem_as(&app, "7001", json!({"reward_id": "slider", "points": 450})).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<serde_json::Value>().await.unwrap()["points"], 400);
    assert_eq!(balance(&app).await, 600);
}

#[tokio::test]
async fn a_variable_reward_with_max_points_i64_max_is_refused_and_i64_min_points_are_not_asked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created())
        .expect(0)
        .mount(&server)
        .await;
    let app = setup(&server, 1000).await;
    let put = |max_points: i64| {
        app.client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(session_token(SHOP))
            .json(&json!({"rewards": [{"id": "slider", "title": "Points off", "kind": "variable",
                "points_per_unit": 1, "min_points": 1, "max_points": max_points, "points_cost": 1}]}))
            .send()
    };
    // i64::MAX points at one cent each once reached Shopify as a `-1.00` discount.
    let huge = put(i64::MAX).await.unwrap();
    assert_eq!(huge.status(), 422);
    assert!(huge.text().await.unwrap().contains("max_points"));
    assert_eq!(put(10_000_000).await.unwrap().status(), 200);
    for points in [i64::MIN, i64::MIN + 1, -1, 0, i64::MAX] {
        let resp = redeem_as(
            &app,
            "7001",
            json!({"reward_id": "slider", "points": points}),
        )
        .await;
        assert_eq!(resp.status(), 422, "{points}");
    }
    assert_eq!(balance(&app).await, 1000, "nothing spent");
}

#[tokio::test]
async fn a_field_a_reward_does_not_have_is_refused_naming_it() {
    let server = MockServer::start().await;
    let app = setup(&server, 0).await;
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(
            &json!({"rewards": [{"id": "p", "title": "10% off", "kind": "percent",
            "percent": 10, "points_cost": 100, "expire_days": 7}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "validation_failed");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `expire_days`"),
        "{body}"
    );
}
