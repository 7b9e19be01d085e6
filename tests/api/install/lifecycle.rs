//! After the install: an expired token refreshed before an Admin API call, the history
//! backfill (points only on request), uninstall then reinstall, `shop/update`.

use std::time::Duration;

use diesel::prelude::*;
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use boomerang::db::schema::shops;
use boomerang::db::types::InstallState;
use boomerang::jobs::{self, JobContext};
use boomerang::platform::shopify::api::{RetryPolicy, ShopifyApi};
use boomerang::platform::shopify::oauth::OAuthClient;
use boomerang::services::install::tokens::with_refresh;

use super::{grant, install_by_exchange, shop, spawn, tokens, GRAPHQL, TOKEN};
use crate::helpers::{
    backdate_install, job_context, order_json, session_token, TestApp, SECRET, TEST_APP_SECRET,
};

/// Jobs calling the fake Admin API, renewing tokens as the app does.
fn ctx(app: &TestApp, server: &MockServer) -> JobContext {
    let policy = RetryPolicy {
        attempts: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
        timeout: Duration::from_secs(2),
    };
    let oauth = OAuthClient::new(
        boomerang::config::DEMO_SHOPIFY_API_KEY,
        SECRET.to_owned().into(),
    )
    .unwrap();
    let api = ShopifyApi::new("2025-10", policy)
        .unwrap()
        .with_api_base(&server.uri());
    JobContext {
        keys: app.keys.clone(),
        shopify: with_refresh(api, &app.db, &app.keys, &oauth, &server.uri()),
        ..job_context(TEST_APP_SECRET)
    }
}

/// One order node of the orders query, dated 30 days ago (before the install: history).
fn order_page(id: u64, customer: u64) -> Value {
    let created = (chrono::Utc::now() - chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({"data": {"orders": {"pageInfo": {"hasNextPage": false, "endCursor": "c1"}, "nodes": [{
        "legacyResourceId": id.to_string(), "name": format!("#{id}"), "email": "h@example.com",
        "createdAt": created, "updatedAt": created, "cancelledAt": null, "test": false,
        "displayFinancialStatus": "PAID", "currencyCode": "USD",
        "customer": {"legacyResourceId": customer.to_string(), "email": "h@example.com"},
        "subtotalPriceSet": {"shopMoney": {"amount": "40.0", "currencyCode": "USD"}},
        "totalDiscountsSet": {"shopMoney": {"amount": "0.0"}},
        "totalTaxSet": {"shopMoney": {"amount": "0.0"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
        "totalPriceSet": {"shopMoney": {"amount": "40.0"}},
        "lineItems": {"nodes": [{"id": "gid://shopify/LineItem/1", "quantity": 1, "currentQuantity": 1,
            "isGiftCard": false, "product": {"legacyResourceId": "1"}, "variant": {"legacyResourceId": "2"},
            "originalUnitPriceSet": {"shopMoney": {"amount": "40.0"}},
            "totalDiscountSet": {"shopMoney": {"amount": "0.0"}}}]},
        "refunds": []
    }]}}})
}

async fn run_jobs(app: &TestApp, ctx: &JobContext) {
    for _ in 0..2 {
        jobs::run_pending(&app.db, ctx).await.unwrap();
    }
}

async fn backfill_status(app: &TestApp, domain: &str) -> Value {
    let resp = app
        .admin_get(&session_token(domain), "/api/admin/v1/backfill")
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Pages of history answered in turn: page n (from 1) holds order `9200 + n`, says another
/// page follows until `last`, with cursor `c{n}`; `last == 0`: the same cursor for ever.
struct HistoryPages {
    served: std::sync::atomic::AtomicUsize,
    last: usize,
}

impl wiremock::Respond for HistoryPages {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let n = self
            .served
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst)
            + 1;
        let mut page = order_page(9200 + n as u64, 80);
        let (more, cursor) = match self.last {
            0 => (true, "stuck".to_owned()),
            last => (n < last, format!("c{n}")),
        };
        page["data"]["orders"]["pageInfo"] = json!({"hasNextPage": more, "endCursor": cursor});
        ResponseTemplate::new(200).set_body_json(page)
    }
}

/// A long history is read a few pages per job run, each run queuing the next from the stored
/// cursor, to the end; a platform answering the same page for ever stops the backfill with
/// an error instead of looping.
#[tokio::test]
async fn a_long_history_is_read_in_runs_of_a_few_pages_and_a_looping_one_stops() {
    use boomerang::services::install::backfill::PAGES_PER_RUN;
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const LONG: &str = "long-history.myshopify.com";
    const LOOPING: &str = "looping.myshopify.com";
    let pages = PAGES_PER_RUN + 5;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_long"))
        .and(body_string_contains("BoomerangReconcile"))
        .respond_with(HistoryPages {
            served: Default::default(),
            last: pages,
        })
        .expect(pages as u64)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_loop"))
        .and(body_string_contains("BoomerangReconcile"))
        .respond_with(HistoryPages {
            served: Default::default(),
            last: 0,
        })
        .expect(2)
        .mount(&server)
        .await;
    install_by_exchange(&app, &server, LONG, "shpat_long", "shprt_long").await;
    install_by_exchange(&app, &server, LOOPING, "shpat_loop", "shprt_loop").await;
    let ctx = ctx(&app, &server);
    for _ in 0..4 {
        jobs::run_pending(&app.db, &ctx).await.unwrap();
    }
    let long = backfill_status(&app, LONG).await;
    assert_eq!(
        (long["status"].as_str(), long["orders"].as_i64()),
        (Some("done"), Some(pages as i64)),
        "{long}"
    );
    let looping = backfill_status(&app, LOOPING).await;
    assert_ne!(looping["status"], "done", "{looping}");
    assert_eq!(looping["orders"], 1, "the first page is kept: {looping}");
}

/// A token Shopify refuses before its time (revoked, the app's secret rotated) is renewed with
/// the refresh token once and the call made again; the refused token is never reused.
#[tokio::test]
async fn a_token_refused_before_its_time_is_renewed_once_and_the_call_made_again() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "revoked.myshopify.com";
    install_by_exchange(&app, &server, SHOP, "shpat_revoked", "shprt_live").await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_revoked"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string("[API] Invalid API key or access token"),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=shprt_live"))
        .respond_with(grant("shpat_renewed", "shprt_renewed"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_renewed"))
        .and(body_string_contains("BoomerangReconcile"))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_page(9101, 78)))
        .mount(&server)
        .await;
    let ctx = ctx(&app, &server);
    run_jobs(&app, &ctx).await;
    let shop = shop(&app, SHOP).await.unwrap();
    assert_eq!(
        tokens(&app, &shop).await,
        (Some("shpat_renewed".into()), Some("shprt_renewed".into()))
    );
    let status = backfill_status(&app, SHOP).await;
    assert_eq!(
        (status["status"].as_str(), status["orders"].as_i64()),
        (Some("done"), Some(1))
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_and_the_backfill_awards_only_on_request() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "history.myshopify.com";
    let installed = install_by_exchange(&app, &server, SHOP, "shpat_old", "shprt_old").await;
    // The hour is over: the next Admin API call must renew the token first.
    let id = installed.id.clone();
    app.with_db(move |c| {
        diesel::update(shops::table.find(&id))
            .set(
                shops::access_token_expires_at
                    .eq(Some(boomerang::db::now() - chrono::Duration::minutes(1))),
            )
            .execute(c)
            .unwrap()
    })
    .await;
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=shprt_old"))
        .respond_with(grant("shpat_new", "shprt_new"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(GRAPHQL))
        .and(header("X-Shopify-Access-Token", "shpat_new"))
        .and(body_string_contains("BoomerangReconcile"))
        .and(body_string_contains("created_at:>="))
        .respond_with(ResponseTemplate::new(200).set_body_json(order_page(9001, 77)))
        .expect(2)
        .mount(&server)
        .await;
    let ctx = ctx(&app, &server);
    run_jobs(&app, &ctx).await;
    let shop = shop(&app, SHOP).await.unwrap();
    assert_eq!(
        tokens(&app, &shop).await,
        (Some("shpat_new".into()), Some("shprt_new".into())),
        "the rotated pair is stored"
    );
    assert!(shop.access_token_expires_at.unwrap() > boomerang::db::now());
    let status = backfill_status(&app, SHOP).await;
    assert_eq!(
        (status["status"].as_str(), status["orders"].as_i64()),
        (Some("done"), Some(1))
    );
    // History: the customer is known, with no points.
    let customer = app.customer(SHOP, "77").await;
    assert_eq!(
        (
            customer["points_balance"].as_i64(),
            customer["pending_points"].as_i64()
        ),
        (Some(0), Some(0))
    );
    // Bad input changes nothing.
    let resp = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/backfill",
            json!({"award_points": "yes"}),
        )
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(backfill_status(&app, SHOP).await["status"], "done");
    // The owner asks for points: the history is read again and earns.
    let resp = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/backfill",
            json!({"award_points": true}),
        )
        .await;
    assert_eq!(resp.status(), 202);
    run_jobs(&app, &ctx).await;
    let status = backfill_status(&app, SHOP).await;
    assert_eq!(
        (status["status"].as_str(), status["award_points"].as_bool()),
        (Some("done"), Some(true))
    );
    let customer = app.customer(SHOP, "77").await;
    assert!(
        customer["pending_points"].as_i64().unwrap() + customer["points_balance"].as_i64().unwrap()
            > 0,
        "{customer}"
    );
}

#[tokio::test]
async fn another_shops_token_sees_its_own_backfill_only() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    install_by_exchange(&app, &server, "a-shop.myshopify.com", "shpat_a", "shprt_a").await;
    app.add_api_shop("b-shop.myshopify.com", &server.uri(), TEST_APP_SECRET)
        .await;
    assert_eq!(
        backfill_status(&app, "a-shop.myshopify.com").await["status"],
        "running"
    );
    assert_eq!(
        backfill_status(&app, "b-shop.myshopify.com").await["status"],
        "not_started"
    );
    let resp = app
        .client
        .get(app.url("/api/admin/v1/backfill"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn uninstall_then_reinstall_keeps_the_shops_data() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "comeback.myshopify.com";
    let first = install_by_exchange(&app, &server, SHOP, "shpat_1", "shprt_1").await;
    let id = first.id.clone();
    app.with_db(move |c| backdate_install(c, &id)).await;
    let order = order_json(
        5001,
        Some((55, "back@example.com")),
        "paid",
        &[(1, 1, "20.00")],
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1", &order).await,
        "accepted"
    );
    let before = app.customer(SHOP, "55").await;
    assert!(before["pending_points"].as_i64().unwrap() > 0);
    let gone = json!({"id": 1, "myshopify_domain": SHOP, "email": "owner@example.com"});
    assert_eq!(
        app.deliver(SHOP, "app/uninstalled", "u-1", &gone).await,
        "accepted"
    );
    let uninstalled = shop(&app, SHOP).await.unwrap();
    assert_eq!(uninstalled.install_state, InstallState::Uninstalled);
    assert_eq!(tokens(&app, &uninstalled).await, (None, None));
    assert_eq!(
        app.admin_get(&session_token(SHOP), "/api/admin/v1/shop")
            .await
            .status(),
        401
    );
    // Opening the app again installs it again: same shop, new token, data kept.
    let back = install_by_exchange(&app, &server, SHOP, "shpat_2", "shprt_2").await;
    assert_eq!(back.id, first.id);
    assert_eq!(back.install_state, InstallState::Installed);
    assert_eq!(back.uninstalled_at, None);
    assert_eq!(
        back.installed_at.date(),
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
    );
    assert_eq!(
        tokens(&app, &back).await,
        (Some("shpat_2".into()), Some("shprt_2".into()))
    );
    assert_eq!(app.customer(SHOP, "55").await, before);
}

#[tokio::test]
async fn shop_update_keeps_currency_time_zone_and_locale_current() {
    let server = MockServer::start().await;
    let app = spawn(&server).await;
    const SHOP: &str = "moving.myshopify.com";
    install_by_exchange(&app, &server, SHOP, "shpat_u", "shprt_u").await;
    let update = |tz: &str, n: u32| {
        json!({"id": 1, "myshopify_domain": SHOP, "currency": "JPY", "iana_timezone": tz,
            "primary_locale": "ja", "updated_at": format!("2026-11-30T10:00:0{n}Z")})
    };
    assert_eq!(
        app.deliver(SHOP, "shop/update", "s-1", &update("Asia/Tokyo", 1))
            .await,
        "accepted"
    );
    let shown = shop_view(&app, SHOP).await;
    assert_eq!(
        (
            shown["timezone"].as_str(),
            shown["currency"].as_str(),
            shown["locale"].as_str()
        ),
        (Some("Asia/Tokyo"), Some("JPY"), Some("ja"))
    );
    // A time zone that is not IANA's is not taken.
    app.deliver(SHOP, "shop/update", "s-2", &update("Mars/Olympus", 2))
        .await;
    assert_eq!(shop_view(&app, SHOP).await["timezone"], "Asia/Tokyo");
}

async fn shop_view(app: &TestApp, domain: &str) -> Value {
    app.admin_get(&session_token(domain), "/api/admin/v1/shop")
        .await
        .json()
        .await
        .unwrap()
}
