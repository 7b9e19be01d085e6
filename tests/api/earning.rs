//! Orders into points: exactly once across topics and redeliveries, pending then confirmed,
//! refunds and cancellations taking back exactly their share, guests, bad shapes kept.

use serde_json::json;

use crate::helpers::{fixture, order_json, placed_days_ago, refund_json, session_token, TestApp};

const SHOP: &str = "earn.myshopify.com";
const ADA: (u64, &str) = (7001, "ada@example.com");

fn points(customer: &serde_json::Value) -> (i64, i64) {
    (
        customer["points_balance"].as_i64().unwrap(),
        customer["pending_points"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn an_order_earns_once_across_topics_and_redeliveries() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let lines = [(11, 2, "60.00"), (12, 1, "15.50")];
    // Placed but unpaid: the default program earns on payment.
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/create",
            "w1",
            &order_json(500, Some(ADA), "pending", &lines)
        )
        .await,
        "accepted"
    );
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
    let paid = order_json(500, Some(ADA), "paid", &lines);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "w2", &paid).await,
        "accepted"
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "w2", &paid).await,
        "duplicate"
    );
    assert_eq!(
        app.deliver(SHOP, "orders/updated", "w3", &paid).await,
        "accepted"
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "w4", &paid).await,
        "accepted"
    );
    // 135.50 → 135 points, pending for the return window.
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(points(&ada), (0, 135));
    assert_eq!(ada["lifetime_points"], 135);
    let ledger: serde_json::Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001/ledger")
        .await
        .json()
        .await
        .unwrap();
    let entries = ledger["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["kind"], "earn");
    assert_eq!(entries[0]["status"], "pending");
    assert_eq!(entries[0]["reason"], "Order #500");
    assert_eq!(
        entries[0]["confirms_at"], "2026-12-04T10:00:00Z",
        "14 days after the order"
    );
}

#[tokio::test]
async fn real_fixture_orders_are_stored_and_test_voided_cancelled_orders_earn_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop("usd.myshopify.com", "USD").await;
    app.add_shop("cad.myshopify.com", "CAD").await;
    let cases = [
        (
            "usd.myshopify.com",
            "orders/create",
            "shopify/orders_create.json",
        ),
        (
            "cad.myshopify.com",
            "orders/create",
            "shopify-2023-01/orders_create.json",
        ),
        (
            "cad.myshopify.com",
            "orders/paid",
            "shopify-2023-01/orders_paid.json",
        ),
        (
            "cad.myshopify.com",
            "orders/updated",
            "shopify-2023-01/orders_updated.json",
        ),
        (
            "cad.myshopify.com",
            "orders/cancelled",
            "shopify-2023-01/orders_cancelled.json",
        ),
    ];
    for (i, (shop, topic, file)) in cases.iter().enumerate() {
        let body: serde_json::Value = serde_json::from_str(&fixture(file)).unwrap();
        assert_eq!(
            app.deliver(shop, topic, &format!("f{i}"), &body).await,
            "accepted",
            "{file}"
        );
    }
    for shop in ["usd.myshopify.com", "cad.myshopify.com"] {
        assert_eq!(
            points(&app.customer(shop, "115310627314723950").await),
            (0, 0),
            "{shop}"
        );
        let failed: serde_json::Value = app
            .admin_get(&session_token(shop), "/api/admin/v1/webhooks?status=failed")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(
            failed["events"].as_array().unwrap().len(),
            0,
            "{shop}: {failed}"
        );
    }
    // The same fixture made paid, live and not cancelled earns on its subtotal (388.00).
    let mut live: serde_json::Value =
        serde_json::from_str(&fixture("shopify/orders_create.json")).unwrap();
    live["financial_status"] = json!("paid");
    live["cancelled_at"] = json!(null);
    live["test"] = json!(false);
    // Its own order id: the fixture order itself was cancelled above, and a cancellation sticks.
    live["id"] = json!(820982911946154501u64);
    assert_eq!(
        app.deliver("usd.myshopify.com", "orders/paid", "live", &live)
            .await,
        "accepted"
    );
    assert_eq!(
        points(
            &app.customer("usd.myshopify.com", "115310627314723950")
                .await
        ),
        (0, 388)
    );
}

#[tokio::test]
async fn refunds_take_back_exactly_the_refunded_share() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let lines = [(21, 2, "50.00"), (22, 1, "100.00")];
    app.deliver(
        SHOP,
        "orders/paid",
        "o",
        &order_json(600, Some(ADA), "paid", &lines),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 200));
    // One of the two units of line 21: a quarter of the order.
    app.deliver(
        SHOP,
        "refunds/create",
        "r1",
        &refund_json(901, 600, &[(21, 1, "50.00")], "50.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 150));
    app.deliver(
        SHOP,
        "refunds/create",
        "r1",
        &refund_json(901, 600, &[(21, 1, "50.00")], "50.00"),
    )
    .await;
    assert_eq!(
        points(&app.customer(SHOP, "7001").await),
        (0, 150),
        "a duplicate refund takes nothing"
    );
    app.deliver(
        SHOP,
        "refunds/create",
        "r2",
        &refund_json(902, 600, &[(21, 1, "50.00"), (22, 1, "100.00")], "150.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
    assert_eq!(app.customer(SHOP, "7001").await["lifetime_points"], 0);
}

#[tokio::test]
async fn a_refund_that_arrives_before_its_order_is_applied_with_the_order() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(903, 700, &[(31, 1, "40.00")], "40.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o",
        &order_json(
            700,
            Some(ADA),
            "paid",
            &[(31, 1, "40.00"), (32, 1, "60.00")],
        ),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 60));
}

#[tokio::test]
async fn a_cancellation_takes_back_what_is_left_whatever_the_order_of_arrival() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let lines = [(41, 1, "80.00"), (42, 1, "20.00")];
    app.deliver(
        SHOP,
        "orders/paid",
        "o",
        &order_json(800, Some(ADA), "paid", &lines),
    )
    .await;
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(904, 800, &[(42, 1, "20.00")], "20.00"),
    )
    .await;
    let mut cancelled = order_json(800, Some(ADA), "refunded", &lines);
    cancelled["cancelled_at"] = json!("2026-11-21T12:00:00Z");
    cancelled["updated_at"] = json!("2026-11-21T12:00:00Z");
    app.deliver(SHOP, "orders/cancelled", "c", &cancelled).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
    // A late, older `orders/paid` redelivery cannot resurrect the award.
    app.deliver(
        SHOP,
        "orders/paid",
        "o-late",
        &order_json(800, Some(ADA), "paid", &lines),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
}

#[tokio::test]
async fn points_confirm_after_the_return_window_and_spent_points_give_a_shortfall_not_a_negative_balance(
) {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let placed = order_json(900, Some(ADA), "paid", &[(51, 1, "100.00")]);
    let placed = placed_days_ago(placed, 1);
    app.deliver(SHOP, "orders/paid", "o", &placed).await;
    assert_eq!(app.confirm_after(&shop_id, 0).await, 0, "not due yet");
    assert_eq!(app.confirm_after(&shop_id, 30).await, 1);
    assert_eq!(points(&app.customer(SHOP, "7001").await), (100, 0));
    // Spend 70 of them, then the whole order is refunded.
    let spend = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/customers/7001/adjustments",
            json!({"points": -70, "reason": "Spent on a reward"}),
        )
        .await;
    assert_eq!(spend.status(), 201);
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(905, 900, &[(51, 1, "100.00")], "100.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(points(&ada), (0, 0), "the balance stops at zero");
    let alerts: serde_json::Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["shortfalls"][0]["shortfall"], 70, "{alerts}");
    assert_eq!(alerts["shortfalls"][0]["order_id"], "900");
    assert_eq!(alerts["shortfalls"][0]["customer_id"], "7001");
}

#[tokio::test]
async fn guests_earn_by_email_and_are_merged_when_the_account_appears() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let mut guest_order = order_json(1000, None, "paid", &[(61, 1, "42.00")]);
    guest_order["email"] = json!("Guest@Example.com ");
    app.deliver(SHOP, "orders/paid", "g", &guest_order).await;
    let customer = json!({"id": 8001, "email": "guest@example.com", "verified_email": true, "first_name": "Gus", "last_name": "Guest",
        "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z", "email_marketing_consent": {"state": "subscribed"}});
    app.deliver(SHOP, "customers/create", "c", &customer).await;
    let member = app.customer(SHOP, "8001").await;
    assert_eq!(points(&member), (0, 42));
    assert_eq!(member["email"], "guest@example.com");
    // A refund of the guest order now comes off the account.
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(906, 1000, &[(61, 1, "42.00")], "42.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "8001").await), (0, 0));
}

#[tokio::test]
async fn a_signed_body_of_the_wrong_shape_is_kept_as_failed_and_can_be_replayed() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "EUR").await;
    let token = session_token(SHOP);
    assert_eq!(
        app.deliver(
            SHOP,
            "orders/paid",
            "bad-shape",
            &json!({"id": "not a number"})
        )
        .await,
        "accepted"
    );
    // A USD order for a EUR shop: refused, not silently mis-counted.
    let usd = order_json(1100, Some(ADA), "paid", &[(71, 1, "10.00")]);
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "usd", &usd).await,
        "accepted"
    );
    let failed: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/webhooks?status=failed")
        .await
        .json()
        .await
        .unwrap();
    let events = failed["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{failed}");
    assert!(
        events
            .iter()
            .any(|e| e["error"].as_str().unwrap().contains("id")),
        "{failed}"
    );
    let alerts: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["failed_webhooks"], 2);
    // The owner fixes the shop's currency; the kept event is replayed and earns.
    app.with_db(|c| {
        use boomerang::db::schema::shops;
        use diesel::prelude::*;
        diesel::update(shops::table.filter(shops::domain.eq(SHOP)))
            .set(shops::currency.eq("USD"))
            .execute(c)
            .unwrap();
    })
    .await;
    let usd_event = events.iter().find(|e| e["delivery_id"] == "usd").unwrap();
    let replayed: serde_json::Value = app
        .client
        .post(app.url(&format!(
            "/api/admin/v1/webhooks/{}/replay",
            usd_event["id"].as_str().unwrap()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(replayed["status"], "applied", "{replayed}");
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 10));
    let other_shop = app
        .client
        .post(app.url(&format!(
            "/api/admin/v1/webhooks/{}/replay",
            usd_event["id"].as_str().unwrap()
        )))
        .bearer_auth(session_token("someone-else.myshopify.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(other_shop.status(), 401);
}

#[tokio::test]
async fn the_program_is_editable_and_refunds_use_the_rule_the_order_earned_with() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    let program: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(program["earning"]["points_per_unit"], 1);
    assert_eq!(program["earning"]["pending_days"], 14);
    app.deliver(
        SHOP,
        "orders/paid",
        "o1",
        &order_json(1200, Some(ADA), "paid", &[(81, 1, "100.00")]),
    )
    .await;

    let put = |body: serde_json::Value| {
        app.client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let mut triple = program.clone();
    triple["earning"]["points_per_unit"] = json!(3);
    assert_eq!(put(triple).await.unwrap().status(), 200);
    let bad = put(
        json!({"earning": {"product_multipliers": [{"product_id": "1", "multiplier_pct": 0}]}}),
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), 422);
    let typo = put(json!({"earnign": {}})).await.unwrap();
    assert_eq!(typo.status(), 422);
    let after: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after["earning"]["points_per_unit"], 3,
        "failed updates changed nothing"
    );

    app.deliver(
        SHOP,
        "orders/paid",
        "o2",
        &order_json(1201, Some(ADA), "paid", &[(82, 1, "100.00")]),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 400));
    // The first order earned 100 under the old rule: its refund takes back 100, not 300.
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(907, 1200, &[(81, 1, "100.00")], "100.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 300));
}

#[tokio::test]
async fn a_typo_inside_earning_is_refused_with_422_naming_the_field() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    let put = |body: serde_json::Value| {
        app.client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    for (body, field) in [
        (
            json!({"earning": {"points_per_uint": 5}}),
            "points_per_uint",
        ),
        (
            json!({"earning": {"campaigns": [{"name": "x", "starts_at": "2026-11-27T00:00:00Z",
                "ends_at": "2026-11-30T00:00:00Z", "multiplier_pct": 200, "multiplier": 3}]}}),
            "multiplier",
        ),
        (
            json!({"expiry": {"mode": "after_earning", "months": 12, "remind_days": 3}}),
            "remind_days",
        ),
    ] {
        let resp = put(body.clone()).await.unwrap();
        assert_eq!(resp.status(), 422, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["code"], "validation_failed", "{body}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("`{field}`")), "{message}");
    }
    let not_json = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .body("{\"earning\":")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let program: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(program["earning"]["points_per_unit"], 1, "nothing saved");
}

#[tokio::test]
async fn program_values_past_their_caps_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let token = session_token(SHOP);
    for earning in [
        json!({"signup_points": i64::MAX}),
        json!({"birthday_points": i64::MAX}),
        json!({"signup_points": 10_000_001}),
        json!({"unit_size": u32::MAX}),
        json!({"points_per_unit": u32::MAX}),
        json!({"pending_days": u32::MAX}),
    ] {
        let resp = app
            .client
            .put(app.url("/api/admin/v1/program"))
            .bearer_auth(&token)
            .json(&json!({ "earning": earning }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 422, "{earning}");
    }
    let program: serde_json::Value = app
        .admin_get(&token, "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(program["earning"]["signup_points"], 0, "nothing saved");
}
