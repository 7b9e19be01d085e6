//! Win-back end to end (issue 14): lapsed customers enter the sequence once per lapse through
//! the daily pass (run on demand here), step 1 with a single-use code made on the (fake)
//! platform for that customer, step 2 after its delay, an order ends it; the hold-out and the
//! subject variants split close to their shares over 1,000 customers; the report equals a hand
//! computation. Orders are back-dated: entries are dated by the day the lapse began.

mod replenishment;
mod report;
mod sequence;

use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::{session_token, TestApp};
use crate::smtp::SmtpListener;

pub(crate) const SHOP: &str = "winback.myshopify.com";
pub(crate) const OTHER: &str = "winback-other.myshopify.com";
pub(crate) const APP_SECRET: &str = "win-back-test-app-secret-0123456789abcdef";

/// The contract's example: lapsed after 90 days; step 1 at once with 5.00 off for 14 days,
/// step 2 fourteen days later; mail policy loose enough not to get in the way.
pub(crate) fn program(holdout_pct: u32, variants: Value, reward: bool) -> Value {
    let first = if reward {
        json!({"delay_days": 0, "reward": {"kind": "fixed_amount", "amount_minor": 500, "expires_days": 14}})
    } else {
        json!({"delay_days": 0})
    };
    json!({
        "win_back": {"enabled": true, "after_days": 90, "steps": [first, {"delay_days": 14}],
                     "holdout_pct": holdout_pct, "subject_variants": variants},
        "emails": {"policy": {"quiet_hours": null, "max_per_week": 10}}
    })
}

/// A platform on which every discount create succeeds.
pub(crate) async fn platform() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("discountCodeBasicCreate"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"discountCodeBasicCreate": {
            "codeDiscountNode": {"id": "gid://shopify/DiscountCodeNode/91"}, "userErrors": []}}})),
        )
        .mount(&server)
        .await;
    server
}

/// An app mailing to `listener`, with the shop on `server` running `program`.
pub(crate) async fn setup(
    server: &MockServer,
    listener: &SmtpListener,
    program: Value,
) -> (TestApp, String) {
    let url = listener.url();
    let app = TestApp::spawn_with(&[
        ("APP_SECRET", APP_SECRET),
        ("SMTP_URL", url.as_str()),
        ("MAIL_FROM", "Glow <rewards@glow.example>"),
    ])
    .await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    let resp = put_program(&app, SHOP, program).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    crate::mail::forget_demo_mail(&app, &shop_id).await;
    (app, shop_id)
}

pub(crate) async fn put_program(app: &TestApp, shop: &str, program: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(shop))
        .json(&program)
        .send()
        .await
        .unwrap()
}

/// A paid order of `amount` by `customer` (`c{id}@example.com`) placed `days` ago.
pub(crate) fn order(id: u64, customer: u64, amount: &str, days: i64) -> Value {
    let email = format!("c{customer}@example.com");
    crate::helpers::order_days_ago(id, (customer, &email), days, amount)
}

pub(crate) async fn deliver(app: &TestApp, shop: &str, body: &Value) {
    let id = body["id"].as_u64().unwrap();
    assert_eq!(
        app.deliver(shop, "orders/paid", &format!("order-{id}"), body)
            .await,
        "accepted"
    );
}

/// The daily pass on demand (`POST /segments/recompute`), then every job it leads to: the
/// steps, the codes on the platform, the mail to the listener.
pub(crate) async fn daily_pass(app: &TestApp, shop: &str) {
    let resp = app
        .admin_post(
            &session_token(shop),
            "/api/admin/v1/segments/recompute",
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    run_jobs(app).await;
}

pub(crate) async fn run_jobs(app: &TestApp) {
    let ctx = boomerang::jobs::JobContext {
        mail: boomerang::startup::mail_setup(&app.config).unwrap(),
        ..crate::helpers::job_context(APP_SECRET)
    };
    let report = boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();
    assert_eq!(report.failed, 0, "{report:?}");
}

/// The shop's win-back entries: (platform customer id, holdout, variant, steps sent, end reason).
pub(crate) async fn entries(
    app: &TestApp,
    shop: &str,
) -> Vec<(String, bool, Option<String>, i32, Option<String>)> {
    let shop = shop.to_owned();
    app.with_db(move |c| {
        use boomerang::db::schema::{members, shops, win_back_entries};
        use diesel::prelude::*;
        win_back_entries::table
            .inner_join(members::table.on(members::id.eq(win_back_entries::member_id)))
            .inner_join(shops::table.on(shops::id.eq(win_back_entries::shop_id)))
            .filter(shops::domain.eq(shop))
            .order(members::platform_customer_id)
            .select((
                members::platform_customer_id.assume_not_null(),
                win_back_entries::holdout,
                win_back_entries::variant,
                win_back_entries::steps_sent,
                win_back_entries::end_reason,
            ))
            .load(c)
            .unwrap()
    })
    .await
}

/// The shop's win-back messages in the owner's e-mail log: (customer id, status, variant, subject).
pub(crate) async fn win_back_log(app: &TestApp, shop: &str) -> Vec<(String, String, Value, Value)> {
    let resp = app
        .admin_get(
            &session_token(shop),
            "/api/admin/v1/emails?kind=win_back&limit=500",
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["customer_id"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
                e["variant"].clone(),
                e["subject"].clone(),
            )
        })
        .collect()
}
