//! The win-back report against a fixed data set computed by hand, its bad input, and another
//! shop's view.

use super::*;
use crate::helpers::error_code;
use crate::smtp::Behaviour;

/// Sets a customer's group and variant as the fixed data set needs them (the draw is random).
async fn assign(app: &TestApp, customer: &str, holdout: bool, variant: Option<&str>) {
    let (customer, variant) = (customer.to_owned(), variant.map(str::to_owned));
    app.with_db(move |c| {
        use boomerang::db::schema::{members, win_back_entries};
        use diesel::prelude::*;
        let member: String = members::table
            .filter(members::platform_customer_id.eq(customer))
            .select(members::id)
            .first(c)
            .unwrap();
        diesel::update(win_back_entries::table.filter(win_back_entries::member_id.eq(member)))
            .set((
                win_back_entries::holdout.eq(holdout),
                win_back_entries::variant.eq(variant),
            ))
            .execute(c)
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn the_report_equals_a_hand_computation_on_a_fixed_data_set() {
    let server = platform().await;
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&server, &listener, program(0, json!([]), false)).await;
    // Five customers lapse together (last order 100 days ago: entered 9 days ago).
    for (i, customer) in (7201..=7205u64).enumerate() {
        deliver(&app, SHOP, &order(100 + i as u64, customer, "40.00", 100)).await;
    }
    daily_pass(&app, SHOP).await;
    assert_eq!(entries(&app, SHOP).await.len(), 5);
    // Treated: 7201 (a), 7202 (b), 7205 (a); hold-out: 7203, 7204.
    for (customer, holdout, variant) in [
        ("7201", false, Some("a")),
        ("7202", false, Some("b")),
        ("7203", true, None),
        ("7204", true, None),
        ("7205", false, Some("a")),
    ] {
        assign(&app, customer, holdout, variant).await;
    }
    // Within 30 days of entry: 7201 orders twice (30.00, 20.00), 7203 once (10.00).
    deliver(&app, SHOP, &order(200, 7201, "30.00", 5)).await;
    deliver(&app, SHOP, &order(201, 7201, "20.00", 2)).await;
    deliver(&app, SHOP, &order(202, 7203, "10.00", 3)).await;
    run_jobs(&app).await;

    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/reports/win-back")
        .await;
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    // By hand: treated 3 customers, 2 orders, 50.00, 1 buyer; hold-out 2, 1 order, 10.00,
    // 1 buyer. Order rate 1/3 − 1/2 = −16.67 points → −16.7; revenue per customer
    // 5000/3 − 1000/2 = 1166.67 → 1167 minor units.
    assert_eq!(
        report["treated"],
        json!({"customers": 3, "orders": 2, "revenue_minor": 5000})
    );
    assert_eq!(
        report["holdout"],
        json!({"customers": 2, "orders": 1, "revenue_minor": 1000})
    );
    assert_eq!(
        report["lift"],
        json!({"order_rate_pct": -16.7, "revenue_per_customer_minor": 1167})
    );
    assert_eq!(
        report["variants"],
        json!([
            {"id": "a", "sent": 2, "orders": 2, "revenue_minor": 5000},
            {"id": "b", "sent": 1, "orders": 0, "revenue_minor": 0}
        ])
    );
    // A period before the entries holds nobody; bad dates are refused.
    let resp = app
        .admin_get(
            &session_token(SHOP),
            "/api/admin/v1/reports/win-back?from=2020-01-01&to=2020-12-31",
        )
        .await;
    let empty: Value = resp.json().await.unwrap();
    assert_eq!(empty["treated"]["customers"], 0);
    assert_eq!(empty["lift"]["order_rate_pct"], Value::Null);
    for query in [
        "?from=yesterday",
        "?from=2026-02-30",
        "?from=2026-12-01&to=2026-11-01",
    ] {
        let resp = app
            .admin_get(
                &session_token(SHOP),
                &format!("/api/admin/v1/reports/win-back{query}"),
            )
            .await;
        assert_eq!(resp.status(), 400, "{query}");
        assert_eq!(error_code(resp).await, "bad_request");
    }
    // Another shop sees none of it.
    app.add_shop(OTHER, "USD").await;
    let theirs: Value = app
        .admin_get(&session_token(OTHER), "/api/admin/v1/reports/win-back")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["treated"]["customers"], 0);
    assert_eq!(theirs["holdout"]["customers"], 0);
}

#[tokio::test]
async fn bad_win_back_settings_are_refused_naming_the_field_and_change_nothing() {
    let server = platform().await;
    let listener = SmtpListener::start(Behaviour::Accept);
    let (app, _) = setup(&server, &listener, program(10, json!([]), true)).await;
    let cases = [
        (
            json!({"win_back": {"enabled": true, "after_days": 0, "steps": [{"delay_days": 0}]}}),
            "after_days",
        ),
        (
            json!({"win_back": {"enabled": true, "after_days": "sometimes", "steps": [{"delay_days": 0}]}}),
            "after_days",
        ),
        (json!({"win_back": {"enabled": true, "steps": []}}), "steps"),
        (
            json!({"win_back": {"enabled": true, "steps": [{"delay_days": 0}], "holdout_pct": 90}}),
            "holdout_pct",
        ),
        (
            json!({"win_back": {"enabled": true, "steps": [{"delay_days": 0, "reward": {"kind": "fixed_amount", "amount_minor": -5, "expires_days": 14}}]}}),
            "steps[0]",
        ),
        (
            json!({"win_back": {"enabled": true, "steps": [{"delay_days": 0}], "subject_variants": [{"id": "a", "subject": {"en": "Hi\r\nBcc: x@y.z"}}]}}),
            "subject_variants[0]",
        ),
    ];
    for (body, field) in cases {
        let resp = put_program(&app, SHOP, body.clone()).await;
        assert_eq!(resp.status(), 422, "{body}");
        let text = resp.text().await.unwrap();
        assert!(text.contains(field), "{field}: {text}");
    }
    let program: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(program["win_back"]["holdout_pct"], 10);
}
