//! What an install and a load start beside signing in: the install queues the history
//! backfill; each load queues a registration of the store's webhooks (answering without
//! waiting for BigCommerce), which puts back hooks the store lost, once however many loads.

use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use super::fake::{self, signed_payload, CLIENT_SECRET, HASH};
use super::{get, installs, session_cookie, spawn, REDIRECT_URI};
use crate::helpers::{job_context, TestApp, TEST_APP_SECRET};
use boomerang::platform::bigcommerce::hooks::SCOPES;

/// How many jobs of `kind` are queued.
async fn queued(app: &TestApp, kind: &str) -> i64 {
    let kind = kind.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::jobs;
        use diesel::prelude::*;
        jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::status.eq("queued"))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

#[tokio::test]
async fn an_install_starts_the_backfill_and_a_load_registers_lost_hooks_in_a_job() {
    let (fake, hooks) = fake::bigcommerce(REDIRECT_URI).await;
    // The store has no orders yet: the backfill reads one empty page.
    Mock::given(method("GET"))
        .and(path(format!("/stores/{HASH}/v2/orders")))
        .respond_with(ResponseTemplate::new(204))
        .mount(&fake)
        .await;
    let app = spawn(&fake.uri()).await;
    installs(&app).await;
    assert_eq!(hooks.all().len(), SCOPES.len());
    assert_eq!(queued(&app, "backfill_orders").await, 1);

    // BigCommerce dropped the hooks (two days of failed deliveries, an owner's cleanup).
    hooks.0.lock().unwrap().clear();
    // Two loads (each with its own payload: a payload is good once).
    for _ in 0..2 {
        let load = format!(
            "/auth/bigcommerce/load?signed_payload_jwt={}",
            signed_payload(HASH, CLIENT_SECRET, |_| {})
        );
        session_cookie(&get(&app, &load).await);
    }
    assert!(
        hooks.all().is_empty(),
        "the load did not wait for BigCommerce"
    );
    assert_eq!(queued(&app, "register_bigcommerce_hooks").await, 1, "once");

    let mut ctx = job_context(TEST_APP_SECRET);
    ctx.bigcommerce_api_base = fake.uri();
    let report = boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!(report.failed, 0);
    let scopes: Vec<String> = hooks
        .all()
        .iter()
        .map(|h| h["scope"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(scopes.len(), SCOPES.len(), "{scopes:?}");
    for scope in SCOPES {
        assert!(scopes.iter().any(|s| s == scope), "{scope}");
    }
    let status = app
        .with_db(|c| {
            use boomerang::db::schema::history_backfills;
            use diesel::prelude::*;
            history_backfills::table
                .select(history_backfills::finished_at)
                .first::<Option<chrono::NaiveDateTime>>(c)
                .unwrap()
        })
        .await;
    assert!(status.is_some(), "the backfill read its one empty page");
}
