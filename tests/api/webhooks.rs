//! `POST /webhooks/shopify`: signature first, then JSON, then the inbox, exactly once.

use diesel::prelude::*;

use boomerang::db::schema::inbox_events;
use boomerang::db::stored_body::StoredBody;
use boomerang::services::demo::DEMO_SHOP_DOMAIN;

use crate::helpers::{error_code, fixture, TestApp, SECRET};
use crate::ops::seed_demo;

async fn inbox_count(app: &TestApp) -> i64 {
    app.with_db(|c| inbox_events::table.count().get_result::<i64>(c).unwrap())
        .await
}

async fn status_of(resp: reqwest::Response) -> String {
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.unwrap()["status"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_signed_delivery_is_stored_once() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let body = fixture("shopify/orders_create.json");
    let first = app
        .post_shopify_webhook("orders/create", DEMO_SHOP_DOMAIN, "wh-1", &body)
        .await;
    assert_eq!(status_of(first).await, "accepted");
    let again = app
        .post_shopify_webhook("orders/create", DEMO_SHOP_DOMAIN, "wh-1", &body)
        .await;
    assert_eq!(status_of(again).await, "duplicate");
    assert_eq!(inbox_count(&app).await, 1);
    let stored_body = app
        .with_db(|c| {
            inbox_events::table
                .select(inbox_events::payload)
                .first::<StoredBody>(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        stored_body.0, body,
        "the raw signed body is kept byte for byte"
    );
    if !app.test_db.is_postgres() {
        // Compressed by the app on SQLite (`db::stored_body`): an lz4 block, well under the text.
        let (kind, bytes) = app
            .with_db(|c| {
                inbox_events::table
                    .select((
                        diesel::dsl::sql::<diesel::sql_types::Text>("typeof(payload)"),
                        diesel::dsl::sql::<diesel::sql_types::BigInt>("length(payload)"),
                    ))
                    .first::<(String, i64)>(c)
                    .unwrap()
            })
            .await;
        assert_eq!(kind, "blob");
        assert!(
            usize::try_from(bytes).unwrap() < body.len() / 2,
            "{bytes} bytes stored for a body of {}",
            body.len()
        );
    }
    if app.test_db.is_postgres() {
        // Compressed by the acknowledging insert with lz4, the cheaper method (migration
        // `…_inbox_claim_of_open_events_and_lz4_bodies`); this server is built with it.
        let method = app
            .with_db(|c| {
                inbox_events::table
                    .select(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Text>,
                    >("pg_column_compression(payload)"))
                    .first::<Option<String>>(c)
                    .unwrap()
            })
            .await;
        assert_eq!(method.as_deref(), Some("lz4"));
    }
}

#[tokio::test]
async fn bad_or_missing_signatures_are_refused_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let body = fixture("shopify/orders_create.json");
    let wrong = app
        .post_shopify_webhook_signed(
            "orders/create",
            DEMO_SHOP_DOMAIN,
            "wh-2",
            &body,
            "not-the-secret",
        )
        .await;
    assert_eq!(wrong.status(), 401);
    assert_eq!(error_code(wrong).await, "invalid_signature");
    let unsigned = app
        .client
        .post(app.url("/webhooks/shopify"))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Shop-Domain", DEMO_SHOP_DOMAIN)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    // A body changed after signing.
    let tampered = app
        .client
        .post(app.url("/webhooks/shopify"))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Shop-Domain", DEMO_SHOP_DOMAIN)
        .header(
            "X-Shopify-Hmac-Sha256",
            boomerang::platform::shopify::webhook::sign(body.as_bytes(), SECRET),
        )
        .body(body.replace("\"id\"", "\"id \""))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 401);
    assert_eq!(inbox_count(&app).await, 0);
}

#[tokio::test]
async fn a_signed_body_that_is_not_json_is_a_400_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let resp = app
        .post_shopify_webhook("orders/create", DEMO_SHOP_DOMAIN, "wh-3", "{not json")
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "invalid_json");
    assert_eq!(inbox_count(&app).await, 0);
}

#[tokio::test]
async fn unknown_shops_and_unused_topics_are_ignored_without_storing() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let body = fixture("shopify/orders_create.json");
    let unknown_shop = app
        .post_shopify_webhook("orders/create", "other.myshopify.com", "wh-4", &body)
        .await;
    assert_eq!(status_of(unknown_shop).await, "ignored");
    let unused_topic = app
        .post_shopify_webhook("products/update", DEMO_SHOP_DOMAIN, "wh-5", "{}")
        .await;
    assert_eq!(status_of(unused_topic).await, "ignored");
    assert_eq!(inbox_count(&app).await, 0);
}

#[tokio::test]
async fn the_previous_secret_works_during_a_rotation() {
    let app = TestApp::spawn_with(&[
        ("SHOPIFY_API_KEY", "key"),
        ("SHOPIFY_API_SECRET", "new-secret"),
        ("SHOPIFY_API_SECRET_PREVIOUS", "old-secret"),
    ])
    .await;
    seed_demo(&app).await;
    let body = fixture("shopify/orders_create.json");
    let old = app
        .post_shopify_webhook_signed(
            "orders/create",
            DEMO_SHOP_DOMAIN,
            "wh-6",
            &body,
            "old-secret",
        )
        .await;
    assert_eq!(status_of(old).await, "accepted");
    let new = app
        .post_shopify_webhook_signed(
            "orders/create",
            DEMO_SHOP_DOMAIN,
            "wh-7",
            &body,
            "new-secret",
        )
        .await;
    assert_eq!(status_of(new).await, "accepted");
    let demo = app
        .post_shopify_webhook_signed("orders/create", DEMO_SHOP_DOMAIN, "wh-8", &body, SECRET)
        .await;
    assert_eq!(
        demo.status(),
        401,
        "the demo secret is off once real credentials are set"
    );
}

#[tokio::test]
async fn missing_topic_header_on_a_signed_body_is_a_400() {
    let app = TestApp::spawn().await;
    let body = "{}";
    let resp = app
        .client
        .post(app.url("/webhooks/shopify"))
        .header("X-Shopify-Shop-Domain", DEMO_SHOP_DOMAIN)
        .header(
            "X-Shopify-Hmac-Sha256",
            boomerang::platform::shopify::webhook::sign(body.as_bytes(), SECRET),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "bad_request");
}
