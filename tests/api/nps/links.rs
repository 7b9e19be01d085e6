//! The survey links: one response per token, a score change only within 24 hours, the comment
//! form, and clear refusals (unknown token 404, bad score 400) that store nothing.

use diesel::prelude::*;

use super::{responses, surveyed, SHOP};
use crate::helpers::TestApp;

async fn click(app: &TestApp, token: &str, score: &str) -> reqwest::Response {
    app.get(&format!("/nps/{token}?score={score}")).await
}

#[tokio::test]
async fn a_survey_token_records_one_answer_whatever_the_clicks() {
    let app = TestApp::spawn().await;
    let (shop_id, token) = surveyed(&app, SHOP, (601, "di@nps.example"), (1, 2)).await;

    let resp = click(&app, &token, "9").await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("9 out of 10"), "{page}");
    assert!(
        page.contains(&format!("action=\"/nps/{token}\"")),
        "a comment form"
    );
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            stored[0].score,
            stored[0].channel.as_str(),
            stored[0].shop_id.as_str()
        ),
        (9, "email", shop_id.as_str())
    );
    assert!(stored[0].member_id.is_some() && stored[0].survey_id.is_some());

    // Another click soon after corrects the same response; it never adds one.
    assert_eq!(click(&app, &token, "3").await.status(), 200);
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].score, 3);

    // A day later the answer stands.
    let id = stored[0].id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::nps_responses;
        diesel::update(nps_responses::table.find(id))
            .set(nps_responses::created_at.eq(boomerang::db::now() - chrono::Duration::hours(25)))
            .execute(c)
            .unwrap();
    })
    .await;
    let resp = click(&app, &token, "10").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.text().await.unwrap().contains("3 out of 10"));
    let stored = responses(&app).await;
    assert_eq!((stored.len(), stored[0].score), (1, 3));

    // The comment form updates that response.
    let resp = app
        .client
        .post(app.url(&format!("/nps/{token}")))
        .form(&[("comment", "  Fast delivery, kind people.  ")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].comment.as_deref(),
        Some("Fast delivery, kind people.")
    );
    // Too long a comment is refused and changes nothing.
    let long = "x".repeat(1001);
    let resp = app
        .client
        .post(app.url(&format!("/nps/{token}")))
        .form(&[("comment", long.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(
        responses(&app).await[0].comment.as_deref(),
        Some("Fast delivery, kind people.")
    );
}

#[tokio::test]
async fn forged_tokens_get_404_and_bad_scores_400_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let (_, token) = surveyed(&app, SHOP, (602, "ed@nps.example"), (1, 2)).await;

    let mut forged = token.clone();
    let last = if forged.ends_with('0') { "1" } else { "0" };
    forged.replace_range(63.., last);
    for bad in [forged.as_str(), "abc", &"z".repeat(64), "..%2F..%2Fetc"] {
        let resp = click(&app, bad, "9").await;
        assert_eq!(resp.status(), 404, "{bad}");
        assert!(resp.text().await.unwrap().contains("does not work"));
    }
    for score in ["11", "-1", "7.5", "ten", ""] {
        let resp = click(&app, &token, score).await;
        assert_eq!(resp.status(), 400, "{score:?}");
        assert!(resp.text().await.unwrap().contains("from 0 to 10"));
    }
    let resp = app.get(&format!("/nps/{token}")).await;
    assert_eq!(resp.status(), 400, "no score at all");
    // A comment before any score has nothing to attach to.
    let resp = app
        .client
        .post(app.url(&format!("/nps/{token}")))
        .form(&[("comment", "hello")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(responses(&app).await.is_empty());
    // The genuine token still works afterwards.
    assert_eq!(click(&app, &token, "0").await.status(), 200);
    assert_eq!(responses(&app).await.len(), 1);
}

#[tokio::test]
async fn the_survey_page_speaks_the_members_language() {
    let app = TestApp::spawn().await;
    let shop_id = super::shop_id_of(&app, SHOP).await;
    for (id, days) in [(1, 100), (2, 50)] {
        let mut body = super::order(id, (603, "fa@nps.example"), days);
        body["customer_locale"] = serde_json::json!("ar");
        super::paid(&app, SHOP, &body).await;
    }
    let token = super::tokens(&app, &shop_id).await.remove(0);
    let resp = click(&app, &token, "10").await;
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(page.contains("lang=\"ar\" dir=\"rtl\""), "{page}");
    assert!(page.contains("شكرًا لك"), "{page}");
}

#[tokio::test]
async fn a_redacted_customers_responses_lose_their_link_and_comment_and_their_token_dies() {
    let app = TestApp::spawn().await;
    let (_, token) = surveyed(&app, SHOP, (604, "gu@nps.example"), (1, 2)).await;
    assert_eq!(click(&app, &token, "8").await.status(), 200);
    app.client
        .post(app.url(&format!("/nps/{token}")))
        .form(&[("comment", "My name is Gu and I live at 1 Main St")])
        .send()
        .await
        .unwrap();
    let mut redact: serde_json::Value =
        serde_json::from_str(&crate::helpers::fixture("shopify/customers_redact.json")).unwrap();
    redact["shop_domain"] = serde_json::json!(SHOP);
    redact["customer"]["id"] = serde_json::json!(604);
    redact["customer"]["email"] = serde_json::json!("gu@nps.example");
    redact["orders_to_redact"] = serde_json::json!([1, 2]);
    app.deliver(SHOP, "customers/redact", "nps-redact", &redact)
        .await;
    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1, "the score stays for the report");
    assert_eq!(stored[0].score, 8);
    assert_eq!(stored[0].member_id, None);
    assert_eq!(stored[0].survey_id, None);
    assert_eq!(stored[0].comment, None);
    assert_eq!(click(&app, &token, "9").await.status(), 404);
}

#[tokio::test]
async fn shop_redact_deletes_the_shops_surveys_and_responses_and_keeps_the_others() {
    let app = TestApp::spawn().await;
    const OTHER: &str = "kept-nps.myshopify.com";
    let (_, token) = surveyed(&app, SHOP, (605, "hy@nps.example"), (1, 2)).await;
    let (kept_shop, kept_token) = surveyed(&app, OTHER, (605, "hy@nps.example"), (1, 2)).await;
    assert_eq!(click(&app, &token, "7").await.status(), 200);
    assert_eq!(click(&app, &kept_token, "9").await.status(), 200);

    let mut body: serde_json::Value =
        serde_json::from_str(&crate::helpers::fixture("shopify/shop_redact.json")).unwrap();
    body["shop_domain"] = serde_json::json!(SHOP);
    assert_eq!(
        app.deliver(SHOP, "shop/redact", "nps-shop-redact", &body)
            .await,
        "accepted"
    );
    let ctx = crate::helpers::job_context("unused-in-these-jobs-0123456789abcdef");
    boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();

    let stored = responses(&app).await;
    assert_eq!(stored.len(), 1, "only the other shop's answer is left");
    assert_eq!(
        (stored[0].shop_id.as_str(), stored[0].score),
        (kept_shop.as_str(), 9)
    );
    assert_eq!(click(&app, &token, "7").await.status(), 404);
    assert_eq!(super::tokens(&app, &kept_shop).await, vec![kept_token]);
}
