//! Subscribing: the secret, bad input that changes nothing, and one shop never reaching
//! another's subscriptions or deliveries.

use base64::Engine as _;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{adjust, deliveries, run_jobs, subscribe, OTHER, SHOP};
use crate::helpers::{error_code, session_token, TestApp};

async fn list(app: &TestApp, shop: &str) -> Vec<Value> {
    let resp = app
        .admin_get(&session_token(shop), "/api/admin/v1/webhook-subscriptions")
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["subscriptions"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_subscription_gets_a_fresh_secret_and_lists_without_it() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let (id, secret) = subscribe(
        &app,
        SHOP,
        "https://hooks.example.com/boomerang",
        &["points.changed", "tier.changed", "points.changed"],
    )
    .await;
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ prefix"))
        .unwrap();
    assert_eq!(key.len(), 32);
    let (_, second) = subscribe(&app, SHOP, "http://127.0.0.1:9/hook", &["member.created"]).await;
    assert_ne!(secret, second, "every subscription has its own secret");

    let listed = list(&app, SHOP).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["url"], "https://hooks.example.com/boomerang");
    assert_eq!(
        listed[0]["topics"],
        json!(["points.changed", "tier.changed"])
    );
    assert_eq!(listed[0]["enabled"], true);
    assert!(
        !listed[0].to_string().contains(&secret[6..]),
        "the secret is shown once"
    );

    // Stored sealed, not in the clear.
    let stored: String = app
        .with_db(|c| {
            use boomerang::db::schema::webhook_subscriptions;
            use diesel::prelude::*;
            webhook_subscriptions::table
                .select(webhook_subscriptions::secret_enc)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(!stored.contains(&secret[6..]));
}

#[tokio::test]
async fn bad_subscriptions_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    let token = session_token(SHOP);
    let path = "/api/admin/v1/webhook-subscriptions";
    for (body, code) in [
        (
            json!({"url": "http://hooks.example.com/in", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        (
            json!({"url": "ftp://hooks.example.com/in", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        (
            json!({"url": "not a url", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        // Into the network the app runs in: a cloud's metadata service, a private IPv6 range.
        (
            json!({"url": "https://169.254.169.254/latest/meta-data", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        (
            json!({"url": "https://[fdaa::3]/in", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        (
            json!({"url": "https://u:p@hooks.example.com/", "topics": ["points.changed"]}),
            "validation_failed",
        ),
        (
            json!({"url": "https://hooks.example.com/in", "topics": ["points.changed", "order.paid"]}),
            "validation_failed",
        ),
        (
            json!({"url": "https://hooks.example.com/in", "topics": []}),
            "validation_failed",
        ),
        (
            json!({"url": "https://hooks.example.com/in"}),
            "bad_request",
        ),
        (
            json!({"url": "https://hooks.example.com/in", "topics": ["points.changed"], "secret": "mine"}),
            "bad_request",
        ),
    ] {
        let resp = app.admin_post(&token, path, body.clone()).await;
        let status = resp.status().as_u16();
        let got = error_code(resp).await;
        assert!(
            got == code || (code == "bad_request" && got == "invalid_json"),
            "{body}: {status} {got}"
        );
        assert!(status == 422 || status == 400, "{body}: {status}");
    }
    let unknown = app
        .admin_post(
            &token,
            path,
            json!({"url": "https://hooks.example.com/in", "topics": ["order.paid"]}),
        )
        .await;
    let message = unknown.json::<Value>().await.unwrap()["error"]["message"].clone();
    assert!(
        message.as_str().unwrap().contains("order.paid"),
        "{message}"
    );
    assert!(list(&app, SHOP).await.is_empty());
}

#[tokio::test]
async fn another_shops_subscriptions_and_deliveries_answer_404() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    app.add_shop_with_member(SHOP, "1", "a@example.com").await;
    app.add_shop_with_member(OTHER, "2", "b@example.com").await;
    let (id, _) = subscribe(&app, SHOP, &receiver.uri(), &["points.changed"]).await;
    assert_eq!(adjust(&app, SHOP, "1", 50).await, 201);
    run_jobs(&app).await;
    let delivery = deliveries(&app, SHOP, &id).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let other = session_token(OTHER);
    assert!(list(&app, OTHER).await.is_empty());
    let deleted = app
        .client
        .delete(app.url(&format!("/api/admin/v1/webhook-subscriptions/{id}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 404);
    let log = app
        .admin_get(
            &other,
            &format!("/api/admin/v1/webhook-subscriptions/{id}/deliveries"),
        )
        .await;
    assert_eq!(log.status(), 404);
    for path in [
        format!("/api/admin/v1/webhook-subscriptions/{id}/deliveries/{delivery}/redeliver"),
        format!("/api/admin/v1/webhook-deliveries/{delivery}/redeliver"),
    ] {
        let resp = app.admin_post(&other, &path, json!({"enable": true})).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(error_code(resp).await, "not_found");
    }
    // A delivery named under a subscription it does not belong to is not found either.
    let (mine, _) = subscribe(&app, OTHER, &receiver.uri(), &["points.changed"]).await;
    let crossed = app
        .admin_post(
            &other,
            &format!("/api/admin/v1/webhook-subscriptions/{mine}/deliveries/{delivery}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(crossed.status(), 404);

    // Nothing of the first shop changed: one delivery, one attempt, one request received.
    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 1);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 1);
    assert_eq!(list(&app, SHOP).await.len(), 1);

    // The owner deletes their own: gone, with its log; a second delete is 404.
    let token = session_token(SHOP);
    let url = app.url(&format!("/api/admin/v1/webhook-subscriptions/{id}"));
    let first = app
        .client
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 204);
    let again = app
        .client
        .delete(&url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert!(list(&app, SHOP).await.is_empty());
    let log = app
        .admin_get(
            &token,
            &format!("/api/admin/v1/webhook-subscriptions/{id}/deliveries"),
        )
        .await;
    assert_eq!(log.status(), 404);
}
