//! The widget's NPS question in a real browser: Grace has ordered twice, opens the widget in the
//! demo, taps 9 and is thanked; the answer is stored once, from the widget, in English and in
//! Arabic.

use diesel::prelude::*;
use serde_json::json;

use super::{artifact, assert_clean_text, browser, click, driver, element, wait_for};
use crate::helpers::{order_json, TestApp};

async fn answer_in_the_demo(lang: &str, question: &str, thanks: &str) {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    // Two orders today make Grace (7002) someone the widget asks.
    for id in [88_001u64, 88_002] {
        let mut body = order_json(
            id,
            Some((7002, "grace@example.com")),
            "paid",
            &[(id * 10, 1, "30.00")],
        );
        let now = chrono::Utc::now().to_rfc3339();
        for field in ["created_at", "processed_at", "updated_at"] {
            body[field] = json!(now);
        }
        app.deliver(
            boomerang::services::demo::DEMO_SHOP_DOMAIN,
            "orders/paid",
            &format!("nps-e2e-{id}"),
            &body,
        )
        .await;
    }
    let client = browser(&driver, &chromium).await;
    let result = async {
        client
            .goto(&app.url(&format!("/demo?as=7002&lang={lang}")))
            .await
            .unwrap();
        element(&client, "the launcher", "button.l")
            .await
            .click()
            .await
            .unwrap();
        let asked = wait_for(
            &client,
            "the NPS question",
            "const q = root.querySelector('.nps h3'); return q && q.textContent;",
        )
        .await;
        assert_eq!(asked, json!(question));
        let buttons = wait_for(
            &client,
            "eleven score buttons",
            "return root.querySelectorAll('.nps button').length;",
        )
        .await;
        assert_eq!(buttons, json!(11));
        assert_clean_text(&client).await;
        std::fs::write(
            artifact(&format!("widget-nps-question-{lang}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        click(&client, "the score 9", ".nps button[data-k=nps9]").await;
        let said = wait_for(
            &client,
            "the thanks",
            "const p = root.querySelector('p.d[role=status]'); return p && p.textContent;",
        )
        .await;
        assert_eq!(said, json!(thanks));
        std::fs::write(
            artifact(&format!("widget-nps-thanks-{lang}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    .await;
    client.close().await.unwrap();
    let stored: Vec<(i32, String)> = app
        .with_db(|c| {
            use boomerang::db::schema::nps_responses;
            nps_responses::table
                .select((nps_responses::score, nps_responses::channel))
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, vec![(9, "widget".to_owned())]);
    result
}

#[tokio::test]
async fn a_member_answers_the_nps_question_in_the_demo_widget_in_english() {
    answer_in_the_demo(
        "en",
        "How likely are you to recommend us to a friend?",
        "Thank you for your answer!",
    )
    .await;
}

#[tokio::test]
async fn a_member_answers_the_nps_question_in_the_demo_widget_in_arabic() {
    answer_in_the_demo("ar", "ما مدى احتمال أن توصي بنا لصديق؟", "شكرًا على إجابتك!").await;
}
