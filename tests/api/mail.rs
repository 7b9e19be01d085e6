//! E-mail end to end (issue 13): lifecycle mail queued by the events that cause it, delivered
//! by the job to a real SMTP listener on loopback (the bytes that arrive are checked), the
//! sending policy, one-click unsubscribe, consent, retries, the file transport, the log API.

mod delivery;
mod dkim;
mod policy;
mod unsubscribe;

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::helpers::{session_token, TestApp};
use crate::smtp::SmtpListener;

pub(crate) const SHOP: &str = "glow.myshopify.com";

/// An app whose mail goes to `listener`, with a shop running `emails` settings (quiet hours
/// off unless the test sets them). Returns the app and the shop id.
pub(crate) async fn setup(listener: &SmtpListener, emails: Value) -> (TestApp, String) {
    let url = listener.url();
    let app = TestApp::spawn_with(&[
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "Glow <rewards@glow.example>"),
    ])
    .await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // The NPS survey after a second order (tests/api/nps) is off: these tests count messages.
    let mut settings = json!({"policy": {"quiet_hours": null}, "enabled": {"nps_survey": false}});
    merge(&mut settings, emails);
    let resp = put_emails(&app, settings).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    forget_demo_mail(&app, &shop_id).await;
    (app, shop_id)
}

/// On SQLite the app seeds the demo shop, whose customers are welcomed by mail: the tests
/// count only their own shop's messages, so the demo's are dropped before anything runs.
pub(crate) async fn forget_demo_mail(app: &TestApp, shop_id: &str) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::emails;
        use diesel::prelude::*;
        diesel::delete(emails::table.filter(emails::shop_id.ne(shop_id)))
            .execute(c)
            .unwrap();
    })
    .await;
}

/// `PUT /program` with these e-mail settings (everything else default).
pub(crate) async fn put_emails(app: &TestApp, emails: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&json!({ "emails": emails }))
        .send()
        .await
        .unwrap()
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A `customers/create` body for an account created now.
pub(crate) fn customer_json(id: u64, email: &str, first_name: &str) -> Value {
    let mut body = crate::compliance::customer_json(id, email, first_name);
    body["created_at"] = json!(Utc::now().to_rfc3339());
    body["updated_at"] = json!(Utc::now().to_rfc3339());
    body
}

/// A paid order placed `days_ago`.
pub(crate) fn order(id: u64, customer: (u64, &str), amount: &str, days_ago: i64) -> Value {
    crate::helpers::order_days_ago(id, customer, days_ago, amount)
}

/// Runs every job due by `later` from now with the app's own mail transport.
pub(crate) async fn run_jobs(app: &TestApp, later: Duration) {
    let url = app.config.smtp_url.clone();
    run_jobs_through(app, later, url).await;
}

/// The same, sending through `smtp_url` (another listener) instead.
pub(crate) async fn run_jobs_through(
    app: &TestApp,
    later: Duration,
    smtp_url: Option<secrecy::SecretString>,
) {
    app.with_db(move |c| {
        use boomerang::db::schema::{emails, jobs};
        use diesel::prelude::*;
        let at = boomerang::db::now() + later;
        diesel::update(jobs::table.filter(jobs::run_at.le(at)))
            .set(jobs::run_at.eq(boomerang::db::now()))
            .execute(c)
            .unwrap();
        diesel::update(
            emails::table
                .filter(emails::send_after.le(at))
                .filter(emails::send_after.gt(boomerang::db::now())),
        )
        .set(emails::send_after.eq(boomerang::db::now()))
        .execute(c)
        .unwrap();
    })
    .await;
    let mut config = app.config.clone();
    config.smtp_url = smtp_url;
    let ctx = boomerang::jobs::JobContext {
        mail: boomerang::startup::mail_setup(&config).unwrap(),
        ..crate::helpers::job_context(crate::helpers::TEST_APP_SECRET)
    };
    let report = boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
}

/// The shop's e-mail log (newest first), as the owner's API shows it.
pub(crate) async fn log(app: &TestApp, query: &str) -> Vec<Value> {
    let resp = app
        .admin_get(
            &session_token(SHOP),
            &format!("/api/admin/v1/emails{query}"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["emails"]
        .as_array()
        .unwrap()
        .clone()
}

/// The kinds of the log's messages in `status`, oldest first.
pub(crate) async fn kinds(app: &TestApp, status: &str) -> Vec<String> {
    let mut kinds: Vec<String> = log(app, &format!("?status={status}"))
        .await
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

/// The raw header block of a received message, unfolded.
pub(crate) fn headers(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    let block = text.split("\r\n\r\n").next().unwrap_or_default();
    block.replace("\r\n ", " ").replace("\r\n\t", " ")
}

pub(crate) fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.split("\r\n").find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.eq_ignore_ascii_case(name).then_some(v.trim())
    })
}
