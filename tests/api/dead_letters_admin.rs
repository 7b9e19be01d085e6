//! Dead letters in the owner's admin UI (an alert on the overview, a list with Retry and
//! Dismiss buttons, in English and Arabic) and for the operator (`boomerang jobs failed|retry|
//! dismiss`), both backends.

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;

use boomerang::db::schema::jobs as job_rows;
use boomerang::queue::{JobKind, JobSpec};

use crate::admin_ui::{get, post, sign_in};
use crate::dead_letters::{job_in, job_row, row};
use crate::helpers::{TestApp, TestDb};

const SHOP: &str = "dead-letters-admin.myshopify.com";
const OTHER: &str = "dead-letters-admin-other.myshopify.com";

#[tokio::test]
async fn the_owner_sees_an_alert_and_retries_from_the_admin_in_english_and_arabic() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let other_id = app.add_shop(OTHER, "USD").await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    // No failed job: no alert.
    assert!(!get(&app, &cookie, "/app")
        .await
        .contains("id=\"failed-jobs\""));
    let failed = job_in(&app, &shop_id, JobKind::SegmentCustomers, "failed", None).await;
    let others = job_in(&app, &other_id, JobKind::SegmentCustomers, "failed", None).await;

    let overview = get(&app, &cookie, "/app").await;
    assert!(overview.contains("1 background tasks failed"), "{overview}");
    assert!(overview.contains("href=\"/app/jobs\""));
    let list = get(&app, &cookie, "/app/jobs").await;
    assert!(list.contains("Updating customer segments"));
    assert!(list.contains("shop API unreachable"));
    assert!(list.contains(&format!("/app/jobs/{failed}/retry")));
    assert!(!list.contains(&others));

    // Without the session's CSRF token: refused, nothing changed.
    let resp = post(
        &app,
        &cookie,
        &format!("/app/jobs/{failed}/retry"),
        &[("csrf", "forged")],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert_eq!(row(&app, &failed).await, ("failed".into(), 5));
    // Another shop's job: 404 on the page, nothing changed.
    let resp = press(&app, &cookie, &csrf, &others, "retry").await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert_eq!(row(&app, &others).await, ("failed".into(), 5));

    let resp = press(&app, &cookie, &csrf, &failed, "retry").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/app/jobs?done=retried");
    assert_eq!(row(&app, &failed).await, ("queued".into(), 0));
    let list = get(&app, &cookie, "/app/jobs?done=retried").await;
    assert!(list.contains("The task is queued again"));
    assert!(list.contains("No failed background tasks."));
    // Retrying twice (a second tab): 409 on the page.
    let resp = press(&app, &cookie, &csrf, &failed, "retry").await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    // In Arabic.
    let second = job_in(&app, &shop_id, JobKind::TierReview, "failed", None).await;
    app.set_shop_locale(&shop_id, "ar").await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    assert!(get(&app, &cookie, "/app")
        .await
        .contains("فشلت 1 من المهام الخلفية"));
    let list = get(&app, &cookie, "/app/jobs").await;
    assert!(list.contains("مراجعة مستويات الأعضاء"));
    let resp = press(&app, &cookie, &csrf, &second, "dismiss").await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(row(&app, &second).await, ("dismissed".into(), 5));
}

/// Presses `action`'s button (`retry`, `dismiss`) on job `id` in the admin UI.
async fn press(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    id: &str,
    action: &str,
) -> reqwest::Response {
    post(
        app,
        cookie,
        &format!("/app/jobs/{id}/{action}"),
        &[("csrf", csrf)],
    )
    .await
}

/// What the command printed.
fn stdout(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

/// What the command said went wrong.
fn stderr(out: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(out.get_output().stderr.clone()).unwrap()
}

/// The binary against `url`, in `dir`.
fn boomerang(dir: &std::path::Path, url: &str) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("boomerang").unwrap();
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", url)
        .env("APP_SECRET", crate::helpers::TEST_APP_SECRET)
        .env("SHOPIFY_API_KEY", "dead-letters-key")
        .env("SHOPIFY_API_SECRET", "dead-letters-secret-0123456789abcdef")
        .env("RUST_LOG", "warn");
    cmd
}

#[tokio::test]
async fn the_operator_lists_and_retries_failed_jobs_from_the_command_line() {
    let (_db, url) = TestDb::create();
    let dir = tempfile::tempdir().unwrap();
    for domain in [SHOP, OTHER] {
        boomerang(dir.path(), &url)
            .args(["shop", "add", "--platform", "shopify", "--domain", domain])
            .assert()
            .success();
    }
    let db =
        boomerang::db::Db::connect(&boomerang::db::DatabaseUrl::parse(&url).unwrap(), 2).unwrap();
    let mut c = db.get().unwrap();
    let shop_of = |c: &mut boomerang::db::DbConnection, domain: &str| -> String {
        use boomerang::db::schema::shops;
        shops::table
            .filter(shops::domain.eq(domain))
            .select(shops::id)
            .first(c)
            .unwrap()
    };
    let mut ids = Vec::new();
    for domain in [SHOP, OTHER] {
        let spec = JobSpec {
            shop_id: shop_of(&mut c, domain),
            kind: JobKind::ExpirePoints,
            payload: json!({}),
            dedupe_key: None,
            run_at: boomerang::db::now(),
            max_attempts: 3,
        };
        ids.push(job_row(&mut c, spec, "failed", "boom"));
    }
    let out = boomerang(dir.path(), &url)
        .args(["jobs", "failed"])
        .assert()
        .success();
    let all = stdout(&out);
    assert!(ids.iter().all(|id| all.contains(id.as_str())), "{all}");
    assert!(
        all.contains("expire_points (Expiring old points and sending reminders)  3/3 attempts"),
        "{all}"
    );
    let out = boomerang(dir.path(), &url)
        .args(["jobs", "failed", "--domain", OTHER])
        .assert()
        .success();
    let one = stdout(&out);
    assert!(
        one.contains(ids[1].as_str()) && !one.contains(ids[0].as_str()),
        "{one}"
    );

    boomerang(dir.path(), &url)
        .args(["jobs", "retry", &ids[0]])
        .assert()
        .success();
    let (status, attempts): (String, i32) = job_rows::table
        .find(&ids[0])
        .select((job_rows::status, job_rows::attempts))
        .first(&mut c)
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("queued", 0));
    let out = boomerang(dir.path(), &url)
        .args(["jobs", "retry", &ids[0]])
        .assert()
        .failure();
    let err = stderr(&out);
    assert!(
        err.contains("only a failed background task can be retried; this one is queued"),
        "{err}"
    );
    boomerang(dir.path(), &url)
        .args(["jobs", "dismiss", &ids[1]])
        .assert()
        .success();
    let out = boomerang(dir.path(), &url)
        .args(["jobs", "retry", "no-such-id"])
        .assert()
        .failure();
    assert!(stderr(&out).contains("no such background task"));
    let out = boomerang(dir.path(), &url)
        .args(["jobs", "failed"])
        .assert()
        .success();
    assert!(stdout(&out).contains("no failed background tasks"));
}
