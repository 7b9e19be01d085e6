//! `GET /api/admin/v1/metrics`, black-box: a fixed history delivered as signed, back-dated
//! Shopify orders (history before the install included), a partial refund and a cancellation
//! arriving after the fact, two ledger lines for the points figures; every field checked
//! against values worked out by hand below; zero denominators are `null`; bad periods are
//! refused; another shop's token sees only its own figures.
//!
//! T is today (UTC, the shops' zone); the period is [T-59, T], so "the day before from" is T-60.
//!
//! | customer | kind | orders (days ago: amount) |
//! |---|---|---|
//! | C1 101 | account | 400: 100.00, 100: 50.00 |
//! | C2 102 | account | 300: 40.00 |
//! | C3 103 | account | 420: 20.00, 380: 30.00 |
//! | C4 104 | account | 30: 60.00, 20: 40.00, 10: 20.00, 5: 80.00 |
//! | C5 | guest g5@ | 200: 25.00, 40: 35.00 |
//! | C6 | guest g6@ | 15: 10.00 |
//! | — | anonymous | 12: 5.00 |
//! | C7 107 | account | 25: 70.00 (later refunded 20.00 → 50.00), 8: 30.00 (later cancelled) |
//! | C8 108 | account | 50: 90.00 (fully refunded: never counts) |
//!
//! S (active on T-60: an order in [T-424, T-60]) = C1, C2, C3, C5 = 4.
//! N (first order in [T-59, T]) = C4, C6, C7 = 3.
//! E (active on T: an order in [T-364, T]) = C1, C2, C4, C5, C6, C7 = 6 (C3's last is T-380).
//! CRR = (6-3)/4 = 75 %. Churn: C3 only = 1/4 = 25 %; C3 is a member: 420-380 = 40 days.
//! ≥2 orders in [T-364, T]: C4 (4), C5 (2) → RPR 2/6 = 33.3 %; ≥4: C4 → LCR 1/6 = 16.7 %.
//! Period orders: C5 35, C4 60+40+20+80, C6 10, anonymous 5, C7 50 → 8 orders, 300.00.
//! Members': C4 200 + C7 50 = 250.00 in 5 orders (AOV 50.00); others 50.00 in 3 (16.67).
//! AOV all 300/8 = 37.50. Repeat: C5's 35 + C4's 40+20+80 = 175.00 (first orders: 125.00).
//! CLV: first order ≥365 days before T: C1 (150.00), C3 (50.00) → 100.00.
//! Points (the shop installed today: history earns nothing): C4 +1000 sign-up, -250 redeemed,
//! today → redemption 25 %; AER: 1 member engaged of 6 accounts (C1-4, C7, C8) = 16.7 %.

use chrono::{Duration, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::schema::{members, shops};

use crate::helpers::{error_code, order_json, refund_json, session_token, TestApp};

const SHOP: &str = "metrics.myshopify.com";
const OTHER: &str = "metrics-other.myshopify.com";

fn ago(days: i64) -> String {
    format!("{}T12:00:00Z", day_ago(days))
}

pub(crate) fn day_ago(days: i64) -> NaiveDate {
    Utc::now().date_naive() - Duration::days(days)
}

/// A paid order of `amount`, dated `days` ago: by account `customer` (non-zero), by a guest
/// (`customer` 0 with an e-mail) or anonymous (no e-mail).
pub(crate) fn order(id: u64, customer: u64, email: Option<&str>, amount: &str, days: i64) -> Value {
    let mut body = order_json(
        id,
        email.map(|e| (customer, e)),
        "paid",
        &[(id * 10, 1, amount)],
    );
    body["created_at"] = json!(ago(days));
    body["processed_at"] = json!(ago(days));
    body["updated_at"] = json!(ago(days));
    body
}

pub(crate) async fn metrics(app: &TestApp, shop: &str, from: NaiveDate, to: NaiveDate) -> Value {
    let resp = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/metrics?from={from}&to={to}"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

pub(crate) async fn installed_today(app: &TestApp, shop_id: String) {
    app.with_db(move |c| {
        diesel::update(shops::table.find(&shop_id))
            .set(shops::installed_at.eq(boomerang::db::now()))
            .execute(c)
            .unwrap()
    })
    .await;
}

/// A confirmed ledger line for the member of platform customer `customer`.
pub(crate) async fn post_points(
    app: &TestApp,
    shop_id: &str,
    customer: &str,
    delta: i64,
    kind: &str,
) {
    use boomerang::domain::points::{LedgerKind, LedgerStatus};
    use boomerang::services::ledger::{post, Posting, WhenShort};
    let (shop_id, customer, kind) = (shop_id.to_owned(), customer.to_owned(), kind.to_owned());
    app.with_db(move |c| {
        let member_id: String = members::table
            .filter(members::shop_id.eq(&shop_id))
            .filter(members::platform_customer_id.eq(&customer))
            .select(members::id)
            .first(c)
            .unwrap();
        boomerang::db::write_transaction(c, |c| {
            post(
                c,
                &Posting {
                    shop_id: shop_id.clone(),
                    member_id,
                    delta,
                    kind: kind.parse::<LedgerKind>().unwrap(),
                    status: LedgerStatus::Confirmed,
                    reason: None,
                    source: "test".into(),
                    source_id: format!("{kind}-{delta}"),
                    action: kind.clone(),
                    detail: None,
                    confirms_at: None,
                    when_short: WhenShort::Refuse,
                },
                boomerang::db::now(),
            )
        })
        .unwrap();
    })
    .await;
}

#[tokio::test]
async fn every_figure_matches_the_hand_computed_history() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    installed_today(&app, shop_id.clone()).await;
    let other_id = app.add_shop(OTHER, "USD").await;
    installed_today(&app, other_id).await;

    let e = |n: u64| format!("c{n}@example.com");
    let history = [
        order(1, 101, Some(&e(101)), "100.00", 400),
        order(2, 101, Some(&e(101)), "50.00", 100),
        order(3, 102, Some(&e(102)), "40.00", 300),
        order(4, 103, Some(&e(103)), "20.00", 420),
        order(5, 103, Some(&e(103)), "30.00", 380),
        order(6, 104, Some(&e(104)), "60.00", 30),
        order(7, 104, Some(&e(104)), "40.00", 20),
        order(8, 104, Some(&e(104)), "20.00", 10),
        order(9, 104, Some(&e(104)), "80.00", 5),
        order(10, 0, Some("g5@example.com"), "25.00", 200),
        order(11, 0, Some("g5@example.com"), "35.00", 40),
        order(12, 0, Some("g6@example.com"), "10.00", 15),
        order(13, 0, None, "5.00", 12),
        order(14, 107, Some(&e(107)), "70.00", 25),
        order(15, 107, Some(&e(107)), "30.00", 8),
        order(16, 108, Some(&e(108)), "90.00", 50),
    ];
    // Delivered newest first: the roll-ups do not depend on the order of arrival.
    for (i, body) in history.iter().enumerate().rev() {
        app.deliver(SHOP, "orders/paid", &format!("o{i}"), body)
            .await;
    }
    app.deliver(
        SHOP,
        "refunds/create",
        "r16",
        &refund_json(160, 16, &[], "90.00"),
    )
    .await;
    let theirs = order(99, 901, Some("x@example.com"), "999.00", 12);
    app.deliver(OTHER, "orders/paid", "x", &theirs).await;

    let (from, to) = (day_ago(59), day_ago(0));
    // Before C7's refund and cancellation: 20.00 + 30.00 more, in one more order.
    let m = metrics(&app, SHOP, from, to).await;
    assert_eq!(m["revenue_minor"]["total"], 35_000);
    assert_eq!(m["aov_minor"]["all"], 3_889); // 35000 / 9 = 3888.9

    // Both arrive after the fact and correct the days the orders are dated on.
    app.deliver(
        SHOP,
        "refunds/create",
        "r14",
        &refund_json(140, 14, &[], "20.00"),
    )
    .await;
    let mut cancelled = order(15, 107, Some(&e(107)), "30.00", 8);
    cancelled["cancelled_at"] = json!(ago(1));
    cancelled["updated_at"] = json!(ago(1));
    app.deliver(SHOP, "orders/cancelled", "c15", &cancelled)
        .await;
    // A replay changes nothing.
    app.deliver(SHOP, "orders/paid", "o3-again", &history[3])
        .await;

    post_points(&app, &shop_id, "104", 1_000, "signup").await;
    post_points(&app, &shop_id, "104", -250, "redeem").await;

    let m = metrics(&app, SHOP, from, to).await;
    assert_eq!(m["from"], json!(from.to_string()));
    assert_eq!(m["to"], json!(to.to_string()));
    assert_eq!(m["currency"], "USD");
    assert_eq!(
        m["customers"],
        json!({"at_start": 4, "new": 3, "at_end": 6})
    );
    assert_eq!(m["crr_pct"], 75.0);
    assert_eq!(m["churn_pct"], 25.0);
    assert_eq!(m["rpr_pct"], 33.3);
    assert_eq!(m["lcr_pct"], 16.7);
    assert_eq!(m["aer_pct"], 16.7);
    assert_eq!(
        m["aov_minor"],
        json!({"all": 3_750, "members": 5_000, "non_members": 1_667})
    );
    assert_eq!(m["clv_minor"], 10_000);
    assert_eq!(m["redemption_rate_pct"], 25.0);
    assert_eq!(
        m["revenue_minor"],
        json!({"total": 30_000, "members": 25_000, "repeat": 17_500})
    );
    assert_eq!(m["avg_days_member_before_churn"], 40.0);
    assert_eq!(
        m["nps"],
        json!({"responses": 0, "promoters": 0, "passives": 0, "detractors": 0, "nps": null})
    );
    let series = m["series"].as_array().unwrap();
    assert_eq!(series.len(), 60, "every day of the period");
    let day = |days: i64| {
        series
            .iter()
            .find(|s| s["date"] == json!(day_ago(days).to_string()))
            .unwrap()
            .clone()
    };
    let zero_points = |orders: i64, revenue: i64, new: i64| {
        json!({"orders": orders, "revenue_minor": revenue, "new_customers": new,
               "points_earned": 0, "points_spent": 0})
    };
    let strip = |mut v: Value| {
        v.as_object_mut().unwrap().remove("date");
        v
    };
    assert_eq!(strip(day(30)), zero_points(1, 6_000, 1));
    assert_eq!(
        strip(day(25)),
        zero_points(1, 5_000, 1),
        "net of the refund"
    );
    assert_eq!(strip(day(8)), zero_points(0, 0, 0), "cancelled");
    assert_eq!(
        strip(day(12)),
        zero_points(1, 500, 0),
        "anonymous: not a customer"
    );
    assert_eq!(
        strip(day(40)),
        zero_points(1, 3_500, 0),
        "the guest's second order"
    );
    assert_eq!(
        strip(day(0)),
        json!({"orders": 0, "revenue_minor": 0, "new_customers": 0,
               "points_earned": 1_000, "points_spent": 250})
    );

    // The other shop's token sees its own single customer only; zero denominators are null.
    let o = metrics(&app, OTHER, from, to).await;
    assert_eq!(o["currency"], "USD");
    assert_eq!(
        o["customers"],
        json!({"at_start": 0, "new": 1, "at_end": 1})
    );
    assert_eq!(o["crr_pct"], Value::Null);
    assert_eq!(o["churn_pct"], Value::Null);
    assert_eq!(o["rpr_pct"], 0.0);
    assert_eq!(
        o["revenue_minor"],
        json!({"total": 99_900, "members": 99_900, "repeat": 0})
    );
    assert_eq!(o["clv_minor"], Value::Null);
    assert_eq!(o["redemption_rate_pct"], Value::Null);

    // A period with nothing in it: every ratio is null, every count zero.
    let empty = metrics(
        &app,
        SHOP,
        NaiveDate::from_ymd_opt(2001, 1, 1).unwrap(),
        NaiveDate::from_ymd_opt(2001, 1, 31).unwrap(),
    )
    .await;
    assert_eq!(
        empty["customers"],
        json!({"at_start": 0, "new": 0, "at_end": 0})
    );
    for field in [
        "crr_pct",
        "churn_pct",
        "rpr_pct",
        "lcr_pct",
        "aer_pct",
        "clv_minor",
        "redemption_rate_pct",
        "avg_days_member_before_churn",
    ] {
        assert_eq!(empty[field], Value::Null, "{field}");
    }
    assert_eq!(
        empty["aov_minor"],
        json!({"all": null, "members": null, "non_members": null})
    );
    assert_eq!(empty["series"].as_array().unwrap().len(), 31);
}

#[tokio::test]
async fn the_roll_ups_rebuilt_from_orders_equal_the_kept_ones() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    for (i, (customer, days, amount)) in [
        (201u64, 500i64, "10.00"),
        (201, 130, "20.00"),
        (202, 90, "30.00"),
        (201, 10, "40.00"),
        (202, 3, "50.00"),
    ]
    .into_iter()
    .enumerate()
    {
        let body = order(
            i as u64 + 1,
            customer,
            Some(&format!("c{customer}@example.com")),
            amount,
            days,
        );
        app.deliver(SHOP, "orders/paid", &format!("o{i}"), &body)
            .await;
    }
    // Marked built: the first request reads what was kept as the orders arrived.
    let id = shop_id.clone();
    app.with_db(move |c| {
        diesel::update(shops::table.find(&id))
            .set(shops::metrics_built_at.eq(Some(boomerang::db::now())))
            .execute(c)
            .unwrap()
    })
    .await;
    let (from, to) = (day_ago(200), day_ago(0));
    let kept = metrics(&app, SHOP, from, to).await;
    // The changes recorded as the orders applied, folded into the days by the daily pass, read
    // the same (and nothing is left to fold).
    let id = shop_id.clone();
    let left = app
        .with_db(move |c| {
            use boomerang::db::schema::metric_day_changes;
            let before: i64 = metric_day_changes::table.count().get_result(c).unwrap();
            assert!(before > 0, "orders record changes");
            boomerang::db::write_transaction(c, |c| {
                boomerang::services::retention::metrics::fold_changes(c, &id)
            })
            .unwrap();
            metric_day_changes::table
                .count()
                .get_result::<i64>(c)
                .unwrap()
        })
        .await;
    assert_eq!(left, 0);
    assert_eq!(metrics(&app, SHOP, from, to).await, kept);
    // Built whole from the orders (as for an instance upgraded with orders already stored).
    let id = shop_id.clone();
    app.with_db(move |c| {
        boomerang::db::write_transaction(c, |c| {
            boomerang::services::retention::metrics_build::rebuild(c, &id, "UTC")
        })
        .unwrap()
    })
    .await;
    assert_eq!(metrics(&app, SHOP, from, to).await, kept);
    assert_eq!(
        kept["customers"],
        json!({"at_start": 1, "new": 1, "at_end": 2})
    );
    assert_eq!(kept["rpr_pct"], 100.0);
}

/// One history, applied two ways: on one shop as stored pending events the applier takes in one
/// batch (whose roll-ups are written once, at its end), on another delivered one at a time. The
/// batch holds a second delivery of an order, a refund and a cancellation of orders earlier in
/// it, a guest's order and then an account with the guest's e-mail, an anonymous order. Both
/// shops show the same figures, and the same as the roll-ups rebuilt from the orders.
#[tokio::test]
async fn orders_applied_in_one_batch_roll_up_as_orders_applied_one_at_a_time() {
    let app = TestApp::spawn_with(crate::batch_apply::ONE_APPLIER).await;
    let batched = app.add_shop(SHOP, "USD").await;
    installed_today(&app, batched.clone()).await;
    let one_by_one = app.add_shop(OTHER, "USD").await;
    installed_today(&app, one_by_one.clone()).await;
    let e = |n: u64| format!("c{n}@example.com");
    let mut cancelled = order(3, 302, Some(&e(302)), "30.00", 60);
    cancelled["cancelled_at"] = json!(ago(55));
    cancelled["updated_at"] = json!(ago(55));
    let history: Vec<(&str, &str, Value)> = vec![
        (
            "orders/paid",
            "a1",
            order(1, 301, Some(&e(301)), "10.00", 100),
        ),
        (
            "orders/paid",
            "a2",
            order(2, 301, Some(&e(301)), "20.00", 40),
        ),
        (
            "orders/paid",
            "a3",
            order(3, 302, Some(&e(302)), "30.00", 60),
        ),
        (
            "orders/paid",
            "a4",
            order(4, 0, Some("g@example.com"), "15.00", 50),
        ),
        ("orders/paid", "a5", order(5, 0, None, "25.00", 20)),
        (
            "refunds/create",
            "a6",
            refund_json(20, 2, &[(20, 1, "5.00")], "5.00"),
        ),
        ("orders/cancelled", "a7", cancelled),
        (
            "orders/paid",
            "a8",
            order(6, 303, Some("g@example.com"), "40.00", 10),
        ),
        (
            "orders/paid",
            "a9",
            order(1, 301, Some(&e(301)), "10.00", 100),
        ),
        (
            "orders/paid",
            "a10",
            order(7, 301, Some(&e(301)), "12.00", 5),
        ),
        (
            "orders/paid",
            "a11",
            order(8, 302, Some(&e(302)), "8.00", 3),
        ),
    ];
    for (topic, id, body) in &history {
        app.deliver(OTHER, topic, id, body).await;
    }
    crate::ingest::store_pending(&app, &batched, history).await;
    crate::ingest::drained(&app).await;

    let (from, to) = (day_ago(200), day_ago(0));
    let kept = metrics(&app, SHOP, from, to).await;
    assert_eq!(kept, metrics(&app, OTHER, from, to).await);
    // 10 + (20 - 5) + 15 + 25 + 40 + 12 + 8: the cancelled order counts for nothing.
    assert_eq!(kept["revenue_minor"]["total"], 12_500, "{kept}");
    let id = batched.clone();
    app.with_db(move |c| {
        boomerang::db::write_transaction(c, |c| {
            boomerang::services::retention::metrics_build::rebuild(c, &id, "UTC")
        })
        .unwrap()
    })
    .await;
    assert_eq!(metrics(&app, SHOP, from, to).await, kept);
    // The purchases kept for replenishment: the cancelled order's are gone, the anonymous
    // order has none, and both shops keep the same.
    let purchases = |shop: String| {
        app.with_db(move |c| {
            use boomerang::db::schema::product_purchases as p;
            let mut rows: Vec<String> = p::table
                .filter(p::shop_id.eq(&shop))
                .select(p::platform_order_id)
                .load(c)
                .unwrap();
            rows.sort();
            rows
        })
    };
    let kept_purchases = purchases(batched.clone()).await;
    assert!(
        !kept_purchases.contains(&"3".to_owned()),
        "{kept_purchases:?}"
    );
    assert!(
        !kept_purchases.contains(&"5".to_owned()),
        "{kept_purchases:?}"
    );
    assert!(
        kept_purchases.contains(&"1".to_owned()),
        "{kept_purchases:?}"
    );
    assert_eq!(purchases(one_by_one.clone()).await, kept_purchases);
    // The members' purchase facts (written once for the batch) match too: 301's three orders
    // (10 + 15 + 12), and 303 holds the guest's order it claimed in the middle of the batch.
    let facts = |shop: String| {
        app.with_db(move |c| {
            use boomerang::db::schema::customer_facts as f;
            let members: Vec<(String, Option<String>, Option<String>)> = members::table
                .filter(members::shop_id.eq(&shop))
                .select((members::id, members::platform_customer_id, members::email))
                .load(c)
                .unwrap();
            let rows: Vec<(String, i64, i64, FactDays)> = f::table
                .filter(f::shop_id.eq(&shop))
                .select((
                    f::member_id,
                    f::order_count,
                    f::net_spend_minor,
                    (f::first_order_on, f::last_order_on),
                ))
                .load(c)
                .unwrap();
            let mut named: Vec<_> = rows
                .into_iter()
                .map(|(member, count, spend, days)| {
                    let (_, customer, email) = members.iter().find(|m| m.0 == member).unwrap();
                    (customer.clone(), email.clone(), count, spend, days)
                })
                .collect();
            named.sort();
            named
        })
    };
    let kept_facts = facts(batched).await;
    assert_eq!(kept_facts, facts(one_by_one).await);
    assert!(
        kept_facts
            .iter()
            .any(|f| f.0.as_deref() == Some("301") && f.2 == 3 && f.3 == 3_700),
        "{kept_facts:?}"
    );
    assert!(
        kept_facts
            .iter()
            .any(|f| f.0.as_deref() == Some("303") && f.2 == 2 && f.3 == 5_500),
        "{kept_facts:?}"
    );
}

/// A member's first and last order days, as their facts row keeps them.
type FactDays = (Option<NaiveDate>, Option<NaiveDate>);

#[tokio::test]
async fn bad_periods_are_refused_and_a_token_is_required() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    for query in [
        "",
        "?from=2026-01-01",
        "?to=2026-01-01",
        "?from=2026-02-30&to=2026-03-01",
        "?from=yesterday&to=2026-03-01",
        "?from=2026-03-02&to=2026-03-01",
        "?from=2020-01-01&to=2026-03-01",
    ] {
        let resp = app
            .admin_get(&token, &format!("/api/admin/v1/metrics{query}"))
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(error_code(resp).await, "bad_request", "{query}");
    }
    let resp = app
        .client
        .get(app.url("/api/admin/v1/metrics?from=2026-01-01&to=2026-01-31"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}
