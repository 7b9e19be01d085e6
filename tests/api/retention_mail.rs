//! Retention of sent e-mail, both backends: after `WEBHOOK_RETENTION_DAYS` a settled message
//! keeps its row in the owner's log (recipient, subject, status, times) and loses its text,
//! marked `body_erased_at`; mail still waiting keeps its text, another shop's is untouched, and
//! the log and the demo outbox say the text was erased instead of showing nothing.

use chrono::Duration;
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::models::Email;
use boomerang::db::schema::{emails, members};
use boomerang::jobs;
use boomerang::queue::{self, JobKind, JobSpec};

use crate::admin_ui::{get, sign_in};
use crate::helpers::{job_context, session_token, TestApp};

const SHOP: &str = "retention-mail.myshopify.com";
const OTHER: &str = "retention-mail-other.myshopify.com";

/// Stores a rendered message of `member_id` in `status`, queued `days` ago; returns its id.
async fn mail(app: &TestApp, shop_id: &str, member_id: &str, status: &str, days: i64) -> String {
    let (shop_id, member_id, status) =
        (shop_id.to_owned(), member_id.to_owned(), status.to_owned());
    app.with_db(move |c| {
        let at = boomerang::db::now() - Duration::days(days);
        let id = boomerang::db::new_id();
        let row = Email {
            id: id.clone(),
            shop_id,
            member_id,
            kind: "points_earned".into(),
            occasion: format!("order:{id}"),
            locale: "en".into(),
            context: json!({"first_name": "Ada", "points": 40}).to_string(),
            to_address: Some("ada@example.com".into()),
            subject: Some("You earned 40 points".into()),
            text_body: Some("Hello Ada, you earned 40 points.".into()),
            html_body: Some("<p>Hello Ada, you earned 40 points.</p>".into()),
            status: status.clone(),
            variant: None,
            send_after: at,
            attempts: 1,
            lease_until: None,
            digest_id: None,
            error: None,
            sent_at: (status == "sent").then_some(at),
            opened_at: None,
            created_at: at,
            updated_at: at,
            body_erased_at: None,
        };
        assert!(row.insert_once(c).unwrap());
        id
    })
    .await
}

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

/// (subject, recipient, text, html, context, erased?) of a message.
async fn stored(
    app: &TestApp,
    id: &str,
) -> (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    bool,
) {
    let id = id.to_owned();
    app.with_db(move |c| {
        let e: Email = emails::table
            .find(&id)
            .select(Email::as_select())
            .first(c)
            .unwrap();
        (
            e.subject,
            e.to_address,
            e.text_body,
            e.html_body,
            e.context,
            e.body_erased_at.is_some(),
        )
    })
    .await
}

#[tokio::test]
async fn settled_mail_older_than_the_retention_loses_its_text_and_keeps_its_log_row() {
    let app = TestApp::spawn_with(&[("WEBHOOK_RETENTION_DAYS", "10")]).await;
    let (shop_id, member) = app.add_shop_with_member(SHOP, "1", "ada@example.com").await;
    let (other_id, other_member) = app
        .add_shop_with_member(OTHER, "1", "ada@example.com")
        .await;
    // (id, erased?)
    let cases = [
        (mail(&app, &shop_id, &member, "sent", 11).await, true),
        (mail(&app, &shop_id, &member, "failed", 11).await, true),
        (mail(&app, &shop_id, &member, "suppressed", 11).await, true),
        (mail(&app, &shop_id, &member, "sent", 3).await, false),
        (mail(&app, &shop_id, &member, "queued", 11).await, false),
        (mail(&app, &shop_id, &member, "capped", 11).await, false),
        (
            mail(&app, &other_id, &other_member, "sent", 11).await,
            false,
        ),
    ];
    run_retention(&app, &shop_id).await;
    for (id, erased) in &cases {
        let (subject, to, text, html, context, marked) = stored(&app, id).await;
        assert_eq!(
            subject.as_deref(),
            Some("You earned 40 points"),
            "the log keeps the subject"
        );
        assert_eq!(
            to.as_deref(),
            Some("ada@example.com"),
            "the log keeps the recipient"
        );
        assert_eq!(marked, *erased, "{id}");
        assert_eq!(
            text.is_none() && html.is_none() && context == "{}",
            *erased,
            "{id}"
        );
    }
    // A second run changes nothing more.
    run_retention(&app, &shop_id).await;
    assert!(stored(&app, &cases[3].0).await.2.is_some());

    // The log says so: the API with the date, the page in words.
    let log: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/emails")
        .await
        .json()
        .await
        .unwrap();
    let listed = |id: &str| {
        log["emails"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap()
    };
    assert!(listed(&cases[0].0)["body_erased_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(listed(&cases[3].0)["body_erased_at"].is_null());
    assert_eq!(listed(&cases[0].0)["subject"], "You earned 40 points");
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let page = get(&app, &cookie, "/app/emails").await;
    assert_eq!(
        page.matches("Text erased after 10 days").count(),
        3,
        "{page}"
    );
}

#[tokio::test]
async fn the_demo_outbox_says_an_erased_message_was_erased() {
    let app = TestApp::spawn_with(&[("WEBHOOK_RETENTION_DAYS", "10")]).await;
    crate::ops::seed_demo(&app).await;
    let (shop_id, member) = app
        .with_db(|c| {
            let shop = boomerang::db::models::Shop::find_demo(c).unwrap().unwrap();
            let member: String = members::table
                .filter(members::shop_id.eq(&shop.id))
                .select(members::id)
                .first(c)
                .unwrap();
            (shop.id, member)
        })
        .await;
    let old = mail(&app, &shop_id, &member, "sent", 11).await;
    run_retention(&app, &shop_id).await;
    let list = app.get("/demo/outbox").await.text().await.unwrap();
    assert!(list.contains("(text erased after 10 days)"), "{list}");
    let page = app.get(&format!("/demo/outbox/{old}")).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("erased after 10 days"), "{page}");
    assert!(!page.contains("srcdoc="));
}
