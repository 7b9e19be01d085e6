//! `/widget/v1` for BigCommerce storefronts: the shopper read from the store's current-customer
//! token (`bc_token`), a guest without one; forged, expired, other stores' and malformed tokens
//! refused, as is a token beside another customer id or for a shop that is not a BigCommerce
//! store; during a client-secret rotation a token signed with the previous secret is accepted.

use serde_json::Value;
use wiremock::MockServer;

use super::{
    add_store, customer_token, fresh_token, setup, CLIENT_ID, CLIENT_SECRET, CUSTOMER, HASH, SHOP,
};
use crate::helpers::TestApp;

async fn state(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/widget/v1/state?shop={SHOP}{query}"))
        .await
}

#[tokio::test]
async fn the_widget_reads_the_shopper_from_the_current_customer_token() {
    let server = MockServer::start().await;
    let (app, _) = setup(&server).await;
    let resp = state(&app, &format!("&bc_token={}", fresh_token())).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["member"]["customer_id"],
        CUSTOMER.to_string(),
        "{body}"
    );
    assert_eq!(body["member"]["points_balance"], 1000);
    // A guest (the storefront answered 404 for the token) sees the rewards, not a member.
    let guest: Value = state(&app, "").await.json().await.unwrap();
    assert!(
        guest["member"].is_null() && guest["rewards"].is_array(),
        "{guest}"
    );
}

#[tokio::test]
async fn forged_expired_and_other_stores_tokens_are_refused() {
    let server = MockServer::start().await;
    let (app, _) = setup(&server).await;
    // Another BigCommerce store running the app, whose shopper tries their token here.
    add_store(&app, "store-zzz999", None).await;
    let other_store = customer_token("zzz999", CLIENT_SECRET, 0);
    assert_eq!(
        app.get(&format!(
            "/widget/v1/state?shop=store-zzz999&bc_token={other_store}"
        ))
        .await
        .status(),
        200
    );
    for (token, why) in [
        (customer_token(HASH, "not-the-client-secret", 0), "forged"),
        (customer_token(HASH, CLIENT_SECRET, 2000), "expired"),
        (other_store, "another store's"),
        ("not-a-jwt".to_owned(), "malformed"),
    ] {
        let resp = state(&app, &format!("&bc_token={token}")).await;
        assert_eq!(resp.status(), 401, "{why}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_signature", "{why}: {body}");
    }
    // The token cannot vouch for another customer id sent beside it.
    let resp = state(&app, &format!("&customer=1&bc_token={}", fresh_token())).await;
    assert_eq!(resp.status(), 401);
    // Nor for a shop that is not a BigCommerce store.
    let resp = app
        .get(&format!(
            "/widget/v1/state?shop=woo.example&bc_token={}",
            fresh_token()
        ))
        .await;
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn during_a_rotation_a_token_of_the_previous_secret_is_accepted_too() {
    const OLD: &str = "bc-client-secret-before";
    let app = TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", CLIENT_ID),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
        ("BIGCOMMERCE_CLIENT_SECRET_PREVIOUS", OLD),
    ])
    .await;
    add_store(&app, SHOP, None).await;
    // A storefront page loaded before the switch still holds a token of the old secret.
    for secret in [OLD, CLIENT_SECRET] {
        let resp = state(
            &app,
            &format!("&bc_token={}", customer_token(HASH, secret, 0)),
        )
        .await;
        assert_eq!(resp.status(), 200, "{secret}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(
            body["member"]["customer_id"],
            CUSTOMER.to_string(),
            "{body}"
        );
    }
    let forged = customer_token(HASH, "neither-secret", 0);
    let resp = state(&app, &format!("&bc_token={forged}")).await;
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_signature", "{body}");
}
