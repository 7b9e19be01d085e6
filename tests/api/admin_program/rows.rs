//! The program editor's rows and languages, both backends: an Arabic owner's refused value
//! comes back (422) with the Arabic message next to its input and nothing stored; a reward row
//! is added (the page shown again, nothing saved), filled and saved, its kind changed, then
//! removed; a tier level's threshold is edited through its row; another shop is never touched.

use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{message, program, save, save_all};
use crate::admin_ui::{get as page, sign_in};
use crate::helpers::{session_token, TestApp};

const SHOP: &str = "admin-rows.myshopify.com";
const OTHER: &str = "admin-rows-other.myshopify.com";

/// Two shops, `SHOP` speaking `locale`; the signed-in session's cookie and CSRF token.
async fn setup(locale: &str) -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7001", "ada@example.com")
        .await;
    app.add_shop_with_member(OTHER, "9001", "other@example.com")
        .await;
    let (id, locale) = (shop_id.clone(), locale.to_owned());
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.find(id))
            .set(shops::locale.eq(locale))
            .execute(c)
            .unwrap();
    })
    .await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    (app, cookie, csrf)
}

fn arabic(text: &str) -> bool {
    text.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
}

#[tokio::test]
async fn an_arabic_owner_gets_the_arabic_message_next_to_the_field_and_nothing_changes() {
    let (app, cookie, csrf) = setup("ar").await;
    let before = program(&app, SHOP).await;
    let other = program(&app, OTHER).await;
    for (name, value, id) in [
        // The domain refuses it (a price of 0 points), in a row.
        ("rewards.1.points_cost", "0", "f-rewards-1-points_cost"),
        // The type refuses it (a negative whole number).
        ("earning.points_per_unit", "-5", "f-earning-points_per_unit"),
        // A choice the program does not know.
        ("rewards.0.kind", "voucher", "f-rewards-0-kind"),
    ] {
        let resp = save(&app, &cookie, &[("csrf", &csrf), (name, value)]).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let html = resp.text().await.unwrap();
        let said = message(&html, id);
        assert!(arabic(&said), "{name}: {said}");
        assert!(html.contains(&format!("href=\"#{id}\"")), "{name}: summary");
        assert!(html.contains("id=\"error-summary\" tabindex=\"-1\" autofocus"));
        assert!(html.contains("dir=\"rtl\""));
    }
    let html = save(
        &app,
        &cookie,
        &[("csrf", &csrf), ("rewards.1.points_cost", "0")],
    )
    .await
    .text()
    .await
    .unwrap();
    assert_eq!(
        message(&html, "f-rewards-1-points_cost"),
        "يجب أن يكون السعر من 1 إلى 10,000,000 نقطة."
    );
    assert_eq!(program(&app, SHOP).await, before, "nothing stored");
    assert_eq!(program(&app, OTHER).await, other);
    // The admin API keeps its English message for the same value.
    let mut body = before.clone();
    body["rewards"][1]["points_cost"] = json!(0);
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = resp.text().await.unwrap();
    assert!(
        text.contains("points_cost must be between 1 and 10,000,000"),
        "{text}"
    );
}

#[tokio::test]
async fn a_reward_row_is_added_filled_saved_and_removed() {
    let (app, cookie, csrf) = setup("en").await;
    let before = program(&app, SHOP).await;
    let rewards = before["rewards"].as_array().unwrap().len();
    let new = rewards.to_string();
    let field = |name: &str| format!("rewards.{new}.{name}");

    // "Add a reward": the page again with one more, empty row; nothing saved.
    let resp = save(&app, &cookie, &[("csrf", &csrf), ("_add", "rewards")]).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("name=\"{}\"", field("points_cost"))));
    assert!(html.contains(&format!("name=\"{}\"", field("amount_minor"))));
    assert_eq!(program(&app, SHOP).await, before);

    // A kind chosen for it: "update the form" shows that kind's settings instead.
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            (&field("kind"), "percent"),
            ("_update", "1"),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("name=\"{}\"", field("percent"))));
    assert!(!html.contains(&format!("name=\"{}\"", field("amount_minor"))));

    // Saved with a missing price: refused next to the new row's input, nothing stored.
    let mut form = vec![
        ("csrf".to_owned(), csrf.clone()),
        (field("id"), "fifteen".to_owned()),
        (field("title"), "15% off".to_owned()),
        (field("kind"), "percent".to_owned()),
        (field("percent"), "15".to_owned()),
        (field("points_cost"), "0".to_owned()),
    ];
    let resp = save_all(&app, &cookie, &form).await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    let id = format!("f-rewards-{new}-points_cost");
    assert!(message(&html, &id).contains("1 to 10,000,000"), "{html}");
    assert!(
        html.contains("value=\"fifteen\""),
        "the owner's row is kept"
    );
    assert_eq!(program(&app, SHOP).await, before);

    // Priced: saved as the last reward.
    form.last_mut().unwrap().1 = "1500".to_owned();
    let resp = save_all(&app, &cookie, &form).await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = program(&app, SHOP).await;
    let added = &after["rewards"][rewards];
    assert_eq!(added["id"], "fifteen");
    assert_eq!(added["kind"], "percent");
    assert_eq!(added["percent"], 15);
    assert_eq!(added["points_cost"], 1500);
    assert_eq!(after["rewards"][0], before["rewards"][0]);

    // Removed again, with the first reward: the others stay, in order.
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            ("_remove", "rewards.0"),
            ("_remove", &format!("rewards.{new}")),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let after = program(&app, SHOP).await;
    assert_eq!(
        after["rewards"].as_array().unwrap().as_slice(),
        &before["rewards"].as_array().unwrap()[1..]
    );
    let html = page(&app, &cookie, "/app/program").await;
    assert!(!html.contains(&format!(
        "name=\"_remove\" value=\"rewards.{}\"",
        rewards - 1
    )));
}

#[tokio::test]
async fn a_tier_level_threshold_is_edited_through_its_row() {
    let (app, cookie, csrf) = setup("en").await;
    let resp = save(
        &app,
        &cookie,
        &[
            ("csrf", &csrf),
            (
                "tiers",
                r#"{"levels": [{"id": "silver", "name": "Silver", "threshold": 100}, {"id": "gold", "name": "Gold", "threshold": 500}]}"#,
            ),
        ],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let before = program(&app, SHOP).await;
    let html = page(&app, &cookie, "/app/program").await;
    assert!(html.contains("name=\"tiers.levels.1.threshold\""), "{html}");

    // Below the level before it: refused next to that row's threshold.
    let resp = save(
        &app,
        &cookie,
        &[("csrf", &csrf), ("tiers.levels.1.threshold", "50")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = resp.text().await.unwrap();
    assert!(
        message(&html, "f-tiers-levels-1-threshold").contains("“gold” is not above"),
        "{html}"
    );
    assert!(html.contains("href=\"#f-tiers-levels-1-threshold\""));
    assert_eq!(program(&app, SHOP).await, before);

    let resp = save(
        &app,
        &cookie,
        &[("csrf", &csrf), ("tiers.levels.1.threshold", "750")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let mut expected = before.clone();
    expected["tiers"]["levels"][1]["threshold"] = json!(750);
    assert_eq!(program(&app, SHOP).await, expected);
    assert_eq!(program(&app, OTHER).await["tiers"], Value::Null);
}
