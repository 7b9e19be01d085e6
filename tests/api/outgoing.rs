//! Outgoing signed webhooks end to end: subscriptions and their bad input, delivery to a local
//! receiver that fails before it succeeds (signatures checked with the `standardwebhooks` crate,
//! an implementation independent of ours), the 24-hour give-up, redelivery, and which changes
//! publish which topics. Retries are made due by back-dating rows, never by sleeping.

mod delivery;
mod events;
mod page;
mod subscriptions;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use crate::helpers::{job_context, session_token, TestApp, TEST_APP_SECRET};

pub(crate) const SHOP: &str = "hooks.myshopify.com";
pub(crate) const OTHER: &str = "other-hooks.myshopify.com";

/// A receiver that answers 500 to the first `failures` tries of each `webhook-id`, then 204.
#[derive(Clone, Default)]
pub(crate) struct FlakyReceiver {
    pub failures: usize,
    pub tries: Arc<Mutex<HashMap<String, usize>>>,
}

impl Respond for FlakyReceiver {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let id = request
            .headers
            .get("webhook-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut tries = self.tries.lock().unwrap();
        let n = tries.entry(id).or_default();
        *n += 1;
        if *n <= self.failures {
            ResponseTemplate::new(500)
        } else {
            ResponseTemplate::new(204)
        }
    }
}

/// Subscribes `url` to `topics` for `shop`; returns (id, secret).
pub(crate) async fn subscribe(
    app: &TestApp,
    shop: &str,
    url: &str,
    topics: &[&str],
) -> (String, String) {
    let resp = app
        .admin_post(
            &session_token(shop),
            "/api/admin/v1/webhook-subscriptions",
            json!({"url": url, "topics": topics}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// An owner's adjustment of `points` for `customer` (a ledger line: `points.changed`).
pub(crate) async fn adjust(app: &TestApp, shop: &str, customer: &str, points: i64) -> u16 {
    app.admin_post(
        &session_token(shop),
        &format!("/api/admin/v1/customers/{customer}/adjustments"),
        json!({"points": points, "reason": "goodwill"}),
    )
    .await
    .status()
    .as_u16()
}

/// Runs every due job, as the scheduler would.
pub(crate) async fn run_jobs(app: &TestApp) {
    boomerang::jobs::run_pending(&app.db, &job_context(TEST_APP_SECRET))
        .await
        .unwrap();
}

/// Makes every waiting retry due now: the message's next try and the job that wakes for it.
pub(crate) async fn make_retries_due(app: &TestApp) {
    app.with_db(|c| {
        use boomerang::db::schema::{jobs, webhook_messages};
        use diesel::prelude::*;
        let past = boomerang::db::now() - chrono::Duration::seconds(1);
        diesel::update(webhook_messages::table.filter(webhook_messages::status.eq("pending")))
            .set(webhook_messages::next_attempt_at.eq(Some(past)))
            .execute(c)
            .unwrap();
        diesel::update(
            jobs::table
                .filter(jobs::kind.eq("deliver_webhooks"))
                .filter(jobs::status.eq("queued")),
        )
        .set(jobs::run_at.eq(past))
        .execute(c)
        .unwrap();
    })
    .await;
}

/// The deliveries of a subscription, as the owner sees them.
pub(crate) async fn deliveries(app: &TestApp, shop: &str, subscription: &str) -> Vec<Value> {
    let resp = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/webhook-subscriptions/{subscription}/deliveries"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

/// How many outbox rows the shop has.
pub(crate) async fn message_count(app: &TestApp, shop_id: &str) -> i64 {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::webhook_messages;
        use diesel::prelude::*;
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(&shop_id))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// Checks a received request's signature with the `standardwebhooks` crate.
pub(crate) fn verify(secret: &str, request: &Request) {
    let webhook = standardwebhooks::Webhook::new(secret).unwrap();
    webhook
        .verify(&request.body, &request.headers)
        .unwrap_or_else(|e| panic!("signature does not verify: {e:?}"));
}
