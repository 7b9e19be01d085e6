//! An owner cancels a BigCommerce redemption: the coupon is switched off (`enabled: false`,
//! `applies_to` sent again so the PUT does not clear it), its use count read, and once the
//! count has settled the unused coupon is deleted and the points come back.

use serde_json::json;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::services::redeem::USAGE_SETTLES_AFTER;

use super::{balance, created, redeem, redemption, setup, COUPONS};
use crate::helpers::TEST_APP_SECRET;
use crate::rewards::run_jobs_due_by_with;

#[tokio::test]
async fn an_owners_cancellation_switches_the_coupon_off_then_deletes_it_and_returns_the_points() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(COUPONS))
        .respond_with(created())
        .mount(&server)
        .await;
    let coupon = format!("{COUPONS}/41");
    Mock::given(method("PUT"))
        .and(path(coupon.as_str()))
        .and(body_partial_json(json!({"enabled": false})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 41, "enabled": false})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(coupon.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": 41, "num_uses": 0})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(coupon.as_str()))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let (app, token) = setup(&server).await;
    assert_eq!(redeem(&app).await.status(), 200);
    assert_eq!(balance(&app, &token).await, 500);
    let (id, ..) = redemption(&app).await;
    let resp = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/redemptions/{id}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 202);
    run_jobs_due_by_with(&app, USAGE_SETTLES_AFTER, TEST_APP_SECRET).await;
    assert_eq!(
        balance(&app, &token).await,
        1000,
        "the unused code's points are back"
    );
    assert_eq!(redemption(&app).await.1, "cancelled");
}
