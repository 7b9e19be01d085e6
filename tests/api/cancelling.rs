//! The owner's cancellation of a redemption (issue 18): the code is deactivated first, the
//! points come back only once Shopify's late usage count has settled, and nothing changes
//! when the code cannot be removed or is still being created.

use serde_json::json;
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer};

use boomerang::services::redeem::USAGE_SETTLES_AFTER;

use crate::helpers::{error_code, session_token, TestApp};
use crate::rewards::{
    balance, crash_mid_redeem, created, mount_deactivate, mount_delete, mount_usage, redeem_as,
    redemption, run_jobs_due_by, setup, SHOP,
};

async fn cancel(app: &TestApp, id: &str) -> reqwest::Response {
    app.admin_post(
        &session_token(SHOP),
        &format!("/api/admin/v1/redemptions/{id}/cancel"),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn a_code_used_minutes_ago_keeps_its_points_when_shopify_counts_the_use_late() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .mount(&server)
        .await;
    mount_deactivate(&server, 1).await;
    // Used a minute ago, not counted yet.
    mount_usage(&server, 0).await;
    let app = setup(&server, 500).await;
    assert_eq!(
        redeem_as(&app, "7001", json!({"reward_id": "5-off"}))
            .await
            .status(),
        200
    );
    let id = redemption(&app).await.0;
    assert_eq!(cancel(&app, &id).await.status(), 202);
    assert_eq!(balance(&app).await, 0);
    // By the time the job runs, Shopify has counted the use.
    server.reset().await;
    mount_usage(&server, 1).await;
    mount_delete(&server, 0).await;
    run_jobs_due_by(&app, USAGE_SETTLES_AFTER).await;
    assert_eq!(balance(&app).await, 0, "the points stay spent");
    assert_eq!(redemption(&app).await.1, "issued");
}

#[tokio::test]
async fn a_code_already_counted_as_used_cannot_be_cancelled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .mount(&server)
        .await;
    mount_deactivate(&server, 1).await;
    mount_usage(&server, 1).await;
    mount_delete(&server, 0).await;
    let app = setup(&server, 500).await;
    redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    let id = redemption(&app).await.0;
    let used = cancel(&app, &id).await;
    assert_eq!(used.status(), 409);
    assert_eq!(error_code(used).await, "conflict");
    assert_eq!(balance(&app).await, 0);
    assert_eq!(redemption(&app).await.1, "issued");
}

#[tokio::test]
async fn cancelling_without_store_api_access_is_refused_and_the_points_stay_spent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(created())
        .mount(&server)
        .await;
    mount_deactivate(&server, 0).await;
    let app = setup(&server, 500).await;
    redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    app.with_db(|c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table)
            .set(shops::access_token_enc.eq(None::<String>))
            .execute(c)
            .unwrap();
    })
    .await;
    let id = redemption(&app).await.0;
    let refused = cancel(&app, &id).await;
    assert_eq!(refused.status(), 503);
    assert_eq!(error_code(refused).await, "unavailable");
    assert_eq!(balance(&app).await, 0);
    assert_eq!(redemption(&app).await.1, "issued");
}

#[tokio::test]
async fn cancelling_a_code_still_being_created_is_refused() {
    let server = MockServer::start().await;
    mount_deactivate(&server, 0).await;
    let app = crash_mid_redeem(&server).await;
    let id = redemption(&app).await.0;
    let refused = cancel(&app, &id).await;
    assert_eq!(refused.status(), 409);
    assert_eq!(error_code(refused).await, "conflict");
    assert_eq!(balance(&app).await, 0);
    assert_eq!(redemption(&app).await.1, "pending");
}
