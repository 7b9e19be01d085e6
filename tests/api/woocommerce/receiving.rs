//! What a WooCommerce webhook gets on receipt: the creation ping, signatures (the shop's own
//! secret only), bodies that are not JSON, unknown shops and topics, and signed bodies of
//! another shape (kept as failed, replayable).

use serde_json::{json, Value};

use boomerang::platform::woocommerce::sign;

use super::{add_woo_shop, deliver, order, points, post, stored, GUEST, SECRET, SHOP};
use crate::helpers::TestApp;

#[tokio::test]
async fn the_creation_ping_gets_a_200_and_stores_nothing() {
    let app = TestApp::spawn().await;
    add_woo_shop(&app, SHOP, SECRET, None).await;
    for domain in [SHOP, "unknown.example"] {
        let resp = app
            .client
            .post(app.url(&format!("/webhooks/woocommerce/{domain}")))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("webhook_id=12")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["status"], "ignored");
    }
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn a_bad_or_missing_signature_or_another_shops_secret_is_refused() {
    let app = TestApp::spawn().await;
    let (shop, _) = add_woo_shop(&app, SHOP, SECRET, None).await;
    add_woo_shop(&app, "other.example", "woo-webhook-secret-b", None).await;
    let body = order(807, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]).to_string();
    // Signed with the other shop's secret, sent to this shop.
    let resp = post(
        &app,
        SHOP,
        "order.created",
        "d-1",
        &body,
        "woo-webhook-secret-b",
    )
    .await;
    assert_eq!(resp.status(), 401);
    assert_eq!(crate::helpers::error_code(resp).await, "invalid_signature");
    // The app's own (Shopify) secret is no WooCommerce shop's.
    let resp = post(
        &app,
        SHOP,
        "order.created",
        "d-2",
        &body,
        crate::helpers::SECRET,
    )
    .await;
    assert_eq!(resp.status(), 401);
    // The body changed after signing.
    let tampered = body.replace("\"total\":\"29.35\"", "\"total\":\"2935.00\"");
    let resp = app
        .client
        .post(app.url(&format!("/webhooks/woocommerce/{SHOP}")))
        .header("X-WC-Webhook-Topic", "order.created")
        .header("X-WC-Webhook-Signature", sign(body.as_bytes(), SECRET))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // No signature at all.
    let resp = app
        .client
        .post(app.url(&format!("/webhooks/woocommerce/{SHOP}")))
        .header("X-WC-Webhook-Topic", "order.created")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(stored(&app).await, 0);
    assert_eq!(points(&app, &shop, GUEST).await, (0, 0));
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_and_an_unknown_shop_is_ignored() {
    let app = TestApp::spawn().await;
    add_woo_shop(&app, SHOP, SECRET, None).await;
    let resp = post(&app, SHOP, "order.created", "d-1", "{\"id\": 8", SECRET).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(crate::helpers::error_code(resp).await, "invalid_json");
    let body = order(808, 0, GUEST, "processing", "2026-11-20T10:00:05", &[]).to_string();
    let resp = post(
        &app,
        "nobody.example",
        "order.created",
        "d-2",
        &body,
        SECRET,
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "ignored");
    // A topic the app does not use is not stored either.
    let resp = post(&app, SHOP, "coupon.created", "d-3", "{\"id\":5}", SECRET).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "ignored");
    assert_eq!(stored(&app).await, 0);
}

#[tokio::test]
async fn a_signed_body_of_another_shape_is_kept_as_failed_and_replayable() {
    let app = TestApp::spawn().await;
    let (_, token) = add_woo_shop(&app, SHOP, SECRET, None).await;
    let odd = json!({"id": 809, "status": "processing", "line_items": "none"});
    assert_eq!(
        deliver(&app, "order.updated", "d-1", &odd).await,
        "accepted"
    );
    let resp = app
        .admin_get(&token, "/api/admin/v1/webhooks?status=failed")
        .await;
    assert_eq!(resp.status(), 200);
    let listed: Value = resp.json().await.unwrap();
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{listed}");
    assert_eq!(events[0]["topic"], "order.updated");
    assert_eq!(events[0]["event_id"], "d-1");
    assert!(
        events[0]["error"].as_str().unwrap().contains("currency"),
        "the error names the field: {listed}"
    );
    let id = events[0]["id"].as_str().unwrap();
    let resp = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/webhooks/{id}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "failed");
}
