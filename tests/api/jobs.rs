//! Background jobs through the real runner: points confirm after the return window, sign-up and
//! birthday points are awarded once, and rerunning the scheduler adds nothing.

use chrono::Datelike;
use serde_json::json;

use boomerang::jobs;

use crate::helpers::{job_context, order_json, session_token, TestApp};

const SHOP: &str = "jobs.myshopify.com";

async fn run_jobs(app: &TestApp) -> jobs::RunReport {
    let ctx = job_context("unused-in-these-jobs-0123456789abcdef");
    app.with_db(|c| {
        boomerang::db::write_transaction(c, |c| jobs::enqueue_periodic(c, boomerang::db::now()))
            .unwrap()
    })
    .await;
    jobs::run_pending(&app.db, &ctx).await.unwrap()
}

#[tokio::test]
async fn the_confirm_job_makes_points_spendable_after_the_return_window() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let mut old = order_json(
        1,
        Some((5001, "old@example.com")),
        "paid",
        &[(1, 1, "70.00")],
    );
    old["created_at"] = json!("2026-10-01T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "old", &old).await;
    app.deliver(
        SHOP,
        "orders/paid",
        "new",
        &order_json(
            2,
            Some((5001, "old@example.com")),
            "paid",
            &[(2, 1, "30.00")],
        ),
    )
    .await;
    let report = run_jobs(&app).await;
    assert_eq!(report.failed, 0);
    let c = app.customer(SHOP, "5001").await;
    assert_eq!(
        (c["points_balance"].as_i64(), c["pending_points"].as_i64()),
        (Some(70), Some(30))
    );
    // The scheduler's next pass within the hour enqueues nothing new; nothing changes.
    let again = run_jobs(&app).await;
    assert_eq!(again, jobs::RunReport::default());
}

#[tokio::test]
async fn signup_and_birthday_points_are_awarded_once() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&json!({"earning": {"signup_points": 50, "birthday_points": 100}}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let today = chrono::Utc::now().date_naive();
    let birthday =
        chrono::NaiveDate::from_ymd_opt(1990, today.month(), today.day().min(28)).unwrap();
    let customer = json!({"id": 6001, "email": "bday@example.com", "first_name": "B", "last_name": "Day",
        "birthday": birthday.to_string(), "created_at": "2026-11-01T10:00:00Z", "updated_at": "2026-11-01T10:00:00Z"});
    app.deliver(SHOP, "customers/create", "c1", &customer).await;
    app.deliver(SHOP, "customers/update", "c2", &customer).await;
    assert_eq!(
        app.customer(SHOP, "6001").await["points_balance"],
        50,
        "sign-up once, not on update"
    );
    run_jobs(&app).await;
    // Late in a long month the birthday is the 28th: within the 7-day grace, so still due.
    let expected = 150;
    assert_eq!(app.customer(SHOP, "6001").await["points_balance"], expected);
    // Another bucket of the same day (another instance, a rerun): no second birthday.
    app.with_db(|c| {
        use diesel::prelude::*;
        diesel::delete(boomerang::db::schema::jobs::table)
            .execute(c)
            .unwrap();
    })
    .await;
    run_jobs(&app).await;
    assert_eq!(app.customer(SHOP, "6001").await["points_balance"], expected);
    let ledger: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/customers/6001/ledger")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"signup"), "{kinds:?}");
}
