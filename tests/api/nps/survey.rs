//! The survey mail: after the second counted order, at most once per 90 days by the orders'
//! own dates, never for guests, never twice for a replayed order; its links reach the app.

use serde_json::json;

use super::{order, paid, shop_id_of, survey_mails, tokens, SHOP};
use crate::helpers::{order_json, TestApp};

#[tokio::test]
async fn the_survey_follows_the_second_order_not_the_first_and_waits_90_days() {
    let app = TestApp::spawn().await;
    let shop_id = shop_id_of(&app, SHOP).await;
    let ada = (501, "ada@nps.example");

    paid(&app, SHOP, &order(1, ada, 300)).await;
    assert!(
        survey_mails(&app, &shop_id).await.is_empty(),
        "not after the first order"
    );

    paid(&app, SHOP, &order(2, ada, 250)).await;
    let mails = survey_mails(&app, &shop_id).await;
    assert_eq!(mails.len(), 1, "after the second order: {mails:?}");
    let token = tokens(&app, &shop_id).await.remove(0);
    assert_eq!(mails[0].0, "order:2");
    assert_eq!(mails[0].1["action_url"], json!(format!("/nps/{token}")));
    assert_eq!(token.len(), 64);

    // The same order delivered again (a replay, an update) queues nothing new.
    let mut replay = order(2, ada, 250);
    replay["updated_at"] = json!(chrono::Utc::now().to_rfc3339());
    paid(&app, SHOP, &replay).await;
    // 89 days after the survey: too soon.
    paid(&app, SHOP, &order(3, ada, 161)).await;
    assert_eq!(survey_mails(&app, &shop_id).await.len(), 1);

    // 90 days after the last survey (by the orders' own dates): surveyed again.
    paid(&app, SHOP, &order(4, ada, 160)).await;
    let mails = survey_mails(&app, &shop_id).await;
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert_eq!(mails[1].0, "order:4");
    let tokens = tokens(&app, &shop_id).await;
    assert_eq!(tokens.len(), 2);
    assert_ne!(tokens[0], tokens[1]);
}

#[tokio::test]
async fn unpaid_cancelled_and_guest_orders_bring_no_survey() {
    let app = TestApp::spawn().await;
    let shop_id = shop_id_of(&app, SHOP).await;
    let bo = (502, "bo@nps.example");
    paid(&app, SHOP, &order(11, bo, 60)).await;
    // A pending order and a cancelled one do not count.
    let mut pending = order_json(12, Some(bo), "pending", &[(120, 1, "40.00")]);
    pending["created_at"] = json!((chrono::Utc::now() - chrono::Duration::days(50)).to_rfc3339());
    assert_eq!(
        app.deliver(SHOP, "orders/create", "nps-p", &pending).await,
        "accepted"
    );
    let mut cancelled = order(13, bo, 40);
    cancelled["cancelled_at"] = cancelled["created_at"].clone();
    assert_eq!(
        app.deliver(SHOP, "orders/cancelled", "nps-c", &cancelled)
            .await,
        "accepted"
    );
    assert!(survey_mails(&app, &shop_id).await.is_empty());

    // A guest (no account, only an e-mail) orders twice: no survey.
    for (id, days) in [(21, 60), (22, 30)] {
        let mut guest = order(id, (0, "guest@nps.example"), days);
        guest["customer"] = json!(null);
        paid(&app, SHOP, &guest).await;
    }
    assert!(survey_mails(&app, &shop_id).await.is_empty());

    // Bo's second paid order counts.
    paid(&app, SHOP, &order(14, bo, 20)).await;
    assert_eq!(survey_mails(&app, &shop_id).await.len(), 1);
}

#[tokio::test]
async fn the_sent_survey_links_each_score_to_the_apps_survey_page() {
    let app = TestApp::spawn().await;
    let shop_id = shop_id_of(&app, SHOP).await;
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(crate::helpers::session_token(SHOP))
        .json(&json!({"emails": {"policy": {"quiet_hours": null}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (_, token) = super::surveyed(&app, SHOP, (503, "cy@nps.example"), (31, 32)).await;
    let ctx = crate::helpers::job_context(crate::helpers::TEST_APP_SECRET);
    boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();
    let (status, text) = app
        .with_db(move |c| {
            use boomerang::db::schema::emails;
            use diesel::prelude::*;
            emails::table
                .filter(emails::shop_id.eq(shop_id))
                .filter(emails::kind.eq("nps_survey"))
                .select((emails::status, emails::text_body))
                .first::<(String, Option<String>)>(c)
                .unwrap()
        })
        .await;
    assert_eq!(status, "sent");
    let text = text.unwrap();
    for score in [0, 10] {
        let link = format!("http://localhost:8080/nps/{token}?score={score}");
        assert!(text.contains(&link), "{link} in {text}");
    }
}
