//! The owner's admin in a real browser, in English and in Arabic (right to left): sign in with a
//! one-time link, find a customer, see a bad adjustment refused next to its field, adjust, and
//! import a CSV with a bad row (reported by line, the rest imported), see the overview's chart;
//! the demo's own link opens the same admin for the demo shop.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use super::{artifact, browser, driver};
use crate::helpers::TestApp;

const SHOP: &str = "browser-admin.myshopify.com";

pub(super) async fn text_of(client: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(e) = client.find(Locator::Css(css)).await {
            if let Ok(text) = e.text().await {
                return text;
            }
        }
        assert!(Instant::now() < deadline, "no {css} on the page");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Types into the field, retrying while the page is still being replaced (a field found on
/// the page before a navigation finished goes stale under us).
pub(super) async fn fill(client: &Client, css: &str, value: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = async {
            let field = client.find(Locator::Css(css)).await?;
            field.clear().await?;
            field.send_keys(value).await
        };
        match attempt.await {
            Ok(()) => return,
            Err(e) => assert!(Instant::now() < deadline, "cannot fill {css}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks something that loads a page (every click here does) and waits for the new page, so
/// what follows never reads the page being left.
/// A shop with one customer (7001, Ada) whose admin is in `locale`; its id.
pub(super) async fn shop_speaking(app: &TestApp, domain: &str, locale: &str) -> String {
    let (shop_id, _) = app
        .add_shop_with_member(domain, "7001", "ada@example.com")
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
    shop_id
}

pub(super) async fn click(client: &Client, css: &str) {
    client
        .execute("window.__leaving = true;", vec![])
        .await
        .unwrap();
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let arrived = client
            .execute(
                "return window.__leaving !== true && document.readyState === 'complete';",
                vec![],
            )
            .await;
        if matches!(arrived, Ok(serde_json::Value::Bool(true))) {
            return;
        }
        assert!(Instant::now() < deadline, "clicking {css} loaded no page");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn owner_session(locale: &str, nav: &str, dir: &str) {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    let shop_id = shop_speaking(&app, SHOP, locale).await;
    // An anonymous order three days ago (no one's points change), for the overview's chart.
    let order = crate::metrics::order(1, 0, None, "40.00", 3);
    app.deliver(SHOP, "orders/paid", "o1", &order).await;
    let token = crate::admin_ui::login_token(&app, &shop_id).await;
    let client = browser(&driver, &chromium).await;
    let result = async {
        // The link shows a button; pressing it signs in and lands on the overview.
        client
            .goto(&app.url(&format!("/app/login?token={token}")))
            .await
            .unwrap();
        click(&client, "form[action='/app/login'] button").await;
        assert_eq!(text_of(&client, "nav a[aria-current=page]").await, nav);
        let html_dir = client
            .execute("return document.documentElement.dir;", vec![])
            .await
            .unwrap();
        assert_eq!(html_dir, serde_json::json!(dir));

        // Find Ada by part of her address, open her profile.
        client.goto(&app.url("/app/customers")).await.unwrap();
        fill(&client, "#q", "ADA@").await;
        click(&client, "form[role=search] button").await;
        click(&client, "a[href='/app/customers/7001']").await;

        // A bad value is refused and shown next to its field; nothing changes.
        fill(&client, "#points", "ten").await;
        fill(&client, "#reason", "welcome gift").await;
        click(&client, "form[action$='/adjustments'] button").await;
        // In the shop's language, naming what was typed.
        let refused = text_of(&client, "#points-error").await;
        assert!(refused.contains("“ten”"), "{refused}");
        if locale == "ar" {
            assert!(refused.contains("ليس عددًا صحيحًا"), "{refused}");
        } else {
            assert!(refused.contains("not a whole number"), "{refused}");
        }
        let invalid = client
            .execute(
                "return document.getElementById('points').getAttribute('aria-invalid');",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(invalid, serde_json::json!("true"));
        assert_eq!(text_of(&client, "#balance").await, "0");
        std::fs::write(
            artifact(&format!("admin-adjust-refused-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();

        fill(&client, "#points", "25").await;
        click(&client, "form[action$='/adjustments'] button").await;
        assert_eq!(text_of(&client, "#balance").await, "25");
        assert!(!text_of(&client, "p.notice").await.is_empty());

        // Import a file with one good and one bad row.
        let csv = artifact(&format!("admin-import-{locale}.csv"));
        std::fs::write(
            &csv,
            "customer_id,email,points\n8001,new@example.com,40\n8002,,lots\n",
        )
        .unwrap();
        client.goto(&app.url("/app/transfer")).await.unwrap();
        client
            .find(Locator::Css("#file"))
            .await
            .unwrap()
            .send_keys(&csv.display().to_string())
            .await
            .unwrap();
        click(&client, "form[action='/app/import'] button").await;
        assert_eq!(text_of(&client, "#imported").await, "1");
        assert_eq!(text_of(&client, "#failed").await, "1");
        let error_row = text_of(&client, "#import-errors tbody tr").await;
        assert!(
            error_row.starts_with('3') && error_row.contains("lots"),
            "{error_row}"
        );
        std::fs::write(
            artifact(&format!("admin-import-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        assert_eq!(app.customer(SHOP, "8001").await["points_balance"], 40);
        assert_eq!(app.customer(SHOP, "7001").await["points_balance"], 25);

        // The overview's orders chart is drawn, visible and as wide as its column.
        client.goto(&app.url("/app")).await.unwrap();
        let chart = client
            .find(Locator::Css("#chart-orders svg[role=img]"))
            .await
            .unwrap();
        assert!(chart.is_displayed().await.unwrap());
        let width = client
            .execute(
                "const s = document.querySelector('#chart-orders svg');\
                 const f = document.querySelector('#chart-orders');\
                 return [s.getBoundingClientRect().width, s.getBoundingClientRect().height, f.clientWidth];",
                vec![],
            )
            .await
            .unwrap();
        let [w, h, column] = [0, 1, 2].map(|i| width[i].as_f64().unwrap_or(0.0));
        assert!(w > 100.0 && h > 30.0 && w <= column, "{width}");
        client
            .execute("document.getElementById('chart-orders').scrollIntoView();", vec![])
            .await
            .unwrap();
        std::fs::write(
            artifact(&format!("admin-overview-wide-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
        // On a phone the chart shrinks with the page instead of scrolling it sideways.
        client.set_window_size(375, 800).await.unwrap();
        let fits = client
            .execute(
                "document.getElementById('chart-orders').scrollIntoView();\
                 return document.documentElement.scrollWidth <= window.innerWidth \
                   && document.querySelector('#chart-orders svg').getBoundingClientRect().width > 200;",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(fits, serde_json::json!(true));
        std::fs::write(
            artifact(&format!("admin-overview-{locale}.png")),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    .await;
    client.close().await.unwrap();
    result
}

#[tokio::test]
async fn an_owner_signs_in_by_link_adjusts_and_imports_in_english() {
    owner_session("en", "Overview", "ltr").await;
}

#[tokio::test]
async fn an_owner_signs_in_by_link_adjusts_and_imports_in_arabic() {
    owner_session("ar", "نظرة عامة", "rtl").await;
}

#[tokio::test]
async fn the_demo_opens_the_owners_admin_for_the_demo_shop() {
    let Some((driver, chromium)) = driver() else {
        return;
    };
    let app = TestApp::spawn().await;
    crate::ops::seed_demo(&app).await;
    let client = browser(&driver, &chromium).await;
    client.goto(&app.url("/demo/app")).await.unwrap();
    let shop = text_of(&client, "header .shop").await;
    assert_eq!(shop, boomerang::services::demo::DEMO_SHOP_DOMAIN);
    client.goto(&app.url("/app/customers")).await.unwrap();
    let rows = client
        .execute(
            "return document.querySelectorAll('tbody tr').length;",
            vec![],
        )
        .await
        .unwrap();
    assert!(rows.as_u64().unwrap_or(0) >= 4, "{rows}");
    client.close().await.unwrap();
}
