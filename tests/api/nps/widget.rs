//! The widget's NPS question: asked of members with two orders, answered once per 90 days,
//! refused to guests and for bad scores, the same through `/proxy` and `/widget/v1`.

use diesel::prelude::*;
use serde_json::json;

use super::{answer, asks, order, paid, responses, shop_id_of, SHOP};
use crate::helpers::{error_code, TestApp};

#[tokio::test]
async fn a_member_answers_in_the_widget_once_per_90_days() {
    let app = TestApp::spawn().await;
    shop_id_of(&app, SHOP).await;
    let hal = (701, "hal@nps.example");
    paid(&app, SHOP, &order(1, hal, 200)).await;
    assert!(!asks(&app, SHOP, "701").await, "not after one order");
    paid(&app, SHOP, &order(2, hal, 150)).await;
    assert!(asks(&app, SHOP, "701").await);

    let resp = answer(&app, SHOP, "701", json!({"score": 8, "comment": "Good"})).await;
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        (body["score"].clone(), body["channel"].clone()),
        (json!(8), json!("widget"))
    );
    assert!(!asks(&app, SHOP, "701").await, "answered");

    let resp = answer(&app, SHOP, "701", json!({"score": 9})).await;
    assert_eq!(resp.status(), 409);
    let err: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["code"], "conflict");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("answer again from"),
        "{err}"
    );
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            stored[0].score,
            stored[0].channel.as_str(),
            stored[0].comment.as_deref()
        ),
        (8, "widget", Some("Good"))
    );

    // 90 days on, the member may answer again.
    let id = stored[0].id.clone();
    let earlier = stored[0].answered_on - chrono::Duration::days(90);
    app.with_db(move |c| {
        use boomerang::db::schema::nps_responses;
        diesel::update(nps_responses::table.find(id))
            .set(nps_responses::answered_on.eq(earlier))
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(asks(&app, SHOP, "701").await);
    assert_eq!(
        answer(&app, SHOP, "701", json!({"score": 10}))
            .await
            .status(),
        201
    );
    assert_eq!(responses(&app).await.len(), 2);
}

#[tokio::test]
async fn guests_bad_scores_and_unknown_customers_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    shop_id_of(&app, SHOP).await;
    let ivy = (702, "ivy@nps.example");
    paid(&app, SHOP, &order(1, ivy, 200)).await;
    paid(&app, SHOP, &order(2, ivy, 150)).await;

    assert!(!asks(&app, SHOP, "").await, "a guest is never asked");
    let resp = answer(&app, SHOP, "", json!({"score": 9})).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(error_code(resp).await, "unauthorized");

    for bad in [
        json!({"score": 11}),
        json!({"score": -1}),
        json!({"score": "9"}),
        json!({"score": 7.5}),
        json!({}),
        json!({"score": null}),
    ] {
        let resp = answer(&app, SHOP, "702", bad.clone()).await;
        assert_eq!(resp.status(), 422, "{bad}");
        assert_eq!(error_code(resp).await, "validation_failed");
    }
    let resp = answer(
        &app,
        SHOP,
        "702",
        json!({"score": 9, "comment": "x".repeat(1001)}),
    )
    .await;
    assert_eq!(resp.status(), 422);
    let resp = answer(&app, SHOP, "702", json!({"score": 9, "extra": 1})).await;
    assert_eq!(resp.status(), 400, "unknown fields are refused");
    // A logged-in customer the shop has never seen is not a member.
    let resp = answer(&app, SHOP, "999", json!({"score": 9})).await;
    assert_eq!(resp.status(), 403);
    assert!(responses(&app).await.is_empty());
}

#[tokio::test]
async fn the_widget_api_takes_answers_with_the_customers_digest() {
    let app = TestApp::spawn().await;
    let shop_id = shop_id_of(&app, SHOP).await;
    let jo = (703, "jo@nps.example");
    paid(&app, SHOP, &order(1, jo, 200)).await;
    paid(&app, SHOP, &order(2, jo, 150)).await;
    let secret = app.keys.widget_secret(&shop_id);
    let digest = hex::encode(boomerang::crypto::hmac_sha256(secret.as_bytes(), b"703"));
    let post = |digest: String| {
        app.client
            .post(app.url(&format!(
                "/widget/v1/nps?shop={SHOP}&customer=703&digest={digest}"
            )))
            .json(&json!({"score": 6}))
            .send()
    };
    let resp = post("00".repeat(32)).await.unwrap();
    assert_eq!(resp.status(), 401, "a wrong digest");
    assert!(responses(&app).await.is_empty());
    let resp = post(digest.clone()).await.unwrap();
    assert_eq!(resp.status(), 201);
    let state: serde_json::Value = app
        .get(&format!(
            "/widget/v1/state?shop={SHOP}&customer=703&digest={digest}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(state["nps"], json!({"ask": false}));
}

#[tokio::test]
async fn an_answer_in_one_shop_is_not_seen_by_another() {
    let app = TestApp::spawn().await;
    const OTHER: &str = "other-nps.myshopify.com";
    shop_id_of(&app, SHOP).await;
    shop_id_of(&app, OTHER).await;
    // The same customer id in both shops, two orders in each.
    for shop in [SHOP, OTHER] {
        paid(&app, shop, &order(1, (704, "kim@nps.example"), 200)).await;
        paid(&app, shop, &order(2, (704, "kim@nps.example"), 150)).await;
    }
    assert_eq!(
        answer(&app, SHOP, "704", json!({"score": 2}))
            .await
            .status(),
        201
    );
    assert!(!asks(&app, SHOP, "704").await);
    assert!(asks(&app, OTHER, "704").await, "the other shop still asks");
    assert_eq!(
        answer(&app, OTHER, "704", json!({"score": 10}))
            .await
            .status(),
        201
    );
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 2);
    assert_ne!(stored[0].shop_id, stored[1].shop_id);
}
