//! The program editor in a real browser, in English and in Arabic (right to left): sign in with
//! a one-time link, open the program, enter a bad value and see the message next to its field
//! (and linked from the summary), fix it, save, see "Saved" — and the whole form posted by the
//! browser stores exactly the one change.

use fantoccini::{Client, Locator};
use serde_json::json;

use super::admin_ui::{click, fill, shop_speaking, text_of};
use super::{artifact, browser, driver};
use crate::helpers::{session_token, TestApp};

const SHOP: &str = "browser-program.myshopify.com";

async fn submit(client: &Client) {
    click(
        client,
        "form[action='/app/program'] .row-actions button[name='_save']",
    )
    .await;
}

async fn program(app: &TestApp) -> serde_json::Value {
    app.admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap()
}

async fn edit_program(locale: &str, saved: &str, refusal: &str) {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    let shop_id = shop_speaking(&app, SHOP, locale).await;
    let before = program(&app).await;
    let token = crate::admin_ui::login_token(&app, &shop_id).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        client
            .goto(&app.url(&format!("/app/login?token={token}")))
            .await
            .unwrap();
        click(&client, "form[action='/app/login'] button").await;
        text_of(&client, "nav a[aria-current=page]").await;
        click(&client, "nav a[href='/app/program']").await;
        assert!(!text_of(&client, "#s-earning legend").await.is_empty());

        // A negative sign-up bonus: refused next to its field, linked from the summary.
        fill(&client, "#f-earning-signup_points", "-5").await;
        submit(&client).await;
        let message = text_of(&client, "#f-earning-signup_points-error").await;
        // (Bidi marks around the owner's value may or may not be in an element's text.)
        let plain = |text: &str| text.replace('\u{200E}', "");
        assert_eq!(plain(&message), plain(refusal), "in the page's language");
        // The summary has the focus, so a screen reader starts there.
        let focused = client
            .execute(
                "return document.activeElement && document.activeElement.id;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(focused, json!("error-summary"));
        let field = client
            .find(Locator::Css("#f-earning-signup_points"))
            .await
            .unwrap();
        assert_eq!(
            field.attr("aria-invalid").await.unwrap().as_deref(),
            Some("true")
        );
        assert!(field
            .attr("aria-describedby")
            .await
            .unwrap()
            .unwrap_or_default()
            .contains("f-earning-signup_points-error"));
        assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("-5"));
        client
            .find(Locator::Css(
                "#error-summary a[href='#f-earning-signup_points']",
            ))
            .await
            .expect("the summary links to the field");
        let dir = client
            .execute("return document.documentElement.dir;", vec![])
            .await
            .unwrap();
        assert_eq!(dir, json!(if locale == "ar" { "rtl" } else { "ltr" }));
        std::fs::write(
            artifact(&format!("admin-program-refused-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        assert_eq!(program(&app).await, before, "nothing stored");

        // Fixed: saved, and only that setting changed.
        fill(&client, "#f-earning-signup_points", "25").await;
        submit(&client).await;
        assert_eq!(text_of(&client, "#saved").await, saved);
        let mut expected = before.clone();
        expected["earning"]["signup_points"] = json!(25);
        assert_eq!(program(&app).await, expected);

        // "Add a reward" shows one more, empty row without saving; its kind's settings follow
        // the kind chosen once the form is updated.
        let rows = expected["rewards"].as_array().unwrap().len();
        click(&client, "button[name='_add'][value='rewards']").await;
        let kind = format!("#f-rewards-{rows}-kind");
        text_of(&client, &format!("#f-rewards-{rows} legend")).await;
        assert_eq!(program(&app).await, expected, "adding a row saves nothing");
        client
            .find(Locator::Css(&kind))
            .await
            .unwrap()
            .select_by_value("percent")
            .await
            .unwrap();
        click(
            &client,
            &format!("#f-rewards-{rows} button[name='_update']"),
        )
        .await;
        client
            .find(Locator::Css(&format!("#f-rewards-{rows}-percent")))
            .await
            .expect("the percent reward's setting");
        client
            .execute(
                &format!("document.getElementById('f-rewards-{rows}').scrollIntoView();"),
                vec![],
            )
            .await
            .unwrap();
        std::fs::write(
            artifact(&format!("admin-program-row-added-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        // The page is usable on a phone: nothing wider than the screen.
        client.set_window_size(375, 800).await.unwrap();
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth <= window.innerWidth;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(overflow, json!(true), "the page scrolls sideways at 375 px");
        std::fs::write(
            artifact(&format!("admin-program-saved-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    .await;
    client.close().await.unwrap();
    result
}

#[tokio::test]
async fn an_owner_fixes_a_refused_program_setting_and_saves_in_english() {
    edit_program(
        "en",
        "Saved",
        "Enter 0 to 10000000 points; -5 is outside that.",
    )
    .await;
}

#[tokio::test]
async fn an_owner_fixes_a_refused_program_setting_and_saves_in_arabic() {
    edit_program(
        "ar",
        "تم الحفظ",
        "أدخل من 0 إلى 10000000 نقطة؛ \u{200E}-5\u{200E} خارج هذا النطاق.",
    )
    .await;
}
