//! What a BigCommerce webhook gets on receipt: Standard Webhooks signatures (checked here with
//! the independent `standardwebhooks` crate), the custom header secret (the shop's own only),
//! another store's deliveries, bodies that are not JSON, unknown shops and scopes, signed
//! bodies of another shape (kept as failed, replayable), and the previous client secret
//! accepted during a rotation.

use serde_json::{json, Value};
use standardwebhooks::Webhook;

use super::{
    add_bc_shop, deliver, post, queued_reads, spawn, stored, thin, CLIENT_SECRET, HASH, SECRET,
    SHOP,
};
use crate::helpers::{error_code, TestApp};

/// Posts `body` signed the Standard Webhooks way by the `standardwebhooks` crate with `key`
/// at `timestamp`.
async fn post_signed(
    app: &TestApp,
    body: &str,
    id: &str,
    timestamp: i64,
    key: &str,
) -> reqwest::Response {
    let signer = Webhook::from_bytes(key.as_bytes().to_vec()).unwrap();
    let signature = signer.sign(id, timestamp, body.as_bytes()).unwrap();
    app.client
        .post(app.url(&format!("/webhooks/bigcommerce/{SHOP}")))
        .header("Content-Type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn all_stored(app: &TestApp) -> i64 {
    let mut total = 0;
    for topic in [
        "store/order/created",
        "store/order/updated",
        "store/app/uninstalled",
        "bigcommerce/unreadable",
        "bigcommerce/order.document",
    ] {
        total += stored(app, topic).await;
    }
    total
}

#[tokio::test]
async fn a_standard_webhooks_signature_by_the_app_is_accepted() {
    let app = spawn().await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let body = thin("store/order/created", 250, "h-signed").to_string();
    let now = chrono::Utc::now().timestamp();
    let resp = post_signed(&app, &body, "msg_2a", now, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "accepted");
    assert_eq!(queued_reads(&app).await, 1);
    // BigCommerce retrying the same event: the same hash, a new message.
    let resp = post_signed(&app, &body, "msg_2b", now, CLIENT_SECRET).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "duplicate");
}

#[tokio::test]
async fn a_wrong_or_stale_signature_or_another_shops_secret_is_refused() {
    let app = spawn().await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    add_bc_shop(
        &app,
        "store-zzz999",
        "bc-webhook-secret-b",
        "http://127.0.0.1:9",
    )
    .await;
    let body = thin("store/order/created", 250, "h-1").to_string();
    let now = chrono::Utc::now().timestamp();
    // Signed with another app's secret.
    let resp = post_signed(&app, &body, "msg_1", now, "another-app").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "invalid_signature");
    // Signed right, but six minutes ago (a replay), or six minutes ahead.
    let resp = post_signed(&app, &body, "msg_1", now - 360, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 401);
    let resp = post_signed(&app, &body, "msg_1", now + 360, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 401);
    // The other shop's header secret, sent to this shop.
    let resp = post(&app, SHOP, &body, "bc-webhook-secret-b").await;
    assert_eq!(resp.status(), 401);
    // The app's client secret is no shop's header secret.
    let resp = post(&app, SHOP, &body, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 401);
    // Neither a signature nor the header.
    let resp = app
        .client
        .post(app.url(&format!("/webhooks/bigcommerce/{SHOP}")))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(all_stored(&app).await, 0);
    assert_eq!(queued_reads(&app).await, 0);
}

#[tokio::test]
async fn another_stores_delivery_is_refused_even_when_signed_by_the_app() {
    let app = spawn().await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    add_bc_shop(
        &app,
        "store-zzz999",
        "bc-webhook-secret-b",
        "http://127.0.0.1:9",
    )
    .await;
    let mut body = thin("store/order/created", 250, "h-other");
    body["producer"] = json!("stores/zzz999");
    let body = body.to_string();
    let now = chrono::Utc::now().timestamp();
    // The client secret is the same for every store: the producer decides.
    let resp = post_signed(&app, &body, "msg_3", now, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "invalid_signature");
    let resp = post(&app, SHOP, &body, SECRET).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(all_stored(&app).await, 0);
    assert_eq!(queued_reads(&app).await, 0);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_400_and_unknown_shops_and_scopes_are_ignored() {
    let app = spawn().await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let resp = post(&app, SHOP, "{\"scope\": ", SECRET).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "invalid_json");
    let body = thin("store/order/created", 250, "h-1").to_string();
    for domain in ["store-nobody1", "shop.example"] {
        let resp = post(&app, domain, &body, SECRET).await;
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.json::<Value>().await.unwrap()["status"], "ignored");
    }
    let customer = thin("store/customer/created", 31, "h-2");
    assert_eq!(deliver(&app, &customer).await, "ignored");
    assert_eq!(all_stored(&app).await, 0);
    // The store path names the store whatever its case.
    let resp = post(&app, &SHOP.to_uppercase(), &body, SECRET).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "accepted");
}

#[tokio::test]
async fn a_signed_body_of_another_shape_is_kept_as_failed_and_replayable() {
    let app = spawn().await;
    let (_, token) = add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let odd = json!({"scope": "store/order/created", "data": {"type": "order"},
                     "hash": "h-odd", "producer": format!("stores/{HASH}")});
    assert_eq!(deliver(&app, &odd).await, "accepted");
    let unreadable =
        json!({"scope": ["store/order/created"], "producer": format!("stores/{HASH}")});
    assert_eq!(deliver(&app, &unreadable).await, "accepted");
    assert_eq!(queued_reads(&app).await, 0, "nothing to read");
    let resp = app
        .admin_get(&token, "/api/admin/v1/webhooks?status=failed")
        .await;
    assert_eq!(resp.status(), 200);
    let listed: Value = resp.json().await.unwrap();
    let events = listed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{listed}");
    let odd_event = events
        .iter()
        .find(|e| e["topic"] == "store/order/created")
        .unwrap();
    assert!(
        odd_event["error"].as_str().unwrap().contains("data.id"),
        "the error names the field: {listed}"
    );
    assert!(events.iter().any(|e| e["topic"] == "bigcommerce/unreadable"
        && e["error"].as_str().unwrap().contains("scope")));
    let id = odd_event["id"].as_str().unwrap();
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

#[tokio::test]
async fn an_uninstall_webhook_uninstalls_the_shop() {
    let app = spawn().await;
    let (shop_id, _) = add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let body = json!({"scope": "store/app/uninstalled", "store_id": "1025646",
        "data": {"type": "store", "id": 1025646}, "hash": "h-gone", "created_at": 1561479335,
        "producer": format!("stores/{HASH}")});
    assert_eq!(deliver(&app, &body).await, "accepted");
    let state = app
        .with_db(move |c| {
            boomerang::db::models::Shop::find(c, &shop_id)
                .unwrap()
                .install_state
        })
        .await;
    assert_eq!(state, boomerang::db::types::InstallState::Uninstalled);
}

#[tokio::test]
async fn a_signature_is_refused_when_the_app_has_no_client_secret_to_check_it() {
    // An instance serving no BigCommerce app: no BIGCOMMERCE_CLIENT_SECRET.
    let app = TestApp::spawn().await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let body = thin("store/order/created", 250, "h-1").to_string();
    let now = chrono::Utc::now().timestamp();
    let resp = post_signed(&app, &body, "msg_1", now, CLIENT_SECRET).await;
    assert_eq!(resp.status(), 401);
    assert!(error_text(resp).await.contains("BIGCOMMERCE_CLIENT_SECRET"));
    // The shop's own header secret still works.
    assert_eq!(
        deliver(&app, &thin("store/order/created", 250, "h-1")).await,
        "accepted"
    );
}

#[tokio::test]
async fn during_a_rotation_a_signature_by_the_previous_client_secret_is_accepted_too() {
    let app = TestApp::spawn_with(&[
        ("BIGCOMMERCE_CLIENT_ID", "bc-client-id"),
        ("BIGCOMMERCE_CLIENT_SECRET", CLIENT_SECRET),
        (
            "BIGCOMMERCE_CLIENT_SECRET_PREVIOUS",
            "bc-client-secret-before",
        ),
    ])
    .await;
    add_bc_shop(&app, SHOP, SECRET, "http://127.0.0.1:9").await;
    let now = chrono::Utc::now().timestamp();
    // A delivery signed before the switch, retried after it.
    let old = thin("store/order/created", 251, "h-old").to_string();
    let resp = post_signed(&app, &old, "msg_6a", now, "bc-client-secret-before").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "accepted");
    let new = thin("store/order/created", 252, "h-new").to_string();
    let resp = post_signed(&app, &new, "msg_6b", now, CLIENT_SECRET).await;
    assert_eq!(resp.json::<Value>().await.unwrap()["status"], "accepted");
    let forged = thin("store/order/created", 253, "h-forged").to_string();
    let resp = post_signed(&app, &forged, "msg_6c", now, "neither-secret").await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "invalid_signature");
    assert_eq!(queued_reads(&app).await, 2);
}

/// The message of an error answer.
async fn error_text(resp: reqwest::Response) -> String {
    resp.text().await.unwrap()
}
