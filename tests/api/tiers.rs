//! VIP tiers through webhooks and the admin API (issue 11): upgrades at once when activity
//! counts, refunds that take progress back and start a grace, the review that ends it, the
//! multiplier snapshotted with the award, paid memberships, tier-only rewards, program edits
//! while live, and validation that changes nothing. Orders are back-dated past their return
//! window (the order's own date decides), and reviews are run for a later day through the
//! service, never by faking the clock.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use boomerang::db::models::Shop;
use boomerang::db::{now, write_transaction};

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{error_code, order_days_ago, refund_json, session_token, TestApp, SECRET};
use crate::rewards::run_jobs_due_by;

const SHOP: &str = "tiers.myshopify.com";
const ADA: (u64, &str) = (7001, "ada@example.com");
const BOB: (u64, &str) = (7002, "bob@example.com");

/// Spend-based tiers: Silver from 50.00, Gold from 200.00, lifetime, 30 days of grace.
fn spend_tiers() -> Value {
    json!({
        "basis": "amount_spent", "window": "lifetime", "grace_days": 30,
        "levels": [
            {"id": "silver", "name": "Silver", "names": {"ar": "فضي"}, "threshold": 5000,
             "perks": ["Free shipping over 50"]},
            {"id": "gold", "name": "Gold", "threshold": 20000, "earn_multiplier_pct": 200}
        ]
    })
}

async fn put_program(app: &TestApp, program: Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&program)
        .send()
        .await
        .unwrap()
}

async fn history(app: &TestApp, customer: u64) -> Vec<Value> {
    let resp = app
        .admin_get(
            &session_token(SHOP),
            &format!("/api/admin/v1/customers/{customer}/tier-history"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["events"]
        .as_array()
        .unwrap()
        .clone()
}

fn reasons(events: &[Value]) -> Vec<&str> {
    events
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect()
}

/// Runs the scheduled tier review as if it were `days` from now.
async fn review_in(app: &TestApp, shop_id: &str, days: i64) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        let shop = Shop::find(c, &shop_id).unwrap();
        boomerang::services::tiers::review_due(c, &shop, now() + Duration::days(days)).unwrap();
    })
    .await;
}

fn proxy_query(customer: &str) -> String {
    let q = format!(
        "shop={SHOP}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&timestamp={}",
        Utc::now().timestamp()
    );
    format!("{q}&signature={}", app_proxy::sign(&q, SECRET))
}

async fn widget_state(app: &TestApp, customer: &str) -> Value {
    let resp = app
        .get(&format!("/proxy/state?{}", proxy_query(customer)))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

async fn setup() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    assert_eq!(
        put_program(&app, json!({"tiers": spend_tiers()}))
            .await
            .status(),
        200
    );
    (app, shop_id)
}

#[tokio::test]
async fn a_settled_order_upgrades_at_once_and_a_refund_starts_a_grace_the_review_ends() {
    let (app, shop_id) = setup().await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o1",
        &order_days_ago(1, ADA, 30, "250.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["tier"], "gold", "{ada}");
    assert_eq!(ada["tier_name"], "Gold");
    assert_eq!(ada["tier_standing"], 25000);
    assert_eq!(ada["to_keep_tier"], 0);
    assert_eq!(ada["next_tier"], Value::Null);
    assert_eq!(
        ada["tier_review_at"],
        Value::Null,
        "lifetime: nothing lapses by itself"
    );

    // A refund of 200.00 takes the money back: 50.00 stands, below Gold's 200.00.
    app.deliver(
        SHOP,
        "refunds/create",
        "r1",
        &refund_json(11, 1, &[(10, 1, "200.00")], "200.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["tier"], "gold", "never down at once: {ada}");
    assert_eq!(ada["tier_held_by"], "grace");
    assert_eq!(ada["tier_standing"], 5000);
    assert_eq!(ada["to_keep_tier"], 15000, "spend 150.00 more to keep Gold");
    let review = (now().date() + Duration::days(31)).to_string();
    assert_eq!(ada["tier_review_at"], review.as_str());
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["qualified", "grace_started"]
    );

    review_in(&app, &shop_id, 30).await;
    assert_eq!(
        app.customer(SHOP, "7001").await["tier"],
        "gold",
        "the grace's last day"
    );
    review_in(&app, &shop_id, 31).await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["tier"], "silver", "{ada}");
    assert_eq!(ada["tier_held_by"], "qualified");
    let events = history(&app, 7001).await;
    assert_eq!(
        reasons(&events),
        ["qualified", "grace_started", "grace_ended"]
    );
    assert_eq!(
        (events[2]["from"].as_str(), events[2]["to"].as_str()),
        (Some("gold"), Some("silver"))
    );
    assert_eq!(events[2]["customer_id"], "7001");
}

#[tokio::test]
async fn a_cancelled_order_takes_its_progress_back() {
    let (app, _) = setup().await;
    let order = order_days_ago(2, ADA, 30, "60.00");
    app.deliver(SHOP, "orders/paid", "o2", &order).await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "silver");
    let mut cancelled = order.clone();
    cancelled["cancelled_at"] = json!(Utc::now().to_rfc3339());
    cancelled["updated_at"] = json!(Utc::now().to_rfc3339());
    app.deliver(SHOP, "orders/cancelled", "o2c", &cancelled)
        .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        (ada["tier"].as_str(), ada["tier_standing"].as_i64()),
        (Some("silver"), Some(0))
    );
    assert_eq!(ada["tier_held_by"], "grace");
}

#[tokio::test]
async fn an_order_inside_its_return_window_counts_only_once_it_confirms() {
    let (app, shop_id) = setup().await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o3",
        &order_days_ago(3, ADA, 2, "80.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        ada["tier"],
        Value::Null,
        "pending activity does not qualify: {ada}"
    );
    assert_eq!(ada["to_next_tier"], 5000);
    // The confirmation job's pass on the day the window ends (12 days on).
    let id = shop_id.clone();
    app.with_db(move |c| {
        write_transaction(c, |c| {
            let shop = Shop::find(c, &id).unwrap();
            boomerang::services::tiers::count_and_assess(c, &shop, now() + Duration::days(11))
        })
        .unwrap();
    })
    .await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], Value::Null);
    app.with_db(move |c| {
        write_transaction(c, |c| {
            let shop = Shop::find(c, &shop_id).unwrap();
            boomerang::services::tiers::count_and_assess(c, &shop, now() + Duration::days(12))
        })
        .unwrap();
    })
    .await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "silver");
}

#[tokio::test]
async fn the_tier_multiplier_is_snapshotted_and_a_refund_reverses_exactly_what_it_gave() {
    let (app, _) = setup().await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o4",
        &order_days_ago(4, ADA, 30, "250.00"),
    )
    .await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "gold");
    // Gold earns x2 from now on.
    app.deliver(
        SHOP,
        "orders/paid",
        "o5",
        &order_days_ago(5, ADA, 20, "100.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["lifetime_points"], 250 + 200, "{ada}");
    // The owner makes Gold x3; refunding the second order takes back the 200 it earned.
    let mut tiers = spend_tiers();
    tiers["levels"][1]["earn_multiplier_pct"] = json!(300);
    assert_eq!(
        put_program(&app, json!({"tiers": tiers})).await.status(),
        200
    );
    app.deliver(
        SHOP,
        "refunds/create",
        "r5",
        &refund_json(51, 5, &[(50, 1, "100.00")], "100.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["lifetime_points"], 250, "{ada}");
}

#[tokio::test]
async fn points_earned_tiers_count_owner_adjustments_and_confirmed_order_points() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let tiers = json!({"basis": "points_earned", "levels": [
        {"id": "silver", "name": "Silver", "threshold": 300},
        {"id": "gold", "name": "Gold", "threshold": 900}]});
    assert_eq!(
        put_program(&app, json!({"tiers": tiers})).await.status(),
        200
    );
    app.deliver(
        SHOP,
        "orders/paid",
        "o6",
        &order_days_ago(6, ADA, 30, "350.00"),
    )
    .await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "silver");
    let resp = app
        .admin_post(
            &session_token(SHOP),
            "/api/admin/v1/customers/7001/adjustments",
            json!({"points": 600, "reason": "VIP welcome"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let ada: Value = resp.json().await.unwrap();
    assert_eq!(
        ada["tier"], "gold",
        "the adjustment's answer shows the new tier: {ada}"
    );
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["qualified", "qualified"]
    );
}

#[tokio::test]
async fn a_paid_membership_grants_its_tier_until_its_line_is_refunded() {
    let (app, _) = setup().await;
    let program = json!({"tiers": spend_tiers(), "memberships": [
        {"id": "club", "product_id": "777", "tier": "gold", "days": 365}]});
    assert_eq!(put_program(&app, program).await.status(), 200);
    let mut order = order_days_ago(7, ADA, 30, "60.00");
    order["line_items"][0]["product_id"] = json!(777);
    app.deliver(SHOP, "orders/paid", "o7", &order).await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        (ada["tier"].as_str(), ada["tier_held_by"].as_str()),
        (Some("gold"), Some("membership")),
        "{ada}"
    );
    let ends = (now().date() - Duration::days(30) + Duration::days(365)).to_string();
    assert_eq!(
        ada["tier_review_at"],
        ends.as_str(),
        "the grant ends 365 days from the order's date"
    );
    app.deliver(
        SHOP,
        "refunds/create",
        "r7",
        &refund_json(71, 7, &[(70, 1, "60.00")], "60.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        ada["tier"],
        Value::Null,
        "back to what they qualify for: {ada}"
    );
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["membership", "membership"]
    );
}

#[tokio::test]
async fn editing_tiers_while_live_reevaluates_every_member_in_the_background() {
    let (app, _) = setup().await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o8",
        &order_days_ago(8, ADA, 30, "120.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o9",
        &order_days_ago(9, BOB, 30, "40.00"),
    )
    .await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "silver");
    assert_eq!(app.customer(SHOP, "7002").await["tier"], Value::Null);
    // Cheaper Gold, dearer Silver: Ada goes up at once, Bob up; then dearer everything.
    let mut easier = spend_tiers();
    easier["levels"][0]["threshold"] = json!(3000);
    easier["levels"][1]["threshold"] = json!(10000);
    assert_eq!(
        put_program(&app, json!({"tiers": easier})).await.status(),
        200
    );
    run_jobs_due_by(&app, Duration::zero()).await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "gold");
    assert_eq!(app.customer(SHOP, "7002").await["tier"], "silver");
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["qualified", "program_changed"]
    );
    let mut harder = spend_tiers();
    harder["levels"][0]["threshold"] = json!(50000);
    harder["levels"][1]["threshold"] = json!(90000);
    assert_eq!(
        put_program(&app, json!({"tiers": harder})).await.status(),
        200
    );
    run_jobs_due_by(&app, Duration::zero()).await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        (ada["tier"].as_str(), ada["tier_held_by"].as_str()),
        (Some("gold"), Some("grace")),
        "no lost tier: {ada}"
    );
    // Tiers removed altogether: nobody holds one.
    assert_eq!(put_program(&app, json!({})).await.status(), 200);
    run_jobs_due_by(&app, Duration::zero()).await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], Value::Null);
    assert_eq!(app.customer(SHOP, "7002").await["tier"], Value::Null);
}

#[tokio::test]
async fn a_program_edit_while_webhooks_flow_leaves_every_member_where_their_activity_puts_them() {
    let (app, _) = setup().await;
    let customers: Vec<(u64, String)> = (0..30)
        .map(|i| (8000 + i, format!("c{i}@example.com")))
        .collect();
    let mut easier = spend_tiers();
    easier["levels"][1]["threshold"] = json!(9000);
    let deliveries = async {
        for (i, (id, email)) in customers.iter().enumerate() {
            let order = order_days_ago(
                100 + i as u64,
                (*id, email.as_str()),
                30,
                &format!("{}.00", 30 + i * 5),
            );
            app.deliver(SHOP, "orders/paid", &format!("w{i}"), &order)
                .await;
        }
    };
    let edit = async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(
            put_program(&app, json!({"tiers": easier.clone()}))
                .await
                .status(),
            200
        );
        run_jobs_due_by(&app, Duration::zero()).await;
    };
    tokio::join!(deliveries, edit);
    run_jobs_due_by(&app, Duration::zero()).await;
    for (i, (id, _)) in customers.iter().enumerate() {
        let spent = (30 + i as i64 * 5) * 100;
        let expected = if spent >= 9000 {
            "gold"
        } else if spent >= 5000 {
            "silver"
        } else {
            ""
        };
        let c = app.customer(SHOP, &id.to_string()).await;
        assert_eq!(c["tier"].as_str().unwrap_or(""), expected, "{c}");
    }
}

#[tokio::test]
async fn bad_tiers_are_refused_whole_and_change_nothing() {
    let (app, _) = setup().await;
    let before: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    let level = |id: &str, threshold: i64| json!({"id": id, "name": id, "threshold": threshold});
    for (program, says) in [
        (
            json!({"tiers": {"levels": [level("a", 300), level("b", 100)]}}),
            "sorted",
        ),
        (
            json!({"tiers": {"levels": [level("a", 300), level("b", 300)]}}),
            "sorted",
        ),
        (
            json!({"tiers": {"levels": [level("a", 1), level("a", 2)]}}),
            "twice",
        ),
        (
            json!({"tiers": {"levels": [{"id": "a", "name": "A", "threshold": 1, "earn_multiplier_pct": 1001}]}}),
            "earn_multiplier_pct",
        ),
        (
            json!({"tiers": {"levels": [level("a", 1)], "window": "fortnight"}}),
            "fortnight",
        ),
        (
            json!({"tiers": {"levels": [level("a", 1)], "grace": 3}}),
            "grace",
        ),
        (
            json!({"tiers": {"levels": [{"id": "a", "name": "A", "threshold": 1, "entry_reward_id": "nope"}]}}),
            "nope",
        ),
        (
            json!({"tiers": {"levels": [level("a", 1)]}, "memberships": [{"id": "m", "product_id": "1", "tier": "z", "days": 30}]}),
            "\"z\"",
        ),
        (
            json!({"rewards": [{"id": "r", "title": "R", "kind": "percent", "percent": 5, "points_cost": 9, "tier": "gold"}]}),
            "gold",
        ),
    ] {
        let resp = put_program(&app, program.clone()).await;
        assert_eq!(resp.status(), 422, "{program}");
        let body: Value = resp.json().await.unwrap();
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{program}: {message}");
    }
    let after: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after);
}

#[tokio::test]
async fn tier_only_rewards_are_for_that_tier_and_above() {
    let (app, _) = setup().await;
    let rewards = json!([
        {"id": "gold-gift", "title": "Gold gift", "kind": "percent", "percent": 20, "points_cost": 10, "tier": "silver"},
    ]);
    assert_eq!(
        put_program(&app, json!({"tiers": spend_tiers(), "rewards": rewards}))
            .await
            .status(),
        200
    );
    app.deliver(
        SHOP,
        "orders/paid",
        "o10",
        &order_days_ago(10, ADA, 30, "250.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o11",
        &order_days_ago(11, BOB, 30, "20.00"),
    )
    .await;
    for customer in ["7001", "7002"] {
        let resp = app
            .admin_post(
                &session_token(SHOP),
                &format!("/api/admin/v1/customers/{customer}/adjustments"),
                json!({"points": 100, "reason": "spendable now"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
    for (customer, tier, affordable) in [("7001", "gold", true), ("7002", "", false)] {
        let state = widget_state(&app, customer).await;
        assert_eq!(state["member"]["tier"].as_str().unwrap_or(""), tier);
        let reward = &state["rewards"][0];
        assert_eq!(reward["tier_name"], "Silver");
        assert_eq!(reward["affordable"], affordable, "{customer}: {state}");
    }
    let refused = app
        .client
        .post(app.url(&format!("/proxy/redeem?{}", proxy_query("7002"))))
        .json(&json!({"reward_id": "gold-gift"}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403, "refused before any platform call");
    assert_eq!(error_code(refused).await, "forbidden");
}

#[tokio::test]
async fn another_shops_token_never_reads_a_members_tier_history() {
    let (app, _) = setup().await;
    app.add_shop("other.myshopify.com", "USD").await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o12",
        &order_days_ago(12, ADA, 30, "250.00"),
    )
    .await;
    let resp = app
        .admin_get(
            &session_token("other.myshopify.com"),
            "/api/admin/v1/customers/7001/tier-history",
        )
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn a_rolling_window_slides_into_grace_and_down_without_any_new_event() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let mut tiers = spend_tiers();
    tiers["window"] = json!("rolling_12_months");
    tiers["grace_days"] = json!(10);
    assert_eq!(
        put_program(&app, json!({"tiers": tiers})).await.status(),
        200
    );
    // 300 days ago: counts for 65 more days (today and the 64 after it).
    app.deliver(
        SHOP,
        "orders/paid",
        "o13",
        &order_days_ago(13, ADA, 300, "250.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["tier"], "gold");
    let ages_out = now().date() + Duration::days(65);
    assert_eq!(
        ada["tier_review_at"],
        ages_out.to_string().as_str(),
        "{ada}"
    );
    review_in(&app, &shop_id, 64).await;
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["qualified"],
        "still inside the window"
    );
    review_in(&app, &shop_id, 65).await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        (ada["tier"].as_str(), ada["tier_held_by"].as_str()),
        (Some("gold"), Some("grace")),
        "{ada}"
    );
    // Last qualified the day before it aged out; kept 10 days more.
    let grace_ends = ages_out + Duration::days(10);
    assert_eq!(ada["tier_review_at"], grace_ends.to_string().as_str());
    review_in(&app, &shop_id, 74).await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "gold");
    review_in(&app, &shop_id, 75).await;
    // Nothing counts any more: one level down per review, not straight to nothing.
    assert_eq!(app.customer(SHOP, "7001").await["tier"], "silver");
    review_in(&app, &shop_id, 76).await;
    assert_eq!(app.customer(SHOP, "7001").await["tier"], Value::Null);
    assert_eq!(
        reasons(&history(&app, 7001).await),
        ["qualified", "grace_started", "grace_ended", "grace_ended"]
    );
}

#[tokio::test]
async fn shops_with_tiers_get_the_hourly_review_and_others_do_not() {
    let (app, shop_id) = setup().await;
    let plain = app.add_shop("plain.myshopify.com", "USD").await;
    app.with_db(move |c| {
        use boomerang::db::schema::jobs;
        use diesel::prelude::*;
        boomerang::jobs::enqueue_periodic(c, now()).unwrap();
        let mut kinds = |shop: &str| -> Vec<String> {
            jobs::table
                .filter(jobs::shop_id.eq(shop))
                .select(jobs::kind)
                .load(c)
                .unwrap()
        };
        assert!(kinds(&shop_id).contains(&"tier_review".to_owned()));
        assert!(!kinds(&plain).contains(&"tier_review".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn a_guests_progress_follows_them_into_their_account() {
    let (app, _) = setup().await;
    // Ordered as a guest first (no account): 60.00 counts for the guest's e-mail.
    app.deliver(
        SHOP,
        "orders/paid",
        "o14",
        &order_days_ago(14, (0, ADA.1), 40, "60.00"),
    )
    .await;
    // Then with an account, placed with the same e-mail (proof it is theirs): 150.00 more.
    app.deliver(
        SHOP,
        "orders/paid",
        "o15",
        &order_days_ago(15, ADA, 30, "150.00"),
    )
    .await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(
        ada["tier_standing"], 21000,
        "both orders count for the account: {ada}"
    );
    assert_eq!(ada["tier"], "gold");
}
