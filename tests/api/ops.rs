//! Health, readiness, metrics, error shape, body limit, pages.

use crate::helpers::{error_code, TestApp};

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert!(health.headers().contains_key("x-request-id"));
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.json::<serde_json::Value>().await.unwrap()["database"],
        "ok"
    );
}

#[tokio::test]
async fn metrics_count_requests_by_route_pattern() {
    let app = TestApp::spawn().await;
    app.get("/healthz").await;
    app.get("/no/such/thing").await;
    let resp = app.get("/metrics").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let text = resp.text().await.unwrap();
    assert!(
        text.contains(
            r#"boomerang_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("boomerang_http_request_duration_seconds_bucket"));
    // Unknown paths are one series, not one per path.
    assert!(!text.contains("/no/such/thing"));
}

#[tokio::test]
async fn unknown_routes_get_a_json_404() {
    let app = TestApp::spawn().await;
    let resp = app.get("/does-not-exist").await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");
}

#[tokio::test]
async fn oversize_bodies_are_refused_with_413_and_nothing_stored() {
    let app = TestApp::spawn_with(&[("MAX_BODY_BYTES", "4096")]).await;
    let body = format!(r#"{{"pad":"{}"}}"#, "x".repeat(10_000));
    let resp = app
        .post_shopify_webhook(
            "orders/paid",
            boomerang::services::demo::DEMO_SHOP_DOMAIN,
            "big-1",
            &body,
        )
        .await;
    assert_eq!(resp.status(), 413);
    assert_eq!(error_code(resp).await, "payload_too_large");
    let stored = app
        .with_db(|c| {
            use diesel::prelude::*;
            boomerang::db::schema::inbox_events::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 0);
}

#[tokio::test]
async fn home_page_shows_the_way_in() {
    let app = TestApp::spawn().await;
    let resp = app.get("/").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = resp.text().await.unwrap();
    for needle in [
        "/demo",
        "/demo/admin",
        "/demo/outbox",
        "X-Shopify-Hmac-Sha256",
        "boomerang-demo-secret",
    ] {
        assert!(html.contains(needle), "home page lacks {needle}");
    }
}

#[tokio::test]
async fn demo_pages_show_only_the_demo_shop() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    for path in ["/demo", "/demo/admin", "/demo/outbox"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(
            html.contains("boomerang-demo.myshopify.com") || path == "/demo/outbox",
            "{path}"
        );
    }
    let html = app.get("/demo").await.text().await.unwrap();
    assert!(
        html.contains("Ada Lovelace (2400)"),
        "the shopper switcher lists the demo members"
    );
}

/// Seeds the demo shop (SQLite seeds it at first start; PostgreSQL never does by itself).
pub async fn seed_demo(app: &TestApp) {
    let keys = app.keys.clone();
    app.with_db(move |c| {
        boomerang::services::demo::seed(c, &keys).unwrap();
    })
    .await;
}

#[tokio::test]
async fn postgres_instances_start_without_a_demo_shop() {
    let app = TestApp::spawn().await;
    let status = app.get("/demo").await.status();
    if app.test_db.is_postgres() {
        assert_eq!(status, 404);
    } else {
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn the_outbox_page_shows_the_demo_shops_mail_as_sent_and_no_other_shops() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    // Another shop's customer is mailed too: the demo pages never show it.
    app.add_shop("private.myshopify.com", "USD").await;
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(crate::helpers::session_token("private.myshopify.com"))
        .json(&serde_json::json!({"emails": {"policy": {"quiet_hours": null}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut order = crate::helpers::order_json(
        4242,
        Some((9, "someone@real-shop.example")),
        "paid",
        &[(1, 1, "20.00")],
    );
    order["created_at"] = serde_json::json!(chrono::Utc::now().to_rfc3339());
    app.deliver("private.myshopify.com", "orders/paid", "private-1", &order)
        .await;
    // A demo customer's order: its points_earned mail is the demo's.
    let mut demo_order = crate::helpers::order_json(
        5151,
        Some((7001, "ada@example.com")),
        "paid",
        &[(2, 1, "30.00")],
    );
    demo_order["created_at"] = serde_json::json!(chrono::Utc::now().to_rfc3339());
    app.deliver(
        boomerang::services::demo::DEMO_SHOP_DOMAIN,
        "orders/paid",
        "demo-1",
        &demo_order,
    )
    .await;
    let report = boomerang::jobs::run_pending(
        &app.db,
        &boomerang::jobs::JobContext {
            mail: boomerang::startup::mail_setup(&app.config).unwrap(),
            ..crate::helpers::job_context(crate::helpers::TEST_APP_SECRET)
        },
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 0);
    let html = app.get("/demo/outbox").await.text().await.unwrap();
    assert!(
        html.contains("points_earned"),
        "the demo order's mail: {html}"
    );
    assert!(!html.contains("someone@real-shop.example") && !html.contains("#4242"));
    // Each message opens as the customer sees it; another shop's message is not found.
    let id = html
        .split("/demo/outbox/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a link to a sent message")
        .to_owned();
    let page = app.get(&format!("/demo/outbox/{id}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("srcdoc=") && page.contains(r#"<pre lang="en" dir="ltr">"#),
        "{page}"
    );
    let other: String = app
        .with_db(|c| {
            use boomerang::db::schema::emails;
            use diesel::prelude::*;
            emails::table
                .inner_join(boomerang::db::schema::shops::table)
                .filter(boomerang::db::schema::shops::domain.eq("private.myshopify.com"))
                .select(emails::id)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(
        app.get(&format!("/demo/outbox/{other}")).await.status(),
        404
    );
}

/// A newcomer sees mail before clicking anything: every demo customer was welcomed, and Layla
/// (who shops in Arabic) in Arabic, right to left, in both parts.
#[tokio::test]
async fn the_demo_outbox_starts_with_welcomes_and_one_of_them_is_arabic() {
    // SQLite seeds the demo at start; PostgreSQL only when asked (`boomerang demo`).
    let app = TestApp::spawn_keeping_demo_mail().await;
    seed_demo(&app).await;
    let report = boomerang::jobs::run_pending(
        &app.db,
        &boomerang::jobs::JobContext {
            mail: boomerang::startup::mail_setup(&app.config).unwrap(),
            ..crate::helpers::job_context(crate::helpers::TEST_APP_SECRET)
        },
    )
    .await
    .unwrap();
    assert_eq!(report.failed, 0);
    let html = app.get("/demo/outbox").await.text().await.unwrap();
    let rows: Vec<&str> = html
        .split("<tr>")
        .filter(|r| r.contains("<td>welcome</td>"))
        .collect();
    assert_eq!(rows.len(), 4, "{html}");
    let arabic = rows
        .iter()
        .find(|r| r.contains("<code>7004</code>"))
        .expect("Layla's welcome");
    assert!(
        arabic.contains("<td>ar</td>") && arabic.contains("<td>sent"),
        "{arabic}"
    );
    let id = arabic
        .split("/demo/outbox/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap();
    let page = app
        .get(&format!("/demo/outbox/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("أهلًا بك في مكافآت"), "{page}");
    assert!(page.contains(r#"<pre lang="ar" dir="rtl">"#), "{page}");
    // The HTML part, escaped into the frame's srcdoc, is right to left too.
    assert!(
        page.contains("dir=&quot;rtl&quot;") || page.contains("dir=&#34;rtl&#34;"),
        "{page}"
    );
    // Her storefront speaks Arabic unless the page is asked for English.
    let storefront = app.get("/demo?as=7004").await.text().await.unwrap();
    assert!(storefront.contains(r#"<html lang="ar" dir="rtl">"#));
    let english = app.get("/demo?as=7004&lang=en").await.text().await.unwrap();
    assert!(english.contains(r#"<html lang="en" dir="ltr">"#));
}

#[tokio::test]
async fn real_credentials_serve_no_demo_shop_and_no_digest_for_any_customer() {
    let app = TestApp::spawn_with(&[
        ("SHOPIFY_API_KEY", "real-key"),
        ("SHOPIFY_API_SECRET", "a-real-and-private-secret"),
    ])
    .await;
    assert!(!app.config.shopify.using_demo_credentials);
    let shops = app
        .with_db(|c| boomerang::db::models::Shop::count(c).unwrap())
        .await;
    assert_eq!(shops, 0, "no demo shop is created beside real credentials");
    // Even a demo shop left from a demo run is not shown, nor a digest handed out for it.
    seed_demo(&app).await;
    for path in ["/demo", "/demo?as=7001", "/demo/admin", "/demo/outbox"] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(error_code(resp).await, "not_found", "{path}");
    }
    let home = app.get("/").await.text().await.unwrap();
    assert!(!home.contains("href=\"/demo\""), "home links no demo");
}
