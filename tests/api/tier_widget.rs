//! Tiers as the storefront widget gets them (issue 11): the member's tier, progress to the next
//! in the basis's unit, what keeps it through a grace, its perks, tier-only rewards, in English
//! and Arabic; and the demo shop, seeded with three tiers, where a demo order upgrades Alan.

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use boomerang::platform::shopify::app_proxy;

use crate::helpers::{order_json, refund_json, session_token, TestApp, SECRET};
use crate::ops::seed_demo;

const SHOP: &str = "tier-widget.myshopify.com";
const OTHER: &str = "tier-widget-other.myshopify.com";
const DEMO: &str = boomerang::services::demo::DEMO_SHOP_DOMAIN;

/// Points-earned tiers: Silver from 100, Gold from 500; a free-shipping reward for Gold and up.
fn points_program() -> Value {
    json!({
        "tiers": {
            "basis": "points_earned", "window": "lifetime", "grace_days": 30,
            "levels": [
                {"id": "silver", "name": "Silver", "names": {"ar": "فضي"}, "threshold": 100,
                 "perks": ["Free shipping over 50"]},
                {"id": "gold", "name": "Gold", "names": {"ar": "ذهبي"}, "threshold": 500,
                 "earn_multiplier_pct": 150, "perks": ["Free shipping", "Early access"]}
            ]
        },
        "rewards": [
            {"id": "5-off", "title": "5 off", "kind": "fixed_amount", "amount_minor": 500, "points_cost": 50},
            {"id": "gold-ship", "title": "Free shipping", "titles": {"ar": "شحن مجاني"},
             "kind": "free_shipping", "points_cost": 60, "tier": "gold"}
        ]
    })
}

async fn put_program(app: &TestApp, shop: &str, program: Value) {
    let resp = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(shop))
        .json(&program)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

/// A paid order of `units` at `price` placed 30 days ago, past its return window.
fn settled_order(id: u64, customer: u64, units: i64, price: &str) -> Value {
    let email = format!("c{customer}@example.com");
    let mut order = order_json(
        id,
        Some((customer, &email)),
        "paid",
        &[(id * 10, units, price)],
    );
    let at = (Utc::now() - Duration::days(30)).to_rfc3339();
    order["created_at"] = json!(at);
    order["updated_at"] = json!(at);
    order
}

/// The widget's state for `customer` of `shop`, through the signed app proxy.
async fn state(app: &TestApp, shop: &str, customer: &str, locale: &str) -> Value {
    let q = format!(
        "locale={locale}&logged_in_customer_id={customer}&path_prefix=%2Fapps%2Frewards&shop={shop}&timestamp={}",
        Utc::now().timestamp()
    );
    let signature = app_proxy::sign(&q, SECRET);
    let resp = app
        .get(&format!("/proxy/state?{q}&signature={signature}"))
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn reward<'a>(state: &'a Value, id: &str) -> &'a Value {
    state["rewards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

async fn tier_history(app: &TestApp, shop: &str, customer: &str) -> Vec<(Value, Value, String)> {
    let resp = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/customers/{customer}/tier-history"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].clone(),
                e["to"].clone(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_widget_shows_each_members_tier_progress_perks_and_tier_only_rewards() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    put_program(&app, SHOP, points_program()).await;
    // Silver: 150 points. Gold: 600. Grace: 150, of which a refund of two units takes 100 back.
    app.deliver(
        SHOP,
        "orders/paid",
        "o1",
        &settled_order(1, 8001, 1, "150.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o2",
        &settled_order(2, 8002, 1, "600.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "orders/paid",
        "o3",
        &settled_order(3, 8003, 3, "50.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "refunds/create",
        "r3",
        &refund_json(31, 3, &[(30, 2, "100.00")], "100.00"),
    )
    .await;
    app.confirm_after(&shop_id, 0).await;

    // A customer with no member row yet: no tier, the first level ahead.
    let newcomer = state(&app, SHOP, "8999", "en").await;
    let m = &newcomer["member"];
    assert_eq!(m["tier"], Value::Null, "{m}");
    assert_eq!(
        (m["next_tier"].as_str(), m["next_tier_name"].as_str()),
        (Some("silver"), Some("Silver"))
    );
    assert_eq!(
        (
            m["to_next_tier"].as_i64(),
            m["points_to_next_tier"].as_i64()
        ),
        (Some(100), Some(100))
    );
    assert_eq!(
        (
            m["tier_standing"].as_i64(),
            m["next_tier_threshold"].as_i64()
        ),
        (Some(0), Some(100))
    );
    assert_eq!(m["tier_perks"], json!([]));

    // Silver, on the way to Gold; Gold's reward is labelled and out of reach despite the points.
    let silver = state(&app, SHOP, "8001", "en").await;
    let m = &silver["member"];
    assert_eq!(m["points_balance"], 150, "{m}");
    assert_eq!(
        (m["tier"].as_str(), m["tier_name"].as_str()),
        (Some("silver"), Some("Silver"))
    );
    assert_eq!(m["tier_held_by"], "qualified");
    assert_eq!(m["tier_basis"], "points_earned");
    assert_eq!(
        (m["next_tier"].as_str(), m["next_tier_name"].as_str()),
        (Some("gold"), Some("Gold"))
    );
    assert_eq!(
        (
            m["tier_standing"].as_i64(),
            m["next_tier_threshold"].as_i64()
        ),
        (Some(150), Some(500))
    );
    assert_eq!(m["to_next_tier"], 350);
    assert_eq!(m["to_keep_tier"], 0);
    assert_eq!(m["tier_perks"], json!(["Free shipping over 50"]));
    let gold_only = reward(&silver, "gold-ship");
    assert_eq!(
        (gold_only["tier"].as_str(), gold_only["tier_name"].as_str()),
        (Some("gold"), Some("Gold"))
    );
    assert_eq!(gold_only["affordable"], false, "below Gold: {gold_only}");
    assert_eq!(reward(&silver, "5-off")["affordable"], true);
    assert!(reward(&silver, "5-off").get("tier_name").is_none());
    assert_eq!(silver["texts"]["tier_only"], "{tier} and above");
    assert_eq!(silver["texts"]["tier_progress"], "Progress to {tier}");
    assert_eq!(silver["currency"], "USD");
    assert_eq!(silver["currency_exponent"], 2);

    // The top tier: nothing ahead, the Gold reward within reach.
    let gold = state(&app, SHOP, "8002", "en").await;
    let m = &gold["member"];
    assert_eq!(m["tier"], "gold", "{m}");
    assert_eq!(
        (m["next_tier"].clone(), m["next_tier_threshold"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(m["to_next_tier"], 0);
    assert_eq!(m["tier_perks"], json!(["Free shipping", "Early access"]));
    assert_eq!(reward(&gold, "gold-ship")["affordable"], true);

    // Grace: the refund took Silver's qualification away; 50 more points keep it.
    let grace = state(&app, SHOP, "8003", "en").await;
    let m = &grace["member"];
    assert_eq!(
        (m["tier"].as_str(), m["tier_held_by"].as_str()),
        (Some("silver"), Some("grace")),
        "{m}"
    );
    assert_eq!(m["tier_standing"], 50);
    assert_eq!(m["to_keep_tier"], 50);
    let review = (boomerang::db::now().date() + Duration::days(31)).to_string();
    assert_eq!(m["tier_review_at"], review.as_str());

    // Arabic: the tiers' Arabic names and the Arabic texts.
    let arabic = state(&app, SHOP, "8001", "ar").await;
    let m = &arabic["member"];
    assert_eq!(
        (m["tier_name"].as_str(), m["next_tier_name"].as_str()),
        (Some("فضي"), Some("ذهبي"))
    );
    assert_eq!(reward(&arabic, "gold-ship")["tier_name"], "ذهبي");
    assert_eq!(arabic["texts"]["tier_only"], "{tier} وما فوق");
    assert_eq!(arabic["dir"], "rtl");
}

#[tokio::test]
async fn spend_based_tiers_count_in_minor_units_and_another_shops_tier_never_shows() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    app.add_shop(OTHER, "USD").await;
    put_program(
        &app,
        SHOP,
        json!({"tiers": {"basis": "amount_spent", "levels": [
            {"id": "silver", "name": "Silver", "threshold": 5000}
        ]}}),
    )
    .await;
    put_program(&app, OTHER, points_program()).await;
    // The same customer id in both shops; only the other shop's order reaches a tier.
    app.deliver(
        SHOP,
        "orders/paid",
        "s1",
        &settled_order(1, 8001, 1, "20.00"),
    )
    .await;
    app.deliver(
        OTHER,
        "orders/paid",
        "x1",
        &settled_order(1, 8001, 1, "900.00"),
    )
    .await;

    let here = state(&app, SHOP, "8001", "en").await;
    let m = &here["member"];
    assert_eq!(m["tier"], Value::Null, "{m}");
    assert_eq!(m["tier_basis"], "amount_spent");
    assert_eq!(
        (m["tier_standing"].as_i64(), m["to_next_tier"].as_i64()),
        (Some(2000), Some(3000)),
        "minor units: 20.00 spent, 30.00 to go"
    );
    assert_eq!(here["currency_exponent"], 2);
    assert_eq!(
        here["texts"]["next_tier_amount"],
        "Spend {amount} more to reach {tier}"
    );
    assert_eq!(
        state(&app, OTHER, "8001", "en").await["member"]["tier"],
        "gold"
    );
}

#[tokio::test]
async fn the_demo_shop_starts_with_three_tiers_and_its_customers_in_them() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let program: Value = app
        .admin_get(&session_token(DEMO), "/api/admin/v1/program")
        .await
        .json()
        .await
        .unwrap();
    let levels: Vec<(&str, i64)> = program["tiers"]["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["id"].as_str().unwrap(), l["threshold"].as_i64().unwrap()))
        .collect();
    assert_eq!(levels, [("bronze", 0), ("silver", 300), ("gold", 900)]);
    assert_eq!(program["tiers"]["basis"], "points_earned");
    assert_eq!(program["earning"]["pending_days"], 0);
    for (customer, tier) in [("7001", "gold"), ("7002", "silver"), ("7003", "bronze")] {
        assert_eq!(
            app.customer(DEMO, customer).await["tier"],
            tier,
            "{customer}"
        );
        assert_eq!(
            tier_history(&app, DEMO, customer).await,
            [(Value::Null, json!(tier), "qualified".to_owned())],
            "{customer}: reached through the real evaluation"
        );
    }
    // Seeding again (every start of the demo) changes nothing.
    seed_demo(&app).await;
    assert_eq!(tier_history(&app, DEMO, "7001").await.len(), 1);
    let admin = app.get("/demo/admin").await.text().await.unwrap();
    assert!(admin.contains("Tier changes"), "{admin}");
}

#[tokio::test]
async fn a_demo_order_takes_alan_to_silver_in_the_widget_and_the_tier_history() {
    let app = TestApp::spawn().await;
    seed_demo(&app).await;
    let page = app.get("/demo?as=7003").await.text().await.unwrap();
    assert!(
        page.contains(r#"id="demo-upgrade" data-amount="300""#)
            && page.contains("Place a 300 USD order: reaches Silver"),
        "Alan's page offers the order that reaches Silver"
    );
    let arabic = app.get("/demo?as=7003&lang=ar").await.text().await.unwrap();
    assert!(
        arabic.contains("reaches الفضي"),
        "the tier's name in the page's language"
    );
    let top = app.get("/demo?as=7001").await.text().await.unwrap();
    assert!(!top.contains("demo-upgrade"), "Ada is at the top already");

    let signed: Value = app
        .client
        .post(app.url("/demo/orders"))
        .json(&json!({"customer_id": "7003", "amount": 300}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Delivered as the page does: the app's signature over the exact body.
    let resp = app
        .post_shopify_webhook(
            "orders/paid",
            DEMO,
            signed["webhook_id"].as_str().unwrap(),
            signed["body"].as_str().unwrap(),
        )
        .await;
    assert_eq!(resp.status(), 200);

    let alan = app.customer(DEMO, "7003").await;
    assert_eq!(alan["tier"], "silver", "upgraded at once: {alan}");
    assert_eq!(
        alan["pending_points"], 300,
        "Bronze earns 1 point per dollar"
    );
    assert_eq!(
        tier_history(&app, DEMO, "7003").await,
        [
            (Value::Null, json!("bronze"), "qualified".to_owned()),
            (json!("bronze"), json!("silver"), "qualified".to_owned()),
        ]
    );
    let after = app.get("/demo?as=7003").await.text().await.unwrap();
    assert!(after.contains("reaches Gold"), "next, Gold");
    let admin = app.get("/demo/admin").await.text().await.unwrap();
    assert!(admin.contains("<td>bronze</td><td>silver</td>"), "{admin}");
}
