//! The admin API: session-token auth, tenancy, customer reads, ledger, adjustments.

use serde_json::json;

use crate::helpers::{error_code, session_token, session_token_with, TestApp, SECRET};

const SHOP: &str = "admin-test.myshopify.com";

async fn balance(app: &TestApp, token: &str, customer: &str) -> i64 {
    let body: serde_json::Value = app
        .admin_get(token, &format!("/api/admin/v1/customers/{customer}"))
        .await
        .json()
        .await
        .unwrap();
    body["points_balance"].as_i64().unwrap()
}

#[tokio::test]
async fn reads_a_customer_in_the_contract_shape() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "820982911946154508", "jon@example.com")
        .await;
    let resp = app
        .admin_get(
            &session_token(SHOP),
            "/api/admin/v1/customers/820982911946154508",
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        json!({"customer_id": "820982911946154508", "email": "jon@example.com", "points_balance": 0,
               "pending_points": 0, "lifetime_points": 0, "tier": null, "referral_code": null,
               "tier_name": null, "tier_held_by": "qualified", "next_tier": null,
               "next_tier_name": null, "to_next_tier": 0, "to_keep_tier": 0, "tier_review_at": null,
               "tier_basis": "points_earned", "tier_standing": 0, "next_tier_threshold": null,
               "tier_perks": []})
    );
    let missing = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/1")
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(error_code(missing).await, "not_found");
}

#[tokio::test]
async fn bad_tokens_are_refused() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let path = "/api/admin/v1/customers/1";
    let none = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(error_code(none).await, "unauthorized");
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let now = chrono::Utc::now().timestamp();
    let alg_none = format!(
        "{}.{}.",
        b64(json!({"alg": "none", "typ": "JWT"})),
        b64(
            json!({"iss": format!("https://{SHOP}/admin"), "dest": format!("https://{SHOP}"),
                   "aud": boomerang::config::DEMO_SHOPIFY_API_KEY, "exp": now + 60, "nbf": now - 1})
        )
    );
    let tokens = [
        ("alg none", alg_none),
        (
            "wrong audience",
            session_token_with(SHOP, SECRET, |c| c["aud"] = json!("other-app")),
        ),
        (
            "expired",
            session_token_with(SHOP, SECRET, |c| c["exp"] = json!(now - 60)),
        ),
        (
            "not yet valid",
            session_token_with(SHOP, SECRET, |c| c["nbf"] = json!(now + 120)),
        ),
        (
            "wrong secret",
            session_token_with(SHOP, "not-the-secret", |_| {}),
        ),
        ("garbage", "abc.def.ghi".to_owned()),
        ("unknown shop", session_token("nobody.myshopify.com")),
    ];
    for (what, token) in tokens {
        let resp = app.admin_get(&token, path).await;
        assert_eq!(resp.status(), 401, "{what}");
        assert_eq!(error_code(resp).await, "unauthorized", "{what}");
    }
}

#[tokio::test]
async fn a_session_token_that_expires_in_years_is_refused() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let path = "/api/admin/v1/customers/1";
    let now = chrono::Utc::now().timestamp();
    let years = session_token_with(SHOP, SECRET, |c| c["exp"] = json!(now + 5 * 365 * 86_400));
    let resp = app.admin_get(&years, path).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "unauthorized");
    // Shopify's own one-minute token still works.
    assert_eq!(
        app.admin_get(&session_token(SHOP), path).await.status(),
        200
    );
}

#[tokio::test]
async fn one_shops_token_never_reaches_another_shop() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member("shop-a.myshopify.com", "42", "a@example.com")
        .await;
    app.add_shop_with_member("shop-b.myshopify.com", "43", "b@example.com")
        .await;
    let token_b = session_token("shop-b.myshopify.com");
    let read = app.admin_get(&token_b, "/api/admin/v1/customers/42").await;
    assert_eq!(read.status(), 404);
    let write = app
        .admin_post(
            &token_b,
            "/api/admin/v1/customers/42/adjustments",
            json!({"points": 100, "reason": "x"}),
        )
        .await;
    assert_eq!(write.status(), 404);
    assert_eq!(
        balance(&app, &session_token("shop-a.myshopify.com"), "42").await,
        0
    );
}

#[tokio::test]
async fn adjustments_are_confirmed_at_once_and_never_go_below_zero() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "7", "s@example.com").await;
    let token = session_token(SHOP);
    let path = "/api/admin/v1/customers/7/adjustments";
    let added = app
        .admin_post(&token, path, json!({"points": 250, "reason": "Goodwill"}))
        .await;
    assert_eq!(added.status(), 201);
    let body: serde_json::Value = added.json().await.unwrap();
    assert_eq!(body["points_balance"], 250);
    assert_eq!(body["lifetime_points"], 250);

    let too_much = app
        .admin_post(&token, path, json!({"points": -251, "reason": "Oops"}))
        .await;
    assert_eq!(too_much.status(), 422);
    assert_eq!(error_code(too_much).await, "insufficient_points");
    assert_eq!(
        balance(&app, &token, "7").await,
        250,
        "a refused adjustment changes nothing"
    );

    for (body, code) in [
        (json!({"points": 5, "reason": "  "}), "validation_failed"),
        (json!({"points": 0, "reason": "zero"}), "validation_failed"),
        (
            json!({"points": 100_000_000, "reason": "huge"}),
            "validation_failed",
        ),
        (json!({"points": 5}), "invalid_json"),
        (json!({"points": "5", "reason": "string"}), "invalid_json"),
        (json!({"points": 5.5, "reason": "float"}), "invalid_json"),
        (
            json!({"points": 5, "reason": "r", "extra": true}),
            "invalid_json",
        ),
    ] {
        let resp = app.admin_post(&token, path, body.clone()).await;
        assert!(resp.status().is_client_error(), "{body}");
        assert_eq!(error_code(resp).await, code, "{body}");
    }
    assert_eq!(balance(&app, &token, "7").await, 250);

    let spent = app
        .admin_post(
            &token,
            path,
            json!({"points": -250, "reason": "Correction"}),
        )
        .await;
    assert_eq!(spent.status(), 201);
    assert_eq!(balance(&app, &token, "7").await, 0);

    let ledger: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/customers/7/ledger")
        .await
        .json()
        .await
        .unwrap();
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["delta"], -250);
    assert_eq!(entries[0]["kind"], "adjustment");
    assert_eq!(entries[0]["status"], "confirmed");
    assert_eq!(entries[0]["reason"], "Correction");
    assert!(
        chrono::DateTime::parse_from_rfc3339(entries[0]["created_at"].as_str().unwrap()).is_ok()
    );
}

#[tokio::test]
async fn a_retried_adjustment_with_the_same_idempotency_key_counts_once() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "8", "r@example.com").await;
    let token = session_token(SHOP);
    for expected in [201, 200, 200] {
        let resp = app
            .client
            .post(app.url("/api/admin/v1/customers/8/adjustments"))
            .bearer_auth(&token)
            .header("Idempotency-Key", "retry-1")
            .json(&json!({"points": 40, "reason": "Retry me"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), expected);
    }
    assert_eq!(balance(&app, &token, "8").await, 40);
}

#[tokio::test]
async fn the_owner_reads_the_shop_with_its_widget_secret() {
    let app = TestApp::spawn().await;
    let (shop_id, _) = app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/shop")
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: serde_json::Value = resp.json().await.unwrap();
    let installed_at = body["installed_at"].as_str().unwrap().to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&installed_at).is_ok(),
        "{installed_at}"
    );
    assert_eq!(
        body,
        json!({"domain": SHOP, "platform": "shopify", "currency": "USD", "timezone": "UTC",
               "locale": "en", "installed_at": installed_at,
               "widget_secret": app.keys.widget_secret(&shop_id)})
    );
    let anonymous = app
        .client
        .get(app.url("/api/admin/v1/shop"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// Posts an adjustment with an `Idempotency-Key`.
async fn adjust_with_key(
    app: &TestApp,
    customer: &str,
    key: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/admin/v1/customers/{customer}/adjustments")))
        .bearer_auth(session_token(SHOP))
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn ledger_len(app: &TestApp, customer: &str) -> usize {
    let ledger: serde_json::Value = app
        .admin_get(
            &session_token(SHOP),
            &format!("/api/admin/v1/customers/{customer}/ledger"),
        )
        .await
        .json()
        .await
        .unwrap();
    ledger["entries"].as_array().unwrap().len()
}

#[tokio::test]
async fn the_same_idempotency_key_for_another_customer_is_another_adjustment() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "8", "r@example.com").await;
    let other = json!({"id": 9, "email": "s@example.com",
        "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"});
    app.deliver(SHOP, "customers/create", "c9", &other).await;
    let body = json!({"points": 40, "reason": "Goodwill"});
    let first = adjust_with_key(&app, "8", "monday-batch-1", body.clone()).await;
    assert_eq!(first.status(), 201);
    let second = adjust_with_key(&app, "9", "monday-batch-1", body.clone()).await;
    assert_eq!(second.status(), 201, "another customer: another request");
    let token = session_token(SHOP);
    assert_eq!(balance(&app, &token, "8").await, 40);
    assert_eq!(balance(&app, &token, "9").await, 40);
    let retried = adjust_with_key(&app, "9", "monday-batch-1", body).await;
    assert_eq!(retried.status(), 200);
    assert_eq!(balance(&app, &token, "9").await, 40);
}

#[tokio::test]
async fn an_idempotency_key_reused_with_another_body_is_refused_and_posts_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "8", "r@example.com").await;
    let key = "retry-2";
    let first = adjust_with_key(&app, "8", key, json!({"points": 40, "reason": "Goodwill"})).await;
    assert_eq!(first.status(), 201);
    for other in [
        json!({"points": 400, "reason": "Goodwill"}),
        json!({"points": -40, "reason": "Goodwill"}),
        json!({"points": 40, "reason": "Birthday gift"}),
    ] {
        let resp = adjust_with_key(&app, "8", key, other.clone()).await;
        assert_eq!(resp.status(), 422, "{other}");
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "validation_failed");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{body}"
        );
    }
    assert_eq!(balance(&app, &session_token(SHOP), "8").await, 40);
    assert_eq!(ledger_len(&app, "8").await, 1);
    // The same request again (the reason's surrounding spaces aside) is a replay.
    let same = adjust_with_key(
        &app,
        "8",
        key,
        json!({"points": 40, "reason": " Goodwill "}),
    )
    .await;
    assert_eq!(same.status(), 200);
    for unusable in ["", "   ", &"k".repeat(201)] {
        let resp = adjust_with_key(&app, "8", unusable, json!({"points": 1, "reason": "r"})).await;
        assert_eq!(resp.status(), 400, "{unusable:?}");
    }
    assert_eq!(ledger_len(&app, "8").await, 1, "unusable keys post nothing");
}

#[tokio::test]
async fn an_adjustment_of_i64_min_points_is_refused_not_wrapped_to_zero() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "7", "s@example.com").await;
    let token = session_token(SHOP);
    let path = "/api/admin/v1/customers/7/adjustments";
    for points in [i64::MIN, i64::MIN + 1, i64::MAX, -10_000_001] {
        let resp = app
            .admin_post(
                &token,
                path,
                json!({"points": points, "reason": "Fat finger"}),
            )
            .await;
        assert_eq!(resp.status(), 422, "{points}");
        assert_eq!(error_code(resp).await, "validation_failed", "{points}");
    }
    assert_eq!(ledger_len(&app, "7").await, 0, "nothing posted");
    assert_eq!(balance(&app, &token, "7").await, 0);
}
