//! Purchase facts and RFM segments, black-box: the facts follow orders, refunds, cancellations
//! and replays delivered as signed webhooks (back-dated orders, history included); the daily
//! segmentation run on demand puts a customer in each of the five segments; the customers of a
//! segment page with a cursor; a bad segment is refused; another shop sees none of it.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::models::CustomerFact;
use boomerang::db::schema::{customer_facts, members, shops};

use crate::helpers::{error_code, fixture, order_json, refund_json, session_token, TestApp};

const SHOP: &str = "segments.myshopify.com";
const OTHER: &str = "segments-other.myshopify.com";

/// Noon (UTC) `days` ago, as the platform dates an order.
fn ago(days: i64) -> String {
    let day = Utc::now().date_naive() - Duration::days(days);
    format!("{day}T12:00:00Z")
}

fn day_ago(days: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(days)
}

/// A paid order of `amount` by customer `customer`, dated `days` ago.
fn order(id: u64, customer: u64, amount: &str, days: i64) -> Value {
    let email = format!("c{customer}@example.com");
    let mut body = order_json(
        id,
        Some((customer, &email)),
        "paid",
        &[(id * 10, 1, amount)],
    );
    body["created_at"] = json!(ago(days));
    body["updated_at"] = json!(ago(days));
    body
}

/// The stored facts of the platform customer `customer`, if any.
async fn facts(app: &TestApp, shop: &str, customer: &str) -> Option<CustomerFact> {
    let (shop, customer) = (shop.to_owned(), customer.to_owned());
    app.with_db(move |c| {
        customer_facts::table
            .inner_join(members::table.on(members::id.eq(customer_facts::member_id)))
            .inner_join(shops::table.on(shops::id.eq(customer_facts::shop_id)))
            .filter(shops::domain.eq(shop))
            .filter(members::platform_customer_id.eq(customer))
            .select(CustomerFact::as_select())
            .first(c)
            .optional()
            .unwrap()
    })
    .await
}

/// (order count, net spend, first day, last day, median gap).
fn figures(f: &CustomerFact) -> (i64, i64, Option<NaiveDate>, Option<NaiveDate>, Option<f64>) {
    (
        f.order_count,
        f.net_spend_minor,
        f.first_order_on,
        f.last_order_on,
        f.median_gap_days,
    )
}

async fn run_jobs(app: &TestApp) -> boomerang::jobs::RunReport {
    boomerang::jobs::run_pending(
        &app.db,
        &crate::helpers::job_context("unused-in-these-jobs-0123456789abcdef"),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn facts_follow_orders_refunds_cancellations_and_replays() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // Installed today: every back-dated order is history, and history counts.
    app.with_db(move |c| {
        diesel::update(shops::table.find(&shop_id))
            .set(shops::installed_at.eq(boomerang::db::now()))
            .execute(c)
            .unwrap()
    })
    .await;
    app.deliver(SHOP, "orders/paid", "o1", &order(1, 9001, "100.00", 100))
        .await;
    app.deliver(SHOP, "orders/paid", "o2", &order(2, 9001, "50.00", 40))
        .await;
    app.deliver(SHOP, "orders/paid", "o3", &order(3, 9001, "30.00", 10))
        .await;
    let f = facts(&app, SHOP, "9001").await.expect("facts kept");
    assert_eq!(
        figures(&f),
        (3, 18_000, Some(day_ago(100)), Some(day_ago(10)), Some(45.0))
    );
    assert_eq!(f.segment, None, "segments are the daily job's");

    // Replays (the same delivery, and a new delivery of the same order) change nothing.
    app.deliver(SHOP, "orders/paid", "o1", &order(1, 9001, "100.00", 100))
        .await;
    app.deliver(
        SHOP,
        "orders/updated",
        "o1-again",
        &order(1, 9001, "100.00", 100),
    )
    .await;
    assert_eq!(
        figures(&facts(&app, SHOP, "9001").await.unwrap()),
        figures(&f)
    );

    // A partial refund of order 2 counts its net; the rest of it takes the order out.
    app.deliver(
        SHOP,
        "refunds/create",
        "r1",
        &refund_json(21, 2, &[], "20.00"),
    )
    .await;
    let f = facts(&app, SHOP, "9001").await.unwrap();
    assert_eq!((f.order_count, f.net_spend_minor), (3, 16_000));
    app.deliver(
        SHOP,
        "refunds/create",
        "r2",
        &refund_json(22, 2, &[], "30.00"),
    )
    .await;
    let f = facts(&app, SHOP, "9001").await.unwrap();
    assert_eq!(
        figures(&f),
        (2, 13_000, Some(day_ago(100)), Some(day_ago(10)), Some(90.0))
    );

    // Cancelling order 3 takes it out; an older `orders/paid` delivered late cannot bring it back.
    let mut cancelled = order(3, 9001, "30.00", 10);
    cancelled["cancelled_at"] = json!(ago(9));
    cancelled["updated_at"] = json!(ago(9));
    app.deliver(SHOP, "orders/cancelled", "c3", &cancelled)
        .await;
    app.deliver(SHOP, "orders/paid", "o3-late", &order(3, 9001, "30.00", 10))
        .await;
    let f = facts(&app, SHOP, "9001").await.unwrap();
    assert_eq!(
        figures(&f),
        (1, 10_000, Some(day_ago(100)), Some(day_ago(100)), None)
    );

    // Orders delivered out of order converge on the same facts as in order.
    app.deliver(SHOP, "orders/paid", "b2", &order(12, 9002, "20.00", 5))
        .await;
    app.deliver(SHOP, "orders/paid", "b1", &order(11, 9002, "10.00", 25))
        .await;
    let b = facts(&app, SHOP, "9002").await.unwrap();
    assert_eq!(
        figures(&b),
        (2, 3_000, Some(day_ago(25)), Some(day_ago(5)), Some(20.0))
    );

    // A guest has no facts; an unpaid order counts for nothing.
    let mut guest = order_json(30, None, "paid", &[(300, 1, "10.00")]);
    guest["created_at"] = json!(ago(3));
    app.deliver(SHOP, "orders/paid", "guest", &guest).await;
    let mut pending = order(40, 9004, "10.00", 3);
    pending["financial_status"] = json!("pending");
    app.deliver(SHOP, "orders/create", "pending", &pending)
        .await;
    assert!(facts(&app, SHOP, "9004").await.is_none());
    let rows = app
        .with_db(|c| customer_facts::table.count().get_result::<i64>(c).unwrap())
        .await;
    assert_eq!(rows, 2, "only the two members with counted orders");

    // customers/redact forgets the customer's facts, and only theirs.
    let mut redact: Value =
        serde_json::from_str(&fixture("shopify/customers_redact.json")).unwrap();
    redact["shop_domain"] = json!(SHOP);
    redact["customer"]["id"] = json!(9001);
    redact["customer"]["email"] = json!("c9001@example.com");
    redact["orders_to_redact"] = json!([1, 2, 3]);
    app.deliver(SHOP, "customers/redact", "redact", &redact)
        .await;
    run_jobs(&app).await;
    assert!(facts(&app, SHOP, "9001").await.is_none());
    assert!(facts(&app, SHOP, "9002").await.is_some());
}

/// Delivers `orders` (days ago) for customer `customer`, order ids from `first_id`.
async fn history(app: &TestApp, shop: &str, customer: u64, first_id: u64, days: &[i64]) {
    for (i, d) in days.iter().enumerate() {
        let id = first_id + i as u64;
        app.deliver(
            shop,
            "orders/paid",
            &format!("{shop}-{id}"),
            &order(id, customer, "10.00", *d),
        )
        .await;
    }
}

async fn get(app: &TestApp, shop: &str, path: &str) -> (u16, Value) {
    let resp = app.admin_get(&session_token(shop), path).await;
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

fn ids(page: &Value) -> Vec<String> {
    page["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_recompute_puts_customers_in_each_segment_and_lists_them_by_page() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    app.add_shop(OTHER, "USD").await;
    // Every gap in the shop is 10 days: the shop's median is 10, at risk after 15 days.
    history(&app, SHOP, 1, 100, &[60, 50, 40, 30, 20, 10]).await; // active
    history(&app, SHOP, 2, 200, &[70, 60]).await; // at risk: 60 days > 15, within 90
    history(&app, SHOP, 3, 300, &[120, 110]).await; // lapsed: older than 90 days
    history(&app, SHOP, 4, 400, &[5]).await; // new: first order within 30 days
    for (customer, id) in [(5, 500), (6, 600), (7, 700)] {
        history(&app, SHOP, customer, id, &[400]).await; // lost: older than 365 days
    }
    history(&app, OTHER, 8, 800, &[3]).await;

    let (status, before) = get(&app, SHOP, "/api/admin/v1/segments").await;
    assert_eq!(status, 200);
    assert_eq!(
        before,
        json!({"segments": {"new": 0, "active": 0, "at_risk": 0, "lapsed": 0, "lost": 0}})
    );
    let resp = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/segments/recompute",
            json!({}),
        )
        .await;
    assert_eq!(resp.status(), 202);
    let report = run_jobs(&app).await;
    assert_eq!(report.failed, 0);

    let (_, counts) = get(&app, SHOP, "/api/admin/v1/segments").await;
    assert_eq!(
        counts,
        json!({"segments": {"new": 1, "active": 1, "at_risk": 1, "lapsed": 1, "lost": 3}})
    );
    for (segment, customer) in [
        ("new", "4"),
        ("active", "1"),
        ("at_risk", "2"),
        ("lapsed", "3"),
    ] {
        let (status, page) = get(
            &app,
            SHOP,
            &format!("/api/admin/v1/customers?segment={segment}"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(ids(&page), [customer], "{segment}");
        assert_eq!(page["customers"][0]["segment"], segment);
        assert_eq!(page["next_cursor"], Value::Null);
    }

    // The three lost customers, two at a time.
    let (_, first) = get(&app, SHOP, "/api/admin/v1/customers?segment=lost&limit=2").await;
    assert_eq!(ids(&first).len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (_, second) = get(
        &app,
        SHOP,
        &format!("/api/admin/v1/customers?segment=lost&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(ids(&second).len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let mut all = [ids(&first), ids(&second)].concat();
    all.sort();
    assert_eq!(all, ["5", "6", "7"]);

    // A segment that does not exist is refused, clearly.
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers?segment=gone")
        .await;
    assert_eq!(resp.status(), 400);
    assert_eq!(error_code(resp).await, "bad_request");

    // The other shop's token sees nothing of this shop (its own job did not run: no segments).
    let (_, other) = get(&app, OTHER, "/api/admin/v1/segments").await;
    assert_eq!(
        other,
        json!({"segments": {"new": 0, "active": 0, "at_risk": 0, "lapsed": 0, "lost": 0}})
    );
    let (status, page) = get(&app, OTHER, "/api/admin/v1/customers?segment=lost").await;
    assert_eq!(status, 200);
    assert!(ids(&page).is_empty());
    let (_, page) = get(
        &app,
        OTHER,
        &format!("/api/admin/v1/customers?segment=lost&cursor={cursor}"),
    )
    .await;
    assert!(ids(&page).is_empty());

    // Recomputing again changes nothing (segments are written only where they changed).
    app.admin_post(
        &session_token(SHOP),
        "/api/admin/v1/segments/recompute",
        json!({}),
    )
    .await;
    run_jobs(&app).await;
    let (_, again) = get(&app, SHOP, "/api/admin/v1/segments").await;
    assert_eq!(again, counts);
}

#[tokio::test]
async fn the_win_back_lapse_rule_moves_the_lapsed_segment_and_bad_settings_are_refused() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    history(&app, SHOP, 1, 100, &[60, 50, 40, 30, 20, 10]).await; // active
    history(&app, SHOP, 2, 200, &[70, 60]).await; // at risk by default, lapsed after 45 days
    let put = |program: Value| {
        let app = &app;
        async move {
            app.client
                .put(app.url("/api/admin/v1/program"))
                .bearer_auth(session_token(SHOP))
                .json(&program)
                .send()
                .await
                .unwrap()
        }
    };
    let resp = put(json!({"win_back": {"after_days": 0, "steps": [{"delay_days": 0}]}})).await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("win_back.after_days"),
        "{body}"
    );
    let resp =
        put(json!({"win_back": {"enabled": true, "after_days": 45, "steps": [{"delay_days": 0}]}}))
            .await;
    assert_eq!(resp.status(), 200);
    app.admin_post(
        &session_token(SHOP),
        "/api/admin/v1/segments/recompute",
        json!({}),
    )
    .await;
    run_jobs(&app).await;
    let (_, counts) = get(&app, SHOP, "/api/admin/v1/segments").await;
    assert_eq!(
        counts,
        json!({"segments": {"new": 0, "active": 1, "at_risk": 0, "lapsed": 1, "lost": 0}})
    );
    let (_, page) = get(&app, SHOP, "/api/admin/v1/customers?segment=lapsed").await;
    assert_eq!(ids(&page), ["2"]);
}

#[tokio::test]
async fn shop_redact_forgets_the_shops_facts_and_leaves_other_shops_alone() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    app.add_shop(OTHER, "USD").await;
    history(&app, SHOP, 1, 100, &[20, 10]).await;
    history(&app, OTHER, 2, 200, &[20, 10]).await;
    let mut body: Value = serde_json::from_str(&fixture("shopify/shop_redact.json")).unwrap();
    body["shop_domain"] = json!(SHOP);
    app.deliver(SHOP, "shop/redact", "redact", &body).await;
    run_jobs(&app).await;
    assert!(facts(&app, SHOP, "1").await.is_none());
    assert_eq!(facts(&app, OTHER, "2").await.unwrap().order_count, 2);
}

/// An instance upgraded with orders stored before purchase facts were kept: the first daily
/// pass builds them once from the orders, and the segments count those customers.
#[tokio::test]
async fn facts_missing_for_orders_stored_before_them_are_built_once_by_the_daily_pass() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    history(&app, SHOP, 1, 100, &[60, 50, 40]).await;
    history(&app, SHOP, 2, 200, &[400]).await;
    let built = facts(&app, SHOP, "1").await.map(|f| figures(&f));
    // As the database of an earlier version would be: orders, no facts, the shop not done.
    app.with_db(|c| {
        use boomerang::db::schema::product_purchases;
        diesel::delete(customer_facts::table).execute(c).unwrap();
        diesel::delete(product_purchases::table).execute(c).unwrap();
        diesel::update(shops::table)
            .set(shops::facts_backfilled_at.eq(None::<chrono::NaiveDateTime>))
            .execute(c)
            .unwrap();
    })
    .await;
    assert!(facts(&app, SHOP, "1").await.is_none());
    app.admin_post(
        &session_token(SHOP),
        "/api/admin/v1/segments/recompute",
        json!({}),
    )
    .await;
    run_jobs(&app).await;
    assert_eq!(facts(&app, SHOP, "1").await.map(|f| figures(&f)), built);
    let (_, counts) = get(&app, SHOP, "/api/admin/v1/segments").await;
    assert_eq!(
        counts,
        json!({"segments": {"new": 0, "active": 0, "at_risk": 1, "lapsed": 0, "lost": 1}})
    );
    let purchases: i64 = app
        .with_db(|c| {
            use boomerang::db::schema::product_purchases;
            product_purchases::table.count().get_result(c).unwrap()
        })
        .await;
    assert_eq!(purchases, 4);
    let done: Option<chrono::NaiveDateTime> = app
        .with_db(|c| {
            shops::table
                .filter(shops::domain.eq(SHOP))
                .select(shops::facts_backfilled_at)
                .first(c)
                .unwrap()
        })
        .await;
    assert!(done.is_some());
}
