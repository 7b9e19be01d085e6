//! The history backfill of a BigCommerce shop against a fake API: `v2/orders` by
//! `min_date_created`, oldest first, each order read into its document and stored through the
//! inbox; history (dated before the install) counts as orders but earns only once the owner
//! asks to award it; a run reads two pages, then the next goes on from the stored cursor.

use serde_json::{json, Value};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{add_bc_shop, document, run_jobs, serve, spawn, GUEST, SECRET, SHOP, TOKEN};
use crate::helpers::{job_context, TestApp, TEST_APP_SECRET};

const ORDERS: &str = "/stores/abc123/v2/orders";

/// Answers listings of `page` (with `min_date_created` = `since` when given) with `orders`.
async fn listing(server: &MockServer, since: Option<&str>, page: u32, orders: Vec<Value>) {
    let mut mock = Mock::given(method("GET"))
        .and(path(ORDERS))
        .and(header("x-auth-token", TOKEN))
        .and(query_param("sort", "date_created:asc"))
        .and(query_param("limit", "250"))
        .and(query_param("page", page.to_string()));
    if let Some(since) = since {
        mock = mock.and(query_param("min_date_created", since));
    }
    let answer = if orders.is_empty() {
        ResponseTemplate::new(204)
    } else {
        ResponseTemplate::new(200).set_body_json(Value::Array(orders))
    };
    mock.respond_with(answer).mount(server).await;
}

/// A test app and a BigCommerce shop installed now (the fixture's orders are history); returns
/// the app, the fake API, the shop id and its admin API key.
async fn installed_now() -> (TestApp, MockServer, String, String) {
    let server = MockServer::start().await;
    let app = spawn().await;
    let (shop_id, token) = add_bc_shop(&app, SHOP, SECRET, &server.uri()).await;
    let id = shop_id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.find(id))
            .set(shops::installed_at.eq(boomerang::db::now()))
            .execute(c)
            .unwrap();
    })
    .await;
    (app, server, shop_id, token)
}

/// Starts a backfill, then moves its start back to 2026-11-01: it reads the 365 days before
/// now, and the fixture's orders have fixed dates, so on a later day they would fall outside it.
async fn start(app: &TestApp, token: &str, award_points: bool) -> Value {
    let resp = app
        .admin_post(
            token,
            "/api/admin/v1/backfill",
            json!({ "award_points": award_points }),
        )
        .await;
    assert_eq!(resp.status(), 202);
    let started = resp.json().await.unwrap();
    app.with_db(|c| {
        use boomerang::db::schema::history_backfills;
        use diesel::prelude::*;
        let since = chrono::NaiveDate::from_ymd_opt(2026, 11, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        diesel::update(history_backfills::table)
            .set(history_backfills::since.eq(since))
            .execute(c)
            .unwrap();
    })
    .await;
    started
}

async fn status(app: &TestApp, token: &str) -> Value {
    app.admin_get(token, "/api/admin/v1/backfill")
        .await
        .json()
        .await
        .unwrap()
}

/// (spendable + pending points of the guest, orders stored for the shop).
async fn earned_and_orders(app: &TestApp, shop_id: &str) -> (i64, i64) {
    let (spendable, pending) = super::points(app, shop_id, GUEST).await;
    let shop_id = shop_id.to_owned();
    let orders = app
        .with_db(move |c| {
            use boomerang::db::schema::orders;
            use diesel::prelude::*;
            orders::table
                .filter(orders::shop_id.eq(shop_id))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    (spendable + pending, orders)
}

/// The (`min_date_created`, `page`) of every listing BigCommerce was asked for, in order.
async fn listings_asked(server: &MockServer) -> Vec<(String, String)> {
    let param = |r: &wiremock::Request, key: &str| {
        r.url
            .query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == ORDERS)
        .map(|r| (param(r, "min_date_created"), param(r, "page")))
        .collect()
}

#[tokio::test]
async fn the_backfill_follows_the_pages_and_history_earns_only_when_awarded() {
    let (app, server, shop_id, token) = installed_now().await;
    let ctx = job_context(TEST_APP_SECRET);
    // Two full pages created in one second (the same order 250 times stands in for 250),
    // then, in the next run, the third page of that second holds one more order.
    let first = document(290, 0, 10, "Fri, 20 Nov 2026 10:00:00 +0000", &[]);
    let mut last = document(291, 0, 10, "Fri, 20 Nov 2026 10:00:00 +0000", &[]);
    last["order"]["date_created"] = json!("Sat, 21 Nov 2026 08:00:00 +0000");
    serve(&server, &first, None).await;
    serve(&server, &last, None).await;
    let second = "2026-11-20T10:00:00+00:00";
    listing(&server, Some(second), 1, vec![first["order"].clone(); 250]).await;
    listing(&server, Some(second), 2, vec![last["order"].clone()]).await;
    listing(&server, None, 1, vec![first["order"].clone(); 250]).await;

    let started = start(&app, &token, false).await;
    assert_eq!(started["status"], "running");
    let report = run_jobs(&app, &ctx).await;
    assert_eq!(report.failed, 0);
    let done = status(&app, &token).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["orders"], 501, "{done}");
    assert_eq!(done["award_points"], false);
    let asked = listings_asked(&server).await;
    assert_eq!(asked.len(), 3, "{asked:?}");
    assert_eq!(asked[1], (second.to_owned(), "1".to_owned()));
    assert_eq!(asked[2], (second.to_owned(), "2".to_owned()));
    // History: both orders stored, no points.
    assert_eq!(earned_and_orders(&app, &shop_id).await, (0, 2));

    // Asked to award: the same history is read again and earns, once per order.
    start(&app, &token, true).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(status(&app, &token).await["status"], "done");
    assert_eq!(earned_and_orders(&app, &shop_id).await, (48, 2));
    start(&app, &token, true).await;
    run_jobs(&app, &ctx).await;
    assert_eq!(earned_and_orders(&app, &shop_id).await, (48, 2), "once");
}

#[tokio::test]
async fn a_backfill_cut_short_goes_on_from_its_stored_cursor() {
    let (app, server, shop_id, token) = installed_now().await;
    let order = document(292, 0, 10, "Fri, 20 Nov 2026 10:00:00 +0000", &[]);
    serve(&server, &order, None).await;
    let resumed = "2026-11-19T00:00:00+00:00";
    listing(&server, Some(resumed), 3, vec![order["order"].clone()]).await;
    start(&app, &token, false).await;
    // A crash after three pages: the cursor says where the next page starts.
    let id = shop_id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::history_backfills;
        use diesel::prelude::*;
        diesel::update(history_backfills::table.find(id))
            .set((
                history_backfills::cursor
                    .eq(json!({"created_since": resumed, "page": 3}).to_string()),
                history_backfills::orders.eq(750_i64),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
    let report = run_jobs(&app, &job_context(TEST_APP_SECRET)).await;
    assert_eq!(report.failed, 0);
    assert_eq!(
        listings_asked(&server).await,
        vec![(resumed.to_owned(), "3".to_owned())]
    );
    let done = status(&app, &token).await;
    assert_eq!(
        (&done["status"], &done["orders"]),
        (&json!("done"), &json!(751))
    );
    assert_eq!(earned_and_orders(&app, &shop_id).await, (0, 1));
}

#[tokio::test]
async fn a_woocommerce_shop_still_has_no_backfill() {
    let app = TestApp::spawn().await;
    let keys = app.keys.clone();
    let token = app
        .with_db(move |c| {
            let spec = boomerang::services::shops::ShopSpec {
                platform: Some(boomerang::db::types::Platform::WooCommerce),
                domain: "woo.example".into(),
                webhook_secret: Some("woo-secret".into()),
                currency: Some("USD".into()),
                ..Default::default()
            };
            boomerang::services::shops::add_shop(c, &keys, &spec)
                .unwrap()
                .admin_api_key
                .unwrap()
        })
        .await;
    let resp = app
        .admin_post(
            &token,
            "/api/admin/v1/backfill",
            json!({"award_points": false}),
        )
        .await;
    assert_eq!(resp.status(), 422);
}
