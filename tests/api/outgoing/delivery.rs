//! Delivery: retries with one `webhook-id` until the receiver takes the message, the 24-hour
//! give-up that disables the subscription and alerts the owner, and redelivery.

use chrono::DateTime;
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::{
    adjust, deliveries, make_retries_due, run_jobs, subscribe, verify, FlakyReceiver, SHOP,
};
use crate::helpers::{session_token, TestApp};

fn seconds_between(from: &Value, to: &Value) -> i64 {
    let at = |v: &Value| DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap();
    (at(to) - at(from)).num_seconds()
}

#[tokio::test]
async fn a_receiver_failing_three_times_gets_each_event_once_under_one_id() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    let flaky = FlakyReceiver {
        failures: 3,
        ..Default::default()
    };
    Mock::given(method("POST"))
        .respond_with(flaky.clone())
        .mount(&receiver)
        .await;
    app.add_shop_with_member(SHOP, "7", "seven@example.com")
        .await;
    let url = format!("{}/hooks/in", receiver.uri());
    let (id, secret) = subscribe(&app, SHOP, &url, &["points.changed"]).await;

    assert_eq!(adjust(&app, SHOP, "7", 120).await, 201);
    assert_eq!(adjust(&app, SHOP, "7", -20).await, 201);
    run_jobs(&app).await;
    // Both failed once; the first retry is due within 30 s of the first try.
    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log.len(), 2);
    for d in &log {
        assert_eq!(d["status"], "pending");
        let first = &d["attempts"][0];
        assert_eq!(first["status_code"], 500);
        assert!(first["error"].as_str().unwrap().contains("500"));
        let wait = seconds_between(&first["at"], &d["next_attempt_at"]);
        assert!((0..=30).contains(&wait), "first retry after {wait} s");
    }
    for _ in 0..3 {
        make_retries_due(&app).await;
        run_jobs(&app).await;
    }
    // Nothing more to do: running the jobs again sends nothing.
    make_retries_due(&app).await;
    run_jobs(&app).await;

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 8, "four tries of each of the two events");
    let mut by_id: std::collections::HashMap<String, Vec<&wiremock::Request>> = Default::default();
    for r in &requests {
        assert_eq!(r.url.path(), "/hooks/in");
        verify(&secret, r);
        let id = r.headers["webhook-id"].to_str().unwrap().to_owned();
        by_id.entry(id).or_default().push(r);
    }
    assert_eq!(
        by_id.len(),
        2,
        "one webhook-id per event, the same on every try"
    );
    let mut deltas = Vec::new();
    for tries in by_id.values() {
        assert_eq!(tries.len(), 4);
        assert!(
            tries.windows(2).all(|w| w[0].body == w[1].body),
            "same body every try"
        );
        let body: Value = serde_json::from_slice(&tries[0].body).unwrap();
        assert_eq!(body["type"], "points.changed");
        assert_eq!(body["data"]["shop"], SHOP);
        assert_eq!(body["data"]["customer_id"], "7");
        deltas.push(body["data"]["delta"].as_i64().unwrap());
    }
    deltas.sort_unstable();
    assert_eq!(deltas, vec![-20, 120]);

    let log = deliveries(&app, SHOP, &id).await;
    for d in &log {
        assert_eq!(d["status"], "delivered");
        assert!(by_id.contains_key(d["id"].as_str().unwrap()));
        let codes: Vec<i64> = d["attempts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["status_code"].as_i64().unwrap())
            .collect();
        assert_eq!(codes, vec![500, 500, 500, 204]);
        assert!(d["attempts"][3]["error"].is_null());
        assert!(d["attempts"][0]["duration_ms"].as_i64().unwrap() >= 0);
    }
}

#[tokio::test]
async fn a_day_of_failures_disables_the_subscription_and_alerts_the_owner() {
    let app = TestApp::spawn().await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&receiver)
        .await;
    let (shop_id, _) = app
        .add_shop_with_member(SHOP, "7", "seven@example.com")
        .await;
    let (id, secret) = subscribe(&app, SHOP, &receiver.uri(), &["points.changed"]).await;
    let token = session_token(SHOP);
    assert_eq!(adjust(&app, SHOP, "7", 10).await, 201);
    run_jobs(&app).await;
    make_retries_due(&app).await;
    run_jobs(&app).await;
    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log[0]["status"], "pending", "not given up within the day");

    // A day passes: the message and its tries move 25 hours into the past.
    let shop = shop_id.clone();
    app.with_db(move |c| {
        use boomerang::db::schema::{webhook_attempts, webhook_messages};
        use diesel::prelude::*;
        let day = chrono::Duration::hours(25);
        let messages: Vec<(String, chrono::NaiveDateTime)> = webhook_messages::table
            .filter(webhook_messages::shop_id.eq(&shop))
            .select((webhook_messages::id, webhook_messages::created_at))
            .load(c)
            .unwrap();
        for (message, created) in messages {
            diesel::update(webhook_messages::table.find(&message))
                .set(webhook_messages::created_at.eq(created - day))
                .execute(c)
                .unwrap();
        }
        let attempts: Vec<(String, chrono::NaiveDateTime)> = webhook_attempts::table
            .filter(webhook_attempts::shop_id.eq(&shop))
            .select((webhook_attempts::id, webhook_attempts::attempted_at))
            .load(c)
            .unwrap();
        for (attempt, at) in attempts {
            diesel::update(webhook_attempts::table.find(&attempt))
                .set(webhook_attempts::attempted_at.eq(at - day))
                .execute(c)
                .unwrap();
        }
    })
    .await;
    make_retries_due(&app).await;
    run_jobs(&app).await;

    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["status"], "failed");
    assert_eq!(log[0]["attempts"].as_array().unwrap().len(), 3);
    assert!(log[0]["next_attempt_at"].is_null());
    let listed: Value = app
        .admin_get(&token, "/api/admin/v1/webhook-subscriptions")
        .await
        .json()
        .await
        .unwrap();
    let sub = &listed["subscriptions"][0];
    assert_eq!(sub["enabled"], false);
    assert!(sub["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("24 hours"));
    let alerts: Value = app
        .admin_get(&token, "/api/admin/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    let alert = &alerts["disabled_webhook_subscriptions"][0];
    assert_eq!(alert["id"], id.as_str());
    assert!(alert["reason"].as_str().unwrap().contains("503"), "{alert}");

    // While disabled, new changes queue nothing for it and no job sends anything.
    assert_eq!(adjust(&app, SHOP, "7", 5).await, 201);
    make_retries_due(&app).await;
    run_jobs(&app).await;
    assert_eq!(deliveries(&app, SHOP, &id).await.len(), 1);
    assert_eq!(receiver.received_requests().await.unwrap().len(), 3);

    // The receiver is fixed. Redelivering by hand tries at once; the subscription stays off
    // unless the owner asks.
    receiver.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let delivery = log[0]["id"].as_str().unwrap().to_owned();
    let redone = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/webhook-subscriptions/{id}/deliveries/{delivery}/redeliver"),
            json!({}),
        )
        .await;
    assert_eq!(redone.status(), 200);
    let redone: Value = redone.json().await.unwrap();
    assert_eq!(redone["status"], "delivered");
    assert_eq!(redone["attempts"].as_array().unwrap().len(), 4);
    assert_eq!(redone["attempts"][3]["cause"], "redeliver");
    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].headers["webhook-id"].to_str().unwrap(),
        delivery
    );
    verify(&secret, &requests[0]);
    let listed: Value = app
        .admin_get(&token, "/api/admin/v1/webhook-subscriptions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["subscriptions"][0]["enabled"], false);

    // Asked to, redelivery turns it back on: new changes flow again.
    let again = app
        .admin_post(
            &token,
            &format!("/api/admin/v1/webhook-deliveries/{delivery}/redeliver"),
            json!({"enable": true}),
        )
        .await;
    assert_eq!(again.status(), 200);
    let listed: Value = app
        .admin_get(&token, "/api/admin/v1/webhook-subscriptions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["subscriptions"][0]["enabled"], true);
    assert!(listed["subscriptions"][0]["disabled_reason"].is_null());
    let alerts: Value = app
        .admin_get(&token, "/api/admin/v1/alerts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(alerts["disabled_webhook_subscriptions"], json!([]));
    assert_eq!(adjust(&app, SHOP, "7", 5).await, 201);
    run_jobs(&app).await;
    let log = deliveries(&app, SHOP, &id).await;
    assert_eq!(log.len(), 2);
    assert_eq!(log[0]["status"], "delivered");

    // A redelivery body that is not JSON is refused.
    let bad = app
        .client
        .post(app.url(&format!(
            "/api/admin/v1/webhook-deliveries/{delivery}/redeliver"
        )))
        .bearer_auth(&token)
        .body("enable please")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
