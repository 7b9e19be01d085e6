//! The tier block of the widget in a real browser: Alan (Bronze) sees his tier, a progress bar
//! to Silver and Gold's reward labelled, then places the demo order the page offers and watches
//! the widget upgrade him, in English and in Arabic.

use serde_json::json;

use super::{artifact, assert_clean_text, browser, driver, element, wait_for};
use crate::helpers::TestApp;

struct Expect {
    lang: &'static str,
    /// The badge before and after the order.
    bronze: &'static str,
    silver: &'static str,
    /// What the widget says is left to Silver; `{n}` is 300 in the shopper's numerals (the
    /// browser's own: Arabic digits or not depends on its locale data).
    to_silver: &'static str,
    /// The label of the Gold-only reward.
    gold_only: &'static str,
}

/// The progress bar's (valuenow, valuemax, label) once its max is `max`.
async fn progress(client: &fantoccini::Client, max: i64) -> serde_json::Value {
    wait_for(
        client,
        &format!("a progress bar up to {max}"),
        &format!(
            "const b = root.querySelector('[role=progressbar]');
             return b && b.getAttribute('aria-valuemax') === '{max}'
               && [b.getAttribute('aria-valuenow'), b.getAttribute('aria-valuemax'), b.getAttribute('aria-label')];"
        ),
    )
    .await
}

async fn badge(client: &fantoccini::Client, want: &str) {
    wait_for(
        client,
        &format!("the badge {want:?}"),
        &format!(
            "const b = root.querySelector('.tier .badge'); return b && b.textContent === {};",
            json!(want)
        ),
    )
    .await;
}

async fn upgrade_in_the_demo(expect: Expect) {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        client
            .goto(&app.url(&format!("/demo?as=7003&lang={}", expect.lang)))
            .await
            .unwrap();
        let before = client
            .execute("return document.body.scrollHeight;", vec![])
            .await
            .unwrap();
        element(&client, "the launcher", "button.l")
            .await
            .click()
            .await
            .unwrap();
        badge(&client, expect.bronze).await;
        let bar = progress(&client, 300).await;
        assert_eq!(bar[0], "0", "Alan has no points yet: {bar}");
        let panel_text = wait_for(
            &client,
            "what is left to Silver",
            &format!(
                "const t = root.querySelector('[role=dialog]').innerText;
                 const want = {}.replace('{{n}}', new Intl.NumberFormat({}).format(300));
                 return t.includes(want) && t;",
                json!(expect.to_silver),
                json!(expect.lang)
            ),
        )
        .await;
        let panel_text = panel_text.as_str().unwrap();
        assert!(panel_text.contains(expect.gold_only), "{panel_text}");
        assert!(
            panel_text.contains("Points on every order"),
            "Bronze's perks: {panel_text}"
        );
        assert_clean_text(&client).await;
        let after = client
            .execute("return document.body.scrollHeight;", vec![])
            .await
            .unwrap();
        assert_eq!(before, after, "the tier block moved the page");
        std::fs::write(
            artifact(&format!("widget-tier-bronze-{}.png", expect.lang)),
            client.screenshot().await.unwrap(),
        )
        .unwrap();

        // The page's one-click order that reaches Silver, with the widget open beside it.
        client
            .find(fantoccini::Locator::Css("#demo-upgrade"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .wait()
            .for_element(fantoccini::Locator::XPath(
                "//p[@id='demo-order-status'][contains(., 'HTTP 200 accepted')]",
            ))
            .await
            .expect("the demo order is accepted");
        badge(&client, expect.silver).await;
        let bar = progress(&client, 900).await;
        assert_eq!(bar[0], "300", "300 of Gold's 900 points: {bar}");
        assert_clean_text(&client).await;
        std::fs::write(
            artifact(&format!("widget-tier-silver-{}.png", expect.lang)),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    .await;
    client.close().await.unwrap();
    result
}

#[tokio::test]
async fn a_demo_order_upgrades_the_shopper_in_the_widget_in_english() {
    upgrade_in_the_demo(Expect {
        lang: "en",
        bronze: "Bronze member",
        silver: "Silver member",
        to_silver: "{n} more points to reach Silver",
        gold_only: "Gold and above",
    })
    .await;
}

#[tokio::test]
async fn a_demo_order_upgrades_the_shopper_in_the_widget_in_arabic() {
    upgrade_in_the_demo(Expect {
        lang: "ar",
        bronze: "عضو البرونزي",
        silver: "عضو الفضي",
        to_silver: "{n} نقطة أخرى للوصول إلى الفضي",
        gold_only: "الذهبي وما فوق",
    })
    .await;
}
