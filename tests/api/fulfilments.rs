//! Donation and custom rewards: redeeming spends the points and opens a fulfilment (no code, no
//! platform call, on any platform); the owner lists, completes or cancels it (points back once);
//! the donations report sums per charity. Shops never see each other's fulfilments.

use serde_json::{json, Value};

use boomerang::db::schema::fulfilments;
use boomerang::db::types::Platform;
use diesel::prelude::*;

use crate::helpers::{error_code, session_token, TestApp};
use crate::rewards::{balance, proxy_query, redeem_as, SHOP};

/// The catalog of these tests: two donations and a custom reward.
fn catalog() -> Value {
    json!({"rewards": [
        {"id": "give-5", "title": "Give 5 to the Red Crescent", "titles": {"ar": "تبرّع بـ 5 للهلال الأحمر"},
         "kind": "donation", "charity": "Red Crescent", "amount_minor": 500, "points_cost": 300},
        {"id": "give-10", "title": "Feed a family", "kind": "donation", "charity": "Food Bank",
         "amount_minor": 1000, "points_cost": 500},
        {"id": "poster", "title": "A signed poster", "kind": "custom",
         "description": "A poster signed by the founders, posted to you", "points_cost": 700},
        {"id": "5-off", "title": "5 off", "kind": "fixed_amount", "amount_minor": 500, "points_cost": 500}
    ]})
}

/// A Shopify shop `domain` with no store API access (no token), the catalog above, and
/// customer `customer` holding `points`.
async fn add_shop(app: &TestApp, domain: &str, customer: &str, points: i64) {
    app.add_shop_with_member(domain, customer, &format!("{customer}@example.com"))
        .await;
    let token = session_token(domain);
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&token)
        .json(&catalog())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200, "{}", put.text().await.unwrap());
    if points > 0 {
        let resp = app
            .admin_post(
                &token,
                &format!("/api/admin/v1/customers/{customer}/adjustments"),
                json!({"points": points, "reason": "test"}),
            )
            .await;
        assert_eq!(resp.status(), 201);
    }
}

/// The app and the `SHOP` with customer 7001 holding `points`.
pub(crate) async fn setup(points: i64) -> TestApp {
    let app = TestApp::spawn().await;
    add_shop(&app, SHOP, "7001", points).await;
    app
}

async fn list(app: &TestApp, shop: &str, query: &str) -> Vec<Value> {
    let resp = app
        .admin_get(
            &session_token(shop),
            &format!("/api/admin/v1/fulfilments{query}"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["fulfilments"].as_array().unwrap().clone()
}

pub(crate) async fn act(app: &TestApp, shop: &str, id: &str, action: &str) -> reqwest::Response {
    app.admin_post(
        &session_token(shop),
        &format!("/api/admin/v1/fulfilments/{id}/{action}"),
        json!({}),
    )
    .await
}

/// The kinds of the customer's ledger lines, oldest first.
async fn ledger_kinds(app: &TestApp) -> Vec<String> {
    let ledger: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001/ledger")
        .await
        .json()
        .await
        .unwrap();
    let mut kinds: Vec<String> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.reverse();
    kinds
}

pub(crate) async fn redeem(app: &TestApp, reward: &str) -> Value {
    let resp = redeem_as(app, "7001", json!({"reward_id": reward})).await;
    assert_eq!(resp.status(), 200, "{reward}");
    resp.json().await.unwrap()
}

#[tokio::test]
async fn donation_and_custom_rewards_open_fulfilments_without_a_code_or_store_access() {
    let app = setup(2000).await;
    let donation = redeem(&app, "give-5").await;
    assert_eq!(donation["code"], Value::Null);
    assert_eq!(donation["expires_at"], Value::Null);
    assert_eq!(donation["status"], "open");
    assert_eq!(donation["kind"], "donation");
    assert_eq!(donation["points"], 300);
    let custom = redeem(&app, "poster").await;
    assert_eq!(custom["kind"], "custom");
    assert_eq!(balance(&app).await, 1000, "debited once each");
    assert_eq!(ledger_kinds(&app).await, ["adjustment", "redeem", "redeem"]);

    let open = list(&app, SHOP, "?status=open").await;
    assert_eq!(open.len(), 2);
    let (newest, oldest) = (&open[0], &open[1]);
    assert_eq!(newest["id"], custom["fulfilment_id"], "newest first");
    assert_eq!(newest["customer_id"], "7001");
    assert_eq!(newest["reward_title"], "A signed poster");
    assert_eq!(
        newest["description"],
        "A poster signed by the founders, posted to you"
    );
    assert_eq!(newest["points"], 700);
    assert!(newest.get("charity").is_none());
    assert_eq!(oldest["id"], donation["fulfilment_id"]);
    assert_eq!(oldest["kind"], "donation");
    assert_eq!(oldest["charity"], "Red Crescent");
    assert_eq!(oldest["amount_minor"], 500);
    assert_eq!(oldest["status"], "open");
    assert!(chrono::DateTime::parse_from_rfc3339(oldest["created_at"].as_str().unwrap()).is_ok());
    assert!(list(&app, SHOP, "?status=done").await.is_empty());
    assert_eq!(
        list(&app, SHOP, "").await.len(),
        2,
        "no status: all of them"
    );
    let bad = app
        .admin_get(
            &session_token(SHOP),
            "/api/admin/v1/fulfilments?status=lost",
        )
        .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(error_code(bad).await, "bad_request");

    // A discount reward of the same shop still needs store access, and gives the points back.
    let code = redeem_as(&app, "7001", json!({"reward_id": "5-off"})).await;
    assert_eq!(code.status(), 503);
    assert_eq!(balance(&app).await, 1000);
}

#[tokio::test]
async fn the_storefront_shows_the_donation_and_the_confirmation_in_the_shoppers_language() {
    let app = setup(0).await;
    for (locale, thanks) in [
        (
            "en",
            "Thank you — your donation of 5.00 USD to Red Crescent is on its way",
        ),
        (
            "ar",
            "شكرًا لك — تبرّعك بمبلغ 5.00 USD إلى Red Crescent في طريقه",
        ),
    ] {
        let state: Value = app
            .get(&format!("/widget/v1/state?shop={SHOP}&locale={locale}"))
            .await
            .json()
            .await
            .unwrap();
        let rewards = state["rewards"].as_array().unwrap();
        let give = rewards.iter().find(|r| r["id"] == "give-5").unwrap();
        assert_eq!(give["kind"], "donation");
        assert_eq!(give["confirmation"], thanks, "{locale}");
        let poster = rewards.iter().find(|r| r["id"] == "poster").unwrap();
        assert_eq!(
            poster["description"],
            "A poster signed by the founders, posted to you"
        );
        let custom_thanks = if locale == "ar" {
            "تم الاستبدال — سيتواصل معك المتجر"
        } else {
            "Redeemed — the shop will be in touch"
        };
        assert_eq!(poster["confirmation"], custom_thanks);
        let code = rewards.iter().find(|r| r["id"] == "5-off").unwrap();
        assert!(code.get("confirmation").is_none());
    }
    let script = app.get("/widget.js").await.text().await.unwrap();
    assert!(script.contains("fulfilment_id") && script.contains("confirmation"));
}

#[tokio::test]
async fn too_few_points_are_refused_and_nothing_is_recorded() {
    let app = setup(400).await;
    let poor = redeem_as(&app, "7001", json!({"reward_id": "poster"})).await;
    assert_eq!(poor.status(), 422);
    assert_eq!(error_code(poor).await, "insufficient_points");
    let unknown = redeem_as(&app, "7001", json!({"reward_id": "give-50"})).await;
    assert_eq!(unknown.status(), 404);
    let stranger = redeem_as(&app, "9999", json!({"reward_id": "give-5"})).await;
    assert_eq!(stranger.status(), 403, "not a member");
    assert_eq!(balance(&app).await, 400);
    assert_eq!(ledger_kinds(&app).await, ["adjustment"]);
    assert!(list(&app, SHOP, "").await.is_empty());
    let rows: i64 = app
        .with_db(|c| fulfilments::table.count().get_result(c).unwrap())
        .await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn the_owner_completes_or_cancels_a_fulfilment_once() {
    let app = setup(1500).await;
    let done_id = redeem(&app, "give-5").await["fulfilment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let cancel_id = redeem(&app, "poster").await["fulfilment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(balance(&app).await, 500);

    let done = act(&app, SHOP, &done_id, "done").await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["status"], "done");
    assert_eq!(done["done_by"], "1", "the session token's sub");
    assert_eq!(done["customer_id"], "7001");
    let done_at = done["done_at"].as_str().unwrap().to_owned();
    let again: Value = act(&app, SHOP, &done_id, "done")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["done_at"], done_at.as_str(), "idempotent");
    let late = act(&app, SHOP, &done_id, "cancel").await;
    assert_eq!(late.status(), 409, "done is done");
    assert_eq!(error_code(late).await, "conflict");
    assert_eq!(balance(&app).await, 500);

    let cancelled = act(&app, SHOP, &cancel_id, "cancel").await;
    assert_eq!(cancelled.status(), 200);
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["done_at"], Value::Null);
    assert_eq!(balance(&app).await, 1200, "the 700 points came back");
    let twice = act(&app, SHOP, &cancel_id, "cancel").await;
    assert_eq!(twice.status(), 200);
    assert_eq!(balance(&app).await, 1200, "and only once");
    assert_eq!(
        ledger_kinds(&app).await,
        ["adjustment", "redeem", "redeem", "redeem_refund"]
    );
    let refused = act(&app, SHOP, &cancel_id, "done").await;
    assert_eq!(refused.status(), 409);

    let missing = act(&app, SHOP, "no-such-id", "done").await;
    assert_eq!(missing.status(), 404);
    assert_eq!(error_code(missing).await, "not_found");
    let statuses: Vec<Value> = list(&app, SHOP, "")
        .await
        .iter()
        .map(|f| f["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("cancelled"), json!("done")]);
}

#[tokio::test]
async fn another_shop_cannot_see_or_settle_a_fulfilment() {
    let app = setup(1000).await;
    add_shop(&app, "other.myshopify.com", "8001", 1000).await;
    let id = redeem(&app, "give-5").await["fulfilment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = "other.myshopify.com";
    assert!(list(&app, other, "").await.is_empty());
    for action in ["done", "cancel"] {
        let resp = act(&app, other, &id, action).await;
        assert_eq!(resp.status(), 404, "{action}");
    }
    let report: Value = app
        .admin_get(
            &session_token(other),
            "/api/admin/v1/reports/donations?from=1970-01-01&to=9999-12-31",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["total_minor"], 0);
    let mine = list(&app, SHOP, "").await;
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["status"], "open", "untouched");
    assert_eq!(balance(&app).await, 700);
}

#[tokio::test]
async fn other_platforms_redeem_through_the_widget_api_and_complete_with_the_api_key() {
    let app = TestApp::spawn().await;
    let (shop_id, api_key) = app
        .with_db(|c| {
            let spec = boomerang::services::shops::ShopSpec {
                platform: Some(Platform::WooCommerce),
                domain: "woo.example".into(),
                webhook_secret: Some("woo-secret".into()),
                currency: Some("USD".into()),
                ..Default::default()
            };
            let keys = boomerang::crypto::Keys::derive(&"x".repeat(32).into());
            let added = boomerang::services::shops::add_shop(c, &keys, &spec).unwrap();
            crate::helpers::insert_member(c, &added.shop.id, Some("31"), Some("woo@example.com"));
            (added.shop.id, added.admin_api_key.unwrap())
        })
        .await;
    let put = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(&api_key)
        .json(&catalog())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 200);
    let grant = app
        .admin_post(
            &api_key,
            "/api/admin/v1/customers/31/adjustments",
            json!({"points": 800, "reason": "test"}),
        )
        .await;
    assert_eq!(grant.status(), 201);
    let digest = hex::encode(boomerang::crypto::hmac_sha256(
        app.keys.widget_secret(&shop_id).as_bytes(),
        b"31",
    ));
    let url = app.url(&format!(
        "/widget/v1/redeem?shop=woo.example&customer=31&digest={digest}"
    ));
    let resp = app
        .client
        .post(&url)
        .json(&json!({"reward_id": "give-10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "no WooCommerce adapter is needed");
    let id = resp.json::<Value>().await.unwrap()["fulfilment_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let done: Value = app
        .admin_post(
            &api_key,
            &format!("/api/admin/v1/fulfilments/{id}/done"),
            json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["done_by"], "api key");
    assert_eq!(done["customer_id"], "31");
}

#[tokio::test]
async fn fifty_parallel_donations_of_one_balance_never_overspend() {
    let app = setup(1000).await;
    let url = app.url("/proxy/redeem");
    let mut handles = Vec::new();
    for _ in 0..50 {
        let (client, url) = (app.client.clone(), url.clone());
        handles.push(tokio::spawn(async move {
            let q = proxy_query("7001", chrono::Utc::now().timestamp());
            client
                .post(format!("{url}?{q}"))
                .json(&json!({"reward_id": "give-5"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for h in handles {
        statuses.push(h.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(
        ok, 3,
        "1000 points buy three donations of 300: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        47,
        "{statuses:?}"
    );
    assert_eq!(balance(&app).await, 100);
    assert_eq!(list(&app, SHOP, "").await.len(), 3);
    assert_eq!(
        ledger_kinds(&app)
            .await
            .iter()
            .filter(|k| *k == "redeem")
            .count(),
        3
    );
}

#[tokio::test]
async fn a_donation_bought_is_told_to_the_shops_subscribers_without_a_code() {
    use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
    let app = setup(600).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    let (_, secret) =
        crate::outgoing::subscribe(&app, SHOP, &receiver.uri(), &["reward.issued"]).await;

    let donation = redeem(&app, "give-5").await;
    // Short of points: refused, rolled back, nothing told.
    let short = redeem_as(&app, "7001", json!({"reward_id": "poster"})).await;
    assert_ne!(short.status(), 200);
    crate::outgoing::run_jobs(&app).await;

    let requests = receiver.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "one message: the donation");
    crate::outgoing::verify(&secret, &requests[0]);
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["type"], "reward.issued");
    let data = &body["data"];
    assert_eq!(data["shop"], SHOP);
    assert_eq!(data["customer_id"], "7001");
    assert_eq!(data["fulfilment_id"], donation["fulfilment_id"]);
    assert_eq!(data["reward_id"], "give-5");
    assert_eq!(data["reward_kind"], "donation");
    assert_eq!(data["points"], 300);
    assert_eq!(data["code"], Value::Null);
    assert_eq!(data["expires_at"], Value::Null);
}
