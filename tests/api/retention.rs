//! Retention (`WEBHOOK_RETENTION_DAYS`): the daily job erases the raw bodies of settled webhooks
//! (the points they produced stay), keeps failed ones until dismissed, prunes old job rows, and
//! after `shop/redact` erases everything of that shop. Rows are back-dated instead of waiting.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::schema::{
    inbox_events, jobs as job_rows, ledger_entries, members, orders, refunds,
};
use boomerang::db::stored_body::StoredBody;
use boomerang::jobs;
use boomerang::queue::{self, JobKind, JobSpec};

use crate::helpers::{error_code, job_context, refund_json, session_token, TestApp};

const SHOP: &str = "retention.myshopify.com";
const OTHER_SHOP: &str = "retention-other.myshopify.com";

/// Runs one retention job for `shop_id` (with the app's `WEBHOOK_RETENTION_DAYS`) and every
/// other due job.
async fn run_retention(app: &TestApp, shop_id: &str) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        let spec = JobSpec {
            shop_id,
            kind: JobKind::Retention,
            payload: json!({}),
            dedupe_key: None,
            run_at: boomerang::db::now(),
            max_attempts: 1,
        };
        boomerang::db::write_transaction(c, |c| queue::enqueue(c, spec)).unwrap()
    })
    .await;
    let ctx = jobs::JobContext {
        webhook_retention_days: app.config.webhook_retention_days,
        ..job_context("unused-in-these-jobs-0123456789abcdef")
    };
    let report = jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!(report.failed + report.retried, 0, "{report:?}");
}

/// (status, payload, body_erased_at) of a stored delivery.
async fn stored(app: &TestApp, delivery: &str) -> (String, String, Option<NaiveDateTime>) {
    let delivery = delivery.to_owned();
    app.with_db(move |c| {
        inbox_events::table
            .filter(inbox_events::delivery_id.eq(&delivery))
            .select((
                inbox_events::status,
                inbox_events::payload,
                inbox_events::body_erased_at,
            ))
            .first::<(String, StoredBody, Option<NaiveDateTime>)>(c)
            .map(|(status, body, erased_at)| (status, body.0, erased_at))
            .unwrap()
    })
    .await
}

async fn event_id(app: &TestApp, delivery: &str) -> String {
    let delivery = delivery.to_owned();
    app.with_db(move |c| {
        inbox_events::table
            .filter(inbox_events::delivery_id.eq(&delivery))
            .select(inbox_events::id)
            .first(c)
            .unwrap()
    })
    .await
}

/// Moves a stored delivery's `received_at` `days` into the past.
async fn backdate(app: &TestApp, delivery: &str, days: i64) {
    let delivery = delivery.to_owned();
    app.with_db(move |c| {
        diesel::update(inbox_events::table.filter(inbox_events::delivery_id.eq(&delivery)))
            .set(inbox_events::received_at.eq(boomerang::db::now() - Duration::days(days)))
            .execute(c)
            .unwrap()
    })
    .await;
}

/// Placed yesterday: its points stay pending through the test.
fn order(id: u64, customer: (u64, &str)) -> Value {
    crate::helpers::order_days_ago(id, customer, 1, "50.00")
}

/// An `orders/paid` body the adapter cannot read: stored and kept as failed.
async fn deliver_failing(app: &TestApp, shop: &str, delivery: &str) {
    app.deliver(
        shop,
        "orders/paid",
        delivery,
        &json!({"id": 1, "line_items": "nope"}),
    )
    .await;
    assert_eq!(stored(app, delivery).await.0, "failed");
}

async fn dismiss(app: &TestApp, shop: &str, id: &str) -> reqwest::Response {
    app.admin_post(
        &session_token(shop),
        &format!("/api/admin/v1/webhooks/{id}/dismiss"),
        json!({}),
    )
    .await
}

async fn listed(app: &TestApp, shop: &str, status: &str) -> Vec<Value> {
    let body: Value = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/webhooks?status={status}"),
        )
        .await
        .json()
        .await
        .unwrap();
    body["events"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_applied_webhook_older_than_the_retention_has_its_body_erased_and_its_points_stay() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    app.deliver(
        SHOP,
        "orders/paid",
        "old",
        &order(1, (7001, "ada@example.com")),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "new",
        &order(2, (7001, "ada@example.com")),
    )
    .await;
    backdate(&app, "old", 31).await;
    let ada = app.customer(SHOP, "7001").await;

    // The scheduler enqueues one retention job per shop and day.
    let periodic_shop = shop_id.clone();
    let added = app
        .with_db(move |c| {
            let now = boomerang::db::now();
            boomerang::db::write_transaction(c, |c| jobs::enqueue_periodic(c, now)).unwrap();
            boomerang::db::write_transaction(c, |c| jobs::enqueue_periodic(c, now)).unwrap();
            job_rows::table
                .filter(job_rows::shop_id.eq(&periodic_shop))
                .filter(job_rows::kind.eq("retention"))
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(added, 1);
    run_retention(&app, &shop_id).await;

    let (status, payload, erased_at) = stored(&app, "old").await;
    assert_eq!((status.as_str(), payload.as_str()), ("applied", "{}"));
    assert!(erased_at.is_some());
    let (_, payload, erased_at) = stored(&app, "new").await;
    assert!(payload.contains("ada@example.com"), "a recent body is kept");
    assert_eq!(erased_at, None);
    assert_eq!(app.customer(SHOP, "7001").await, ada, "the points stay");
    let applied = listed(&app, SHOP, "applied").await;
    assert_eq!(applied.len(), 2, "the erased event is still listed");
    assert!(applied.iter().any(|e| e["body_erased_at"].is_string()));
    // A redelivery of the erased event is still recognised as a duplicate.
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/paid",
            "old",
            &order(1, (7001, "ada@example.com"))
        )
        .await,
        "duplicate"
    );
}

#[tokio::test]
async fn a_failed_webhook_is_kept_until_dismissed_and_then_erased() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    deliver_failing(&app, SHOP, "broken").await;
    backdate(&app, "broken", 400).await;
    run_retention(&app, &shop_id).await;
    let (status, payload, erased_at) = stored(&app, "broken").await;
    assert_eq!(status, "failed");
    assert_ne!(payload, "{}");
    assert_eq!(erased_at, None, "a failed body is kept for a replay");

    let id = event_id(&app, "broken").await;
    let resp = dismiss(&app, SHOP, &id).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "dismissed");
    let dismissed = listed(&app, SHOP, "dismissed").await;
    assert_eq!(dismissed.len(), 1);
    assert_eq!(dismissed[0]["id"], json!(id));
    assert!(listed(&app, SHOP, "failed").await.is_empty());

    run_retention(&app, &shop_id).await;
    let (status, payload, erased_at) = stored(&app, "broken").await;
    assert_eq!((status.as_str(), payload.as_str()), ("dismissed", "{}"));
    assert!(erased_at.is_some());
}

#[tokio::test]
async fn with_a_retention_of_0_days_the_next_run_erases_applied_bodies() {
    let app = TestApp::spawn_with(&[("WEBHOOK_RETENTION_DAYS", "0")]).await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    app.deliver(
        SHOP,
        "orders/paid",
        "today",
        &order(1, (7001, "ada@example.com")),
    )
    .await;
    deliver_failing(&app, SHOP, "broken").await;
    let ada = app.customer(SHOP, "7001").await;
    run_retention(&app, &shop_id).await;
    let (_, payload, erased_at) = stored(&app, "today").await;
    assert_eq!(payload, "{}");
    assert!(erased_at.is_some());
    assert_eq!(stored(&app, "broken").await.2, None, "failed kept");
    assert_eq!(app.customer(SHOP, "7001").await, ada);
}

#[tokio::test]
async fn replaying_an_erased_webhook_answers_409_and_changes_nothing() {
    let app = TestApp::spawn_with(&[("WEBHOOK_RETENTION_DAYS", "0")]).await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    deliver_failing(&app, SHOP, "broken").await;
    let id = event_id(&app, "broken").await;
    assert_eq!(dismiss(&app, SHOP, &id).await.status(), 200);
    run_retention(&app, &shop_id).await;
    let before = stored(&app, "broken").await;
    assert!(before.2.is_some());

    let resp = app
        .admin_post(
            &session_token(SHOP),
            &format!("/api/admin/v1/webhooks/{id}/replay"),
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "conflict");
    assert_eq!(stored(&app, "broken").await, before);
}

#[tokio::test]
async fn another_shops_webhook_cannot_be_dismissed_nor_one_that_did_not_fail() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    app.add_shop(OTHER_SHOP, "USD").await;
    deliver_failing(&app, SHOP, "broken").await;
    app.deliver(
        SHOP,
        "orders/paid",
        "fine",
        &order(1, (7001, "ada@example.com")),
    )
    .await;
    let broken = event_id(&app, "broken").await;
    let fine = event_id(&app, "fine").await;

    let resp = dismiss(&app, OTHER_SHOP, &broken).await;
    assert_eq!(resp.status(), 404);
    assert_eq!(error_code(resp).await, "not_found");
    assert_eq!(stored(&app, "broken").await.0, "failed");

    let resp = dismiss(&app, SHOP, &fine).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(error_code(resp).await, "conflict");
    assert_eq!(stored(&app, "fine").await.0, "applied");
}

#[tokio::test]
async fn old_job_rows_are_pruned_by_the_retention_job() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let other_id = app.add_shop(OTHER_SHOP, "USD").await;
    // (shop, status, age in days, kept?). Failed jobs wait for the owner however old.
    let cases = [
        (&shop_id, "done", 8, false),
        (&shop_id, "dismissed", 8, false),
        (&shop_id, "failed", 8, true),
        (&shop_id, "failed", 400, true),
        (&shop_id, "dismissed", 1, true),
        (&shop_id, "done", 1, true),
        (&shop_id, "queued", 30, true),
        (&other_id, "done", 8, true),
    ];
    let mut ids = Vec::new();
    for (shop, status, days, _) in cases {
        let (shop, status) = (shop.clone(), status.to_owned());
        ids.push(
            app.with_db(move |c| {
                let spec = JobSpec {
                    shop_id: shop.clone(),
                    kind: JobKind::ConfirmPoints,
                    payload: json!({}),
                    dedupe_key: None,
                    // Not due: the runner must not pick the queued one up.
                    run_at: boomerang::db::now() + Duration::days(1),
                    max_attempts: 1,
                };
                queue::enqueue(c, spec).unwrap();
                let id: String = job_rows::table
                    .filter(job_rows::shop_id.eq(&shop))
                    .order(job_rows::created_at.desc())
                    .select(job_rows::id)
                    .first(c)
                    .unwrap();
                diesel::update(job_rows::table.find(&id))
                    .set((
                        job_rows::status.eq(status),
                        job_rows::updated_at.eq(boomerang::db::now() - Duration::days(days)),
                    ))
                    .execute(c)
                    .unwrap();
                id
            })
            .await,
        );
    }
    run_retention(&app, &shop_id).await;
    for ((_, status, days, kept), id) in cases.iter().zip(&ids) {
        let id = id.clone();
        let left: i64 = app
            .with_db(move |c| job_rows::table.find(&id).count().get_result(c).unwrap())
            .await;
        assert_eq!(left == 1, *kept, "{status} {days} days old");
    }
}

/// Rows the shop has in (members, ledger_entries, orders, refunds, jobs).
async fn row_counts(app: &TestApp, shop_id: &str) -> [i64; 5] {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        [
            members::table
                .filter(members::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            ledger_entries::table
                .filter(ledger_entries::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            orders::table
                .filter(orders::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            refunds::table
                .filter(refunds::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            job_rows::table
                .filter(job_rows::shop_id.eq(&shop_id))
                .filter(job_rows::kind.ne("retention"))
                .count()
                .get_result(c)
                .unwrap(),
        ]
    })
    .await
}

/// The ids of the shop's job rows.
async fn job_ids(app: &TestApp, shop_id: &str) -> Vec<String> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        job_rows::table
            .filter(job_rows::shop_id.eq(&shop_id))
            .select(job_rows::id)
            .load(c)
            .unwrap()
    })
    .await
}

/// The shop's stored webhooks as (payload, customer_id, order_id, body erased).
async fn inbox_of(
    app: &TestApp,
    shop_id: &str,
) -> Vec<(String, Option<String>, Option<String>, bool)> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(&shop_id))
            .order(inbox_events::delivery_id.asc())
            .select((
                inbox_events::payload,
                inbox_events::customer_id,
                inbox_events::order_id,
                inbox_events::body_erased_at.is_not_null(),
            ))
            .load::<(StoredBody, Option<String>, Option<String>, bool)>(c)
            .unwrap()
            .into_iter()
            .map(|(body, customer, order, erased)| (body.0, customer, order, erased))
            .collect()
    })
    .await
}

#[tokio::test]
async fn shop_redact_leaves_no_personal_data_of_the_shop_and_the_other_shop_untouched() {
    let app = TestApp::spawn().await;
    let gone = app.add_shop(SHOP, "USD").await;
    let kept = app.add_shop(OTHER_SHOP, "USD").await;
    for shop in [SHOP, OTHER_SHOP] {
        app.deliver(
            shop,
            "orders/paid",
            &format!("{shop}-o"),
            &order(500, (7001, "ada@example.com")),
        )
        .await;
        app.deliver(
            shop,
            "refunds/create",
            &format!("{shop}-r"),
            &refund_json(900, 500, &[(5000, 1, "50.00")], "50.00"),
        )
        .await;
        deliver_failing(&app, shop, &format!("{shop}-f")).await;
    }
    let kept_rows = row_counts(&app, &kept).await;
    let kept_jobs = job_ids(&app, &kept).await;
    let kept_inbox = inbox_of(&app, &kept).await;
    let kept_ada = app.customer(OTHER_SHOP, "7001").await;
    assert_eq!(row_counts(&app, &gone).await, kept_rows);

    let mut redact: Value =
        serde_json::from_str(&crate::helpers::fixture("shopify/shop_redact.json")).unwrap();
    redact["shop_domain"] = json!(SHOP);
    assert_eq!(
        app.deliver(SHOP, "shop/redact", "redact", &redact).await,
        "accepted"
    );
    // The bodies and rows are erased by a job off the acknowledgement path.
    let ctx = job_context("unused-in-these-jobs-0123456789abcdef");
    jobs::run_pending(&app.db, &ctx).await.unwrap();

    assert_eq!(row_counts(&app, &gone).await, [0; 5]);
    let inbox = inbox_of(&app, &gone).await;
    assert_eq!(
        inbox.len(),
        4,
        "the rows stay, so redeliveries stay duplicates"
    );
    for row in inbox {
        assert_eq!(row, ("{}".to_owned(), None, None, true));
    }
    // The other shop's data as it was. Its job rows all stay; the jobs run above may have
    // queued more of its own (its mail deliverer, put off to the morning in quiet hours).
    assert_eq!(row_counts(&app, &kept).await[..4], kept_rows[..4]);
    let jobs_after = job_ids(&app, &kept).await;
    assert!(
        kept_jobs.iter().all(|id| jobs_after.contains(id)),
        "the other shop lost job rows: {kept_jobs:?} → {jobs_after:?}"
    );
    assert_eq!(inbox_of(&app, &kept).await, kept_inbox);
    assert_eq!(app.customer(OTHER_SHOP, "7001").await, kept_ada);
}
