//! The donations report: donations summed per charity over the days asked, cancelled ones and
//! custom rewards left out, against a hand sum over a fixed set.

use serde_json::{json, Value};

use boomerang::db::schema::fulfilments;
use diesel::prelude::*;

use crate::fulfilments::{act, redeem, setup};
use crate::helpers::{error_code, session_token, TestApp};
use crate::rewards::SHOP;

/// Dates a fulfilment's creation (the report counts by it).
async fn created_on(app: &TestApp, id: &str, at: &str) {
    let (id, at) = (id.to_owned(), at.to_owned());
    app.with_db(move |c| {
        let at = chrono::NaiveDateTime::parse_from_str(&at, "%Y-%m-%d %H:%M:%S").unwrap();
        diesel::update(fulfilments::table.find(id))
            .set(fulfilments::created_at.eq(at))
            .execute(c)
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_donations_report_sums_per_charity_within_the_days_asked() {
    let app = setup(10_000).await;
    // (reward, created at, cancelled)
    let fixture = [
        ("give-5", "2026-01-01 00:00:00", false),
        ("give-5", "2026-01-15 12:00:00", false),
        ("give-10", "2026-01-31 23:59:59", false),
        ("give-10", "2026-01-20 10:00:00", true),
        ("poster", "2026-01-10 10:00:00", false),
        ("give-5", "2025-12-31 23:59:59", false),
        ("give-10", "2026-02-01 00:00:00", false),
    ];
    for (reward, at, cancelled) in fixture {
        let id = redeem(&app, reward).await["fulfilment_id"]
            .as_str()
            .unwrap()
            .to_owned();
        created_on(&app, &id, at).await;
        if cancelled {
            assert_eq!(act(&app, SHOP, &id, "cancel").await.status(), 200);
        }
    }
    let report = |query: &'static str| {
        let app = &app;
        async move {
            app.admin_get(
                &session_token(SHOP),
                &format!("/api/admin/v1/reports/donations{query}"),
            )
            .await
        }
    };
    let january: Value = report("?from=2026-01-01&to=2026-01-31")
        .await
        .json()
        .await
        .unwrap();
    // By hand: two Red Crescent donations on Jan 1 and 15 (500 each, 300 points each); one
    // Food Bank donation on Jan 31 (1000, 500 points); the cancelled one, the custom reward and
    // the days outside are not counted.
    assert_eq!(
        january,
        json!({
            "from": "2026-01-01",
            "to": "2026-01-31",
            "charities": [
                {"charity": "Food Bank", "donations": 1, "amount_minor": 1000, "points": 500},
                {"charity": "Red Crescent", "donations": 2, "amount_minor": 1000, "points": 600}
            ],
            "total_minor": 2000
        })
    );
    let one_day: Value = report("?from=2026-02-01&to=2026-02-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one_day["total_minor"], 1000);
    assert_eq!(one_day["charities"][0]["charity"], "Food Bank");
    let everything: Value = report("?from=2025-01-01&to=2026-12-31")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(everything["total_minor"], 3500);
    let none: Value = report("?from=2024-01-01&to=2024-12-31")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["charities"], json!([]));
    assert_eq!(none["total_minor"], 0);

    for bad in [
        "",
        "?from=2026-01-01",
        "?to=2026-01-31",
        "?from=2026-02-01&to=2026-01-01",
        "?from=2026-02-30&to=2026-03-01",
        "?from=yesterday&to=2026-01-01",
    ] {
        let resp = report(bad).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(error_code(resp).await, "bad_request", "{bad}");
    }
}
