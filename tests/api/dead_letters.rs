//! Dead letters through the admin API, both backends: a background task that used up its
//! attempts is listed for its own shop only (a page at a time), can be retried (queued, due now,
//! attempts reset, then runs) or dismissed, and anything else answers 404 or 409 with nothing
//! changed. The admin UI and the command line: `dead_letters_admin.rs`.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

use boomerang::db::schema::jobs as job_rows;
use boomerang::db::DbConnection;
use boomerang::queue::{self, JobKind, JobSpec};

use crate::helpers::{error_code, job_context, session_token, TestApp};

const SHOP: &str = "dead-letters.myshopify.com";
const OTHER: &str = "dead-letters-other.myshopify.com";

/// Adds the job `spec` in `status`, as the runner leaves one that gave up (`failed`: every
/// attempt used, `last_error` kept) or one still going; returns its id.
pub(crate) fn job_row(
    c: &mut DbConnection,
    spec: JobSpec,
    status: &str,
    last_error: &str,
) -> String {
    let (shop_id, max_attempts) = (spec.shop_id.clone(), spec.max_attempts);
    queue::enqueue(c, spec).unwrap();
    let id: String = job_rows::table
        .filter(job_rows::shop_id.eq(&shop_id))
        .order(job_rows::id.desc())
        .select(job_rows::id)
        .first(c)
        .unwrap();
    let failed = status == "failed";
    diesel::update(job_rows::table.find(&id))
        .set((
            job_rows::status.eq(status),
            job_rows::attempts.eq(if failed { max_attempts } else { 1 }),
            job_rows::last_error.eq(failed.then_some(last_error)),
        ))
        .execute(c)
        .unwrap();
    id
}

/// Adds a job of `kind` to `shop_id` in `status` (`failed`: five attempts and the last error);
/// returns its id.
pub(crate) async fn job_in(
    app: &TestApp,
    shop_id: &str,
    kind: JobKind,
    status: &str,
    dedupe_key: Option<&str>,
) -> String {
    let spec = JobSpec {
        shop_id: shop_id.to_owned(),
        kind,
        payload: json!({}),
        dedupe_key: dedupe_key.map(str::to_owned),
        run_at: boomerang::db::now(),
        max_attempts: 5,
    };
    let status = status.to_owned();
    app.with_db(move |c| job_row(c, spec, &status, "shop API unreachable"))
        .await
}

pub(crate) async fn row(app: &TestApp, id: &str) -> (String, i32) {
    let id = id.to_owned();
    app.with_db(move |c| {
        job_rows::table
            .find(&id)
            .select((job_rows::status, job_rows::attempts))
            .first(c)
            .unwrap()
    })
    .await
}

async fn json_of(resp: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(resp.status(), status);
    resp.json().await.unwrap()
}

/// The app with the test shop; returns the app, the shop's id and an admin session token.
async fn shop() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    (app, shop_id, session_token(SHOP))
}

/// Posts `action` (`retry`, `dismiss`) for job `id` through the admin API.
async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> reqwest::Response {
    app.admin_post(
        token,
        &format!("/api/admin/v1/jobs/{id}/{action}"),
        json!({}),
    )
    .await
}

/// Runs the jobs due now; returns how many were done and how many failed.
async fn run_jobs(app: &TestApp) -> (usize, usize) {
    let report =
        boomerang::jobs::run_pending(&app.db, &job_context("unused-0123456789abcdef0123456789ab"))
            .await
            .unwrap();
    (report.done, report.failed)
}

#[tokio::test]
async fn failed_jobs_are_listed_per_shop_a_page_at_a_time_and_retried_or_dismissed() {
    let (app, shop_id, token) = shop().await;
    let other_id = app.add_shop(OTHER, "USD").await;
    let mut failed = Vec::new();
    for _ in 0..3 {
        failed.push(job_in(&app, &shop_id, JobKind::ConfirmPoints, "failed", None).await);
    }
    let done = job_in(&app, &shop_id, JobKind::ConfirmPoints, "done", None).await;
    let others = job_in(&app, &other_id, JobKind::ConfirmPoints, "failed", None).await;

    // Newest first, two per page, only this shop's.
    let first = json_of(
        app.admin_get(&token, "/api/admin/v1/jobs?status=failed&limit=2")
            .await,
        StatusCode::OK,
    )
    .await;
    let ids = |page: &Value| -> Vec<String> {
        page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), vec![failed[2].clone(), failed[1].clone()]);
    let job = &first["jobs"][0];
    assert_eq!(job["kind"], "confirm_points");
    assert_eq!(
        job["description"],
        "Confirming points whose return window has passed"
    );
    assert_eq!(
        (job["attempts"].as_i64(), job["max_attempts"].as_i64()),
        (Some(5), Some(5))
    );
    assert_eq!(job["last_error"], "shop API unreachable");
    assert_eq!(job["status"], "failed");
    assert!(job["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(job["updated_at"].as_str().unwrap().ends_with('Z'));
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json_of(
        app.admin_get(
            &token,
            &format!("/api/admin/v1/jobs?limit=2&cursor={cursor}"),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&second), vec![failed[0].clone()]);
    assert!(second["next_cursor"].is_null());

    // Bad parameters are refused by name.
    for (query, names) in [
        ("status=broken", "status"),
        ("limit=0", "limit"),
        ("limit=251", "limit"),
        ("cursor=x", "cursor"),
    ] {
        let resp = app
            .admin_get(&token, &format!("/api/admin/v1/jobs?{query}"))
            .await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert!(
            body["error"]["message"].as_str().unwrap().contains(names),
            "{body}"
        );
    }

    // Another shop's job, an unknown id: 404, nothing changed. A job that did not fail: 409.
    for id in [others.as_str(), "01930000-0000-7000-8000-000000000000"] {
        let resp = act(&app, &token, id, "retry").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        let resp = act(&app, &token, id, "dismiss").await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(row(&app, &others).await, ("failed".into(), 5));
    let resp = act(&app, &token, &done, "retry").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(resp).await, "conflict");
    assert_eq!(row(&app, &done).await, ("done".into(), 1));

    // The alert counts the shop's failed jobs.
    let alerts = json_of(
        app.admin_get(&token, "/api/admin/v1/alerts").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(alerts["failed_jobs"], 3);

    // Retried: queued, due now, attempts reset; the runner then finishes it.
    let retried = json_of(act(&app, &token, &failed[0], "retry").await, StatusCode::OK).await;
    assert_eq!(
        (retried["status"].as_str(), retried["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );
    assert_eq!(run_jobs(&app).await, (1, 0));
    assert_eq!(row(&app, &failed[0]).await, ("done".into(), 1));
    let resp = act(&app, &token, &failed[0], "retry").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // Dismissed: no longer listed as failed, once only.
    let dismissed = json_of(
        act(&app, &token, &failed[1], "dismiss").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(dismissed["status"], "dismissed");
    let resp = act(&app, &token, &failed[1], "dismiss").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let left = json_of(
        app.admin_get(&token, "/api/admin/v1/jobs").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&left), vec![failed[2].clone()]);
    let listed = json_of(
        app.admin_get(&token, "/api/admin/v1/jobs?status=dismissed")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ids(&listed), vec![failed[1].clone()]);
}

#[tokio::test]
async fn a_failed_job_whose_work_is_queued_again_meanwhile_is_not_queued_twice() {
    let (app, shop_id, token) = shop().await;
    let failed = job_in(
        &app,
        &shop_id,
        JobKind::DeliverEmails,
        "failed",
        Some("mail:2026-12-01T10"),
    )
    .await;
    let live = job_in(
        &app,
        &shop_id,
        JobKind::DeliverEmails,
        "queued",
        Some("mail:2026-12-01T10"),
    )
    .await;
    let resp = act(&app, &token, &failed, "retry").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"].as_str().unwrap().contains(&live),
        "{body}"
    );
    assert_eq!(row(&app, &failed).await, ("failed".into(), 5));
}

#[tokio::test]
async fn a_granted_reward_given_up_on_cannot_be_retried() {
    let (app, shop_id, token) = shop().await;
    let failed = job_in(&app, &shop_id, JobKind::IssueGrantedReward, "failed", None).await;
    let resp = act(&app, &token, &failed, "retry").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("gave its points back"),
        "{body}"
    );
    assert_eq!(row(&app, &failed).await, ("failed".into(), 5));
}

#[tokio::test]
async fn retrying_the_job_of_a_dismissed_webhook_leaves_the_webhook_dismissed() {
    use boomerang::db::schema::inbox_events;
    let (app, shop_id, token) = shop().await;
    // An order body the adapter cannot read: stored and kept as failed.
    app.deliver(
        SHOP,
        "orders/paid",
        "unreadable",
        &json!({"id": 1, "line_items": "nope"}),
    )
    .await;
    let event: String = app
        .with_db(|c| {
            inbox_events::table
                .filter(inbox_events::delivery_id.eq("unreadable"))
                .select(inbox_events::id)
                .first(c)
                .unwrap()
        })
        .await;
    let job = job_in(&app, &shop_id, JobKind::ApplyInboxEvent, "failed", None).await;
    let (job_id, payload) = (job.clone(), json!({ "inbox_event_id": event }).to_string());
    app.with_db(move |c| {
        diesel::update(job_rows::table.find(&job_id))
            .set(job_rows::payload.eq(payload))
            .execute(c)
            .unwrap()
    })
    .await;
    let resp = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/webhooks/{event}/dismiss"),
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = act(&app, &token, &job, "retry").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(run_jobs(&app).await, (1, 0));
    let status: String = app
        .with_db(move |c| {
            inbox_events::table
                .find(&event)
                .select(inbox_events::status)
                .first(c)
                .unwrap()
        })
        .await;
    assert_eq!(status, "dismissed");
}
