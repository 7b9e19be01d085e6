//! Background jobs through the real runner: points confirm after the return window, sign-up and
//! birthday points are awarded once, and rerunning the scheduler adds nothing.

use chrono::Datelike;
use serde_json::json;

use boomerang::jobs;

use crate::helpers::{job_context, order_json, placed_days_ago, session_token, TestApp};

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
    let new = order_json(
        2,
        Some((5001, "old@example.com")),
        "paid",
        &[(2, 1, "30.00")],
    );
    let new = placed_days_ago(new, 1);
    app.deliver(SHOP, "orders/paid", "new", &new).await;
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

/// Two confirmation runs overlap (a job whose lease ran out and its new holder, or `jobs
/// run-once` beside the scheduler): the second read the due line before the first committed,
/// then waited for the member's lock. It must not credit the line the first already confirmed.
#[tokio::test]
async fn overlapping_confirmation_runs_credit_each_line_once() {
    use boomerang::db::write_transaction;
    use boomerang::services::ledger::{confirm_due, LedgerError};
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let mut old = order_json(1, Some((5001, "o@example.com")), "paid", &[(1, 1, "70.00")]);
    old["created_at"] = json!("2026-10-01T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "old", &old).await;
    // Still in its return window: enough pending points that a double credit breaks no CHECK.
    let recent = order_json(
        2,
        Some((5001, "o@example.com")),
        "paid",
        &[(2, 1, "100.00")],
    );
    let recent = placed_days_ago(recent, 1);
    app.deliver(SHOP, "orders/paid", "recent", &recent).await;
    let at = boomerang::db::now();
    let run = |hold: Duration| {
        let (db, shop_id) = (app.db.clone(), shop_id.clone());
        tokio::task::spawn_blocking(move || {
            let mut c = db.get().unwrap();
            write_transaction(&mut c, |c| {
                let confirmed = confirm_due(c, &shop_id, at)?;
                std::thread::sleep(hold);
                Ok::<_, LedgerError>(confirmed)
            })
            .unwrap()
        })
    };
    let first = run(Duration::from_millis(500));
    tokio::time::sleep(Duration::from_millis(150)).await;
    let second = run(Duration::ZERO);
    let (first, second) = (first.await.unwrap(), second.await.unwrap());
    assert_eq!(first + second, 1, "the line is confirmed once");
    let c = app.customer(SHOP, "5001").await;
    assert_eq!(
        (c["points_balance"].as_i64(), c["pending_points"].as_i64()),
        (Some(70), Some(100)),
        "{c}"
    );
}

/// A worker whose lease ran out (it was slow, not dead) and whose job another worker took
/// over must not record the outcome: only the claim that holds the job finishes or fails it.
#[tokio::test]
async fn a_job_taken_over_after_its_lease_ran_out_is_finished_only_by_its_new_holder() {
    use boomerang::db::write_transaction;
    use boomerang::queue::{self, Job};
    use chrono::Duration;

    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    app.with_db(move |c| {
        let t0 = boomerang::db::now();
        let spec = queue::JobSpec {
            shop_id,
            kind: queue::JobKind::ConfirmPoints,
            payload: json!({}),
            dedupe_key: Some("lease".into()),
            run_at: t0,
            max_attempts: 5,
        };
        assert!(queue::enqueue(c, spec).unwrap());
        let claim = |c: &mut boomerang::db::DbConnection, at, until| {
            write_transaction(c, |c| Job::claim_next(c, at, until))
                .unwrap()
                .unwrap()
        };
        let slow = claim(c, t0, t0 + Duration::seconds(1));
        let later = t0 + Duration::seconds(2);
        let taker = claim(c, later, later + Duration::minutes(5));
        assert_eq!(slow.id, taker.id);
        assert!(!Job::extend_lease(c, &slow, later + Duration::minutes(5)).unwrap());
        assert!(!Job::finish(c, &slow, later).unwrap());
        assert!(!Job::fail(c, &slow, "late", None, later).unwrap());
        assert!(Job::extend_lease(c, &taker, later + Duration::minutes(10)).unwrap());
        assert!(Job::finish(c, &taker, later).unwrap());
        let (status, error): (String, Option<String>) = {
            use boomerang::db::schema::jobs as jobs_table;
            use diesel::prelude::*;
            jobs_table::table
                .find(&taker.id)
                .select((jobs_table::status, jobs_table::last_error))
                .first(c)
                .unwrap()
        };
        assert_eq!((status.as_str(), error), ("done", None));
    })
    .await;
}
