//! Which changes publish which topics, written with the change (a change refused writes no
//! message) and only for shops that subscribed.

use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{adjust, message_count, run_jobs, subscribe, verify, OTHER, SHOP};
use crate::helpers::{order_json, session_token, TestApp};

const ALL: [&str; 5] = [
    "member.created",
    "points.changed",
    "tier.changed",
    "reward.issued",
    "referral.completed",
];

/// The bodies the receiver got, in order.
async fn received(receiver: &MockServer, secret: &str) -> Vec<Value> {
    receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| {
            verify(secret, r);
            serde_json::from_slice(&r.body).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn a_new_customers_order_tells_of_the_member_and_their_points() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let other_id = app.add_shop(OTHER, "USD").await;
    let (_, secret) = subscribe(&app, SHOP, &receiver.uri(), &ALL).await;

    let order = order_json(
        9001,
        Some((555, "new@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1", &order).await,
        "accepted"
    );
    // The other shop subscribed to nothing: its changes write no message.
    let order = order_json(
        9002,
        Some((556, "x@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    assert_eq!(
        app.deliver(OTHER, "orders/paid", "o-2", &order).await,
        "accepted"
    );
    assert_eq!(message_count(&app, &other_id).await, 0);
    run_jobs(&app).await;

    // Sent concurrently: no order between them (receivers order by the envelope's timestamp).
    let mut bodies = received(&receiver, &secret).await;
    bodies.sort_by_key(|b| b["type"].as_str().unwrap().to_owned());
    let types: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        vec!["member.created", "points.changed"],
        "{bodies:?}"
    );
    let member = &bodies[0]["data"];
    assert_eq!(member["shop"], SHOP);
    assert_eq!(member["customer_id"], "555");
    assert_eq!(member["email"], "new@example.com");
    let points = &bodies[1]["data"];
    assert_eq!(points["customer_id"], "555");
    assert_eq!(points["delta"], 42);
    assert_eq!(points["status"], "pending");
    assert_eq!(points["pending_points"], 42);
    assert_eq!(points["points_balance"], 0);
    assert!(bodies[1]["timestamp"].as_str().unwrap().ends_with('Z'));

    // The same webhook again changes nothing, so it tells nothing.
    let order = order_json(
        9001,
        Some((555, "new@example.com")),
        "paid",
        &[(1, 1, "42.00")],
    );
    assert_eq!(
        app.deliver(SHOP, "orders/paid", "o-1", &order).await,
        "duplicate"
    );
    assert_eq!(message_count(&app, &shop_id).await, 2);

    // The return window passes: the points become spendable, and that is told too.
    app.confirm_after(&shop_id, 15).await;
    // Confirmed "15 days from now": the message is dated then, so bring it back to now.
    super::make_retries_due(&app).await;
    run_jobs(&app).await;
    let bodies = received(&receiver, &secret).await;
    let confirmed = &bodies[2];
    assert_eq!(confirmed["type"], "points.changed");
    assert_eq!(confirmed["data"]["kind"], "confirmation");
    assert_eq!(confirmed["data"]["points_balance"], 42);
    assert_eq!(confirmed["data"]["pending_points"], 0);
}

#[tokio::test]
async fn a_refused_change_tells_nothing_and_tier_changes_are_told() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7", "seven@example.com")
        .await;
    let (_, secret) = subscribe(
        &app,
        SHOP,
        &receiver.uri(),
        &["points.changed", "tier.changed"],
    )
    .await;

    // More than the balance: refused, rolled back, no message.
    assert_eq!(adjust(&app, SHOP, "7", -500).await, 422);
    assert_eq!(message_count(&app, &shop_id).await, 0);

    let tiers = json!({"tiers": {"basis": "points_earned", "window": "lifetime", "grace_days": 30,
        "levels": [{"id": "silver", "name": "Silver", "threshold": 100}]}});
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&tiers)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    assert_eq!(adjust(&app, SHOP, "7", 150).await, 201);
    run_jobs(&app).await;
    let bodies = received(&receiver, &secret).await;
    let tier = bodies
        .iter()
        .find(|b| b["type"] == "tier.changed")
        .unwrap_or_else(|| panic!("no tier.changed in {bodies:?}"));
    assert_eq!(tier["data"]["customer_id"], "7");
    assert_eq!(tier["data"]["from"], Value::Null);
    assert_eq!(tier["data"]["to"], "silver");
    assert!(bodies
        .iter()
        .any(|b| b["type"] == "points.changed" && b["data"]["delta"] == 150));
}

#[tokio::test]
async fn a_redacted_customers_messages_lose_their_bodies() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&receiver)
        .await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let (id, _) = subscribe(
        &app,
        SHOP,
        &receiver.uri(),
        &["member.created", "points.changed"],
    )
    .await;
    for (order, customer, email) in [
        (9101, 601, "gone@example.com"),
        (9102, 602, "kept@example.com"),
    ] {
        let body = order_json(order, Some((customer, email)), "paid", &[(1, 1, "10.00")]);
        assert_eq!(
            app.deliver(SHOP, "orders/paid", &format!("r-{order}"), &body)
                .await,
            "accepted"
        );
    }
    let mut redact: Value =
        serde_json::from_str(&crate::helpers::fixture("shopify/customers_redact.json")).unwrap();
    redact["shop_domain"] = json!(SHOP);
    redact["customer"]["id"] = json!(601);
    redact["customer"]["email"] = json!("gone@example.com");
    redact["orders_to_redact"] = json!([9101]);
    assert_eq!(
        app.deliver(SHOP, "customers/redact", "redact-1", &redact)
            .await,
        "accepted"
    );
    run_jobs(&app).await;

    let log = super::deliveries(&app, SHOP, &id).await;
    assert_eq!(log.len(), 4);
    let about = |d: &Value| d["payload"].to_string();
    let gone: Vec<&Value> = log.iter().filter(|d| d["payload"] == json!({})).collect();
    assert_eq!(gone.len(), 2, "{log:?}");
    assert!(
        gone.iter().all(|d| d["status"] == "failed"),
        "not sent after the redaction"
    );
    assert!(log.iter().all(|d| !about(d).contains("gone@example.com")));
    assert_eq!(
        log.iter()
            .filter(|d| about(d).contains("kept@example.com"))
            .count(),
        2
    );
    assert!(receiver
        .received_requests()
        .await
        .unwrap()
        .iter()
        .all(|r| !String::from_utf8_lossy(&r.body).contains("gone@example.com")));
    assert_eq!(message_count(&app, &shop_id).await, 4);
}

/// The CSV import writes members and ledger lines in batches, not through the one-row paths:
/// its members and points are told all the same, once, and a second import tells nothing.
#[tokio::test]
async fn an_import_tells_of_the_members_it_enrols_and_the_points_it_adds() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let (_, secret) = subscribe(&app, SHOP, &receiver.uri(), &ALL).await;
    let csv = "customer_id,email,points\n701,a@example.com,250\n,guest@example.com,40\n";
    let import = || async {
        let resp = app
            .client
            .post(app.url("/api/admin/v1/import/customers"))
            .bearer_auth(session_token(SHOP))
            .header("Content-Type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    };
    import().await;
    assert_eq!(message_count(&app, &shop_id).await, 4);
    import().await;
    assert_eq!(
        message_count(&app, &shop_id).await,
        4,
        "nothing new to tell"
    );
    run_jobs(&app).await;

    let bodies = received(&receiver, &secret).await;
    let of = |kind: &str| -> Vec<&Value> {
        bodies
            .iter()
            .filter(|b| b["type"] == kind)
            .map(|b| &b["data"])
            .collect()
    };
    let mut joined: Vec<&str> = of("member.created")
        .iter()
        .map(|d| d["email"].as_str().unwrap())
        .collect();
    joined.sort_unstable();
    assert_eq!(joined, ["a@example.com", "guest@example.com"]);
    let mut credited: Vec<(i64, i64, &str)> = of("points.changed")
        .iter()
        .map(|d| {
            (
                d["delta"].as_i64().unwrap(),
                d["points_balance"].as_i64().unwrap(),
                d["kind"].as_str().unwrap(),
            )
        })
        .collect();
    credited.sort_unstable();
    assert_eq!(credited, [(40, 40, "import"), (250, 250, "import")]);
}
