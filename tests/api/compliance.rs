//! App lifecycle and privacy-law webhooks, black-box: `customers/redact` erases a customer's
//! personal data but keeps the anonymous totals, `shop/redact` erases a shop, `app/uninstalled`
//! locks the admin out and drops the token, `customers/data_request` is recorded, and none of
//! them is taken from an unsigned sender. Every test checks that another customer or shop is
//! left alone.

use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::schema::{inbox_events, ledger_entries, members, orders, refunds, shops};
use boomerang::db::stored_body::StoredBody;

use crate::helpers::{fixture, order_json, refund_json, session_token, TestApp};

const SHOP: &str = "privacy.myshopify.com";
const OTHER_SHOP: &str = "neighbour.myshopify.com";
const ADA: (u64, &str) = (7001, "ada@example.com");
const BOB: (u64, &str) = (7002, "bob@example.com");

/// Adds a Shopify shop that holds an (encrypted) Admin API access token; returns its id.
async fn add_shop_with_token(app: &TestApp, domain: &str) -> String {
    let domain = domain.to_owned();
    app.with_db(move |c| {
        let keys = boomerang::crypto::Keys::derive(&"x".repeat(32).into());
        let spec = boomerang::services::shops::ShopSpec {
            platform: Some(boomerang::db::types::Platform::Shopify),
            domain,
            access_token: Some("shpat_0123456789abcdef".into()),
            currency: Some("USD".into()),
            ..Default::default()
        };
        let id = boomerang::services::shops::add_shop(c, &keys, &spec)
            .unwrap()
            .shop
            .id;
        crate::helpers::backdate_install(c, &id);
        id
    })
    .await
}

/// A `customers/create|update` body in the fixture's shape.
pub(crate) fn customer_json(id: u64, email: &str, first_name: &str) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/customers_create.json")).unwrap();
    body["id"] = json!(id);
    body["email"] = json!(email);
    body["first_name"] = json!(first_name);
    body["last_name"] = json!("Example");
    body["admin_graphql_api_id"] = json!(format!("gid://shopify/Customer/{id}"));
    body["email_marketing_consent"] = json!({"state": "subscribed"});
    body
}

/// A `customers/redact` or `customers/data_request` body in the fixture's shape.
pub(crate) fn redact_json(
    shop: &str,
    customer: (u64, &str),
    orders_key: &str,
    orders: &[u64],
) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/customers_redact.json")).unwrap();
    body["shop_domain"] = json!(shop);
    body["customer"]["id"] = json!(customer.0);
    body["customer"]["email"] = json!(customer.1);
    if orders_key != "orders_to_redact" {
        body.as_object_mut().unwrap().remove("orders_to_redact");
        body["data_request"] = json!({"id": 9999});
    }
    body[orders_key] = json!(orders);
    body
}

fn shop_redact_json(shop: &str) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/shop_redact.json")).unwrap();
    body["shop_domain"] = json!(shop);
    body
}

fn uninstalled_json(shop: &str) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/app_uninstalled.json")).unwrap();
    body["myshopify_domain"] = json!(shop);
    body["domain"] = json!(shop);
    body
}

/// Runs the due background jobs, as the scheduler would: the erasure of the stored bodies a
/// `customers/redact` asked for happens there, off the acknowledgement path.
async fn run_jobs(app: &TestApp) -> boomerang::jobs::RunReport {
    boomerang::jobs::run_pending(
        &app.db,
        &crate::helpers::job_context("unused-in-these-jobs-0123456789abcdef"),
    )
    .await
    .unwrap()
}

/// (points_balance, pending_points, lifetime_points) as the admin API shows them.
fn totals(customer: &Value) -> (i64, i64, i64) {
    (
        customer["points_balance"].as_i64().unwrap(),
        customer["pending_points"].as_i64().unwrap(),
        customer["lifetime_points"].as_i64().unwrap(),
    )
}

/// Rows the shop has in (members, ledger_entries, orders, refunds, inbox_events).
async fn row_counts(app: &TestApp, shop_id: &str) -> [i64; 5] {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        [
            members::table
                .filter(members::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            ledger_entries::table
                .filter(ledger_entries::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            orders::table
                .filter(orders::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            refunds::table
                .filter(refunds::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
            inbox_events::table
                .filter(inbox_events::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap(),
        ]
    })
    .await
}

/// The shop's stored webhook bodies, as (delivery id, payload).
async fn stored_payloads(app: &TestApp, shop_id: &str) -> Vec<(String, String)> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(&shop_id))
            .select((inbox_events::delivery_id, inbox_events::payload))
            .load::<(String, StoredBody)>(c)
            .unwrap()
            .into_iter()
            .map(|(delivery, body)| (delivery, body.0))
            .collect()
    })
    .await
}

/// (install_state, access_token_enc) of a shop.
async fn install_state(app: &TestApp, domain: &str) -> (String, Option<String>) {
    let domain = domain.to_owned();
    app.with_db(move |c| {
        shops::table
            .filter(shops::domain.eq(&domain))
            .select((shops::install_state, shops::access_token_enc))
            .first(c)
            .unwrap()
    })
    .await
}

/// Members of the shop whose stored e-mail is `email` (any member row, merged guests included).
async fn members_with_email(app: &TestApp, shop_id: &str, email: &str) -> i64 {
    let (shop_id, email) = (shop_id.to_owned(), email.to_owned());
    app.with_db(move |c| {
        members::table
            .filter(members::shop_id.eq(&shop_id))
            .filter(members::email.eq(&email))
            .count()
            .get_result(c)
            .unwrap()
    })
    .await
}

/// The personal facts an order of customer `id` carries beside its e-mail (landing page, IP,
/// phone, addresses, card), all told apart by the id.
fn with_provenance(mut order: Value, id: u64) -> Value {
    let address = json!({"address1": format!("{id} Privacy Lane"), "city": "Ottawa",
                         "zip": "K2H 7A8", "country_code": "CA", "phone": format!("+1 613 555 {id}")});
    order["landing_site"] = json!(format!("/?ref=REF{id}"));
    order["browser_ip"] = json!(format!("198.51.100.{}", id % 256));
    order["phone"] = json!(format!("+1 613 555 {id}"));
    order["shipping_address"] = address.clone();
    order["billing_address"] = address;
    order["payment_details"] = json!({"credit_card_bin": "424242",
                                      "credit_card_number": format!("•••• •••• •••• {id}")});
    order
}

/// Gives a customer an account, a paid order and confirmed points.
async fn earn(app: &TestApp, shop: &str, who: (u64, &str), order: u64, price: &str) {
    let tag = format!("{shop}-{order}");
    assert_eq!(
        app.deliver(
            shop,
            "customers/create",
            &format!("{tag}-c"),
            &customer_json(who.0, who.1, "First")
        )
        .await,
        "accepted"
    );
    assert_eq!(
        app.deliver(
            shop,
            "orders/paid",
            &format!("{tag}-o"),
            &with_provenance(
                order_json(order, Some(who), "paid", &[(order * 10, 1, price)]),
                who.0
            )
        )
        .await,
        "accepted"
    );
}

#[tokio::test]
async fn customers_redact_erases_the_person_but_keeps_the_anonymous_totals() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    earn(&app, SHOP, ADA, 500, "120.00").await;
    earn(&app, SHOP, BOB, 501, "80.00").await;
    // A partial refund and a data request: more stored bodies that name Ada.
    app.deliver(
        SHOP,
        "refunds/create",
        "ada-refund",
        &refund_json(900, 500, &[], "20.00"),
    )
    .await;
    assert_eq!(app.confirm_after(&shop_id, 30).await, 3);
    let ada_before = app.customer(SHOP, "7001").await;
    let bob_before = app.customer(SHOP, "7002").await;
    assert_eq!(totals(&ada_before), (100, 0, 100), "{ada_before}");
    assert_eq!(ada_before["email"], ADA.1);
    assert_eq!(totals(&bob_before), (80, 0, 80));
    let bob_payloads_before: Vec<_> = stored_payloads(&app, &shop_id)
        .await
        .into_iter()
        .filter(|(_, p)| p.contains(BOB.1))
        .collect();
    assert_eq!(bob_payloads_before.len(), 2);

    // The same person may be a member of other shops (the demo shop has an Ada too).
    let elsewhere = || {
        app.with_db(|c| {
            members::table
                .filter(members::email.eq(ADA.1))
                .select((members::shop_id, members::points_balance))
                .load::<(String, i64)>(c)
                .unwrap()
        })
    };
    let elsewhere_before: Vec<_> = elsewhere()
        .await
        .into_iter()
        .filter(|(s, _)| *s != shop_id)
        .collect();

    let redact = redact_json(SHOP, ADA, "orders_to_redact", &[500]);
    assert_eq!(
        app.deliver(SHOP, "customers/redact", "redact-ada", &redact)
            .await,
        "accepted"
    );
    assert_eq!(run_jobs(&app).await.failed, 0);

    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(ada["email"], Value::Null, "{ada}");
    assert_eq!(totals(&ada), totals(&ada_before), "anonymous totals kept");
    let shop = shop_id.clone();
    let (first_name, last_name, redacted_at) = app
        .with_db(move |c| {
            members::table
                .filter(members::shop_id.eq(&shop))
                .filter(members::platform_customer_id.eq("7001"))
                .select((
                    members::first_name,
                    members::last_name,
                    members::redacted_at,
                ))
                .first::<(
                    Option<String>,
                    Option<String>,
                    Option<chrono::NaiveDateTime>,
                )>(c)
                .unwrap()
        })
        .await;
    assert_eq!((first_name, last_name), (None, None));
    assert!(redacted_at.is_some());
    // The ledger lines stay (the shop's liability and metrics), only the person goes.
    let ledger: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001/ledger")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 2, "{ledger}");
    // No stored body or order row still carries her e-mail (in any case).
    for (delivery, payload) in stored_payloads(&app, &shop_id).await {
        assert!(
            !payload.to_lowercase().contains(ADA.1),
            "{delivery} still holds the e-mail: {payload}"
        );
    }
    let shop = shop_id.clone();
    let order_rows: Vec<(String, Option<String>, String)> = app
        .with_db(move |c| {
            orders::table
                .filter(orders::shop_id.eq(&shop))
                .select((orders::platform_order_id, orders::email, orders::snapshot))
                .load(c)
                .unwrap()
        })
        .await;
    for (order, email, snapshot) in &order_rows {
        assert!(
            !snapshot.contains(ADA.1) && email.as_deref() != Some(ADA.1),
            "order {order}"
        );
        // Nor her landing page, IP, phone, address or card: the snapshot goes whole.
        for trace in ["REF7001", "198.51.100.89", "555 7001", "7001 Privacy Lane"] {
            assert!(!snapshot.contains(trace), "order {order} keeps {trace}");
        }
    }
    let snapshot_of = |id: &str| {
        order_rows
            .iter()
            .find(|(o, _, _)| o == id)
            .map(|(_, _, snapshot)| snapshot.clone())
            .unwrap()
    };
    assert_eq!(snapshot_of("500"), "{}");
    let bob_order: boomerang::domain::event::OrderFacts =
        serde_json::from_str(&snapshot_of("501")).unwrap();
    assert_eq!(bob_order.provenance.phones, ["+1 613 555 7002"]);
    assert_eq!(bob_order.provenance.card_last4.as_deref(), Some("7002"));

    assert_eq!(
        elsewhere().await,
        elsewhere_before,
        "other shops keep their member"
    );

    // Bob is untouched: profile, points and his stored deliveries.
    let bob = app.customer(SHOP, "7002").await;
    assert_eq!(bob, bob_before);
    let bob_payloads_after: Vec<_> = stored_payloads(&app, &shop_id)
        .await
        .into_iter()
        .filter(|(_, p)| p.contains(BOB.1))
        .collect();
    assert_eq!(
        bob_payloads_after.len(),
        bob_payloads_before.len(),
        "{bob_payloads_after:?}"
    );
    assert!(order_rows
        .iter()
        .any(|(o, e, _)| o == "501" && e.as_deref() == Some(BOB.1)));

    // Shopify still knows the customer: a later update does not bring the data back.
    assert_eq!(
        app.deliver(
            SHOP,
            "customers/update",
            "update-ada",
            &customer_json(ADA.0, ADA.1, "Ada")
        )
        .await,
        "accepted"
    );
    let ada_after = app.customer(SHOP, "7001").await;
    assert_eq!(ada_after["email"], Value::Null, "{ada_after}");
    assert_eq!(totals(&ada_after), totals(&ada_before));
    assert_eq!(members_with_email(&app, &shop_id, ADA.1).await, 0);
    // A redelivery of the redaction is a duplicate, and changes nothing either.
    assert_eq!(
        app.deliver(SHOP, "customers/redact", "redact-ada", &redact)
            .await,
        "duplicate"
    );
}

#[tokio::test]
async fn customers_redact_does_not_touch_another_customer_whose_email_contains_the_redacted_one() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let ann = (7101, "ann@example.com");
    let joann = (7102, "joann@example.com");
    earn(&app, SHOP, ann, 600, "10.00").await;
    earn(&app, SHOP, joann, 601, "20.00").await;
    let joann_payloads = |all: Vec<(String, String)>| -> Vec<String> {
        all.into_iter()
            .filter(|(_, p)| p.contains(joann.1))
            .map(|(d, _)| d)
            .collect()
    };
    let before = joann_payloads(stored_payloads(&app, &shop_id).await);
    assert_eq!(before.len(), 2);
    app.deliver(
        SHOP,
        "customers/redact",
        "redact-ann",
        &redact_json(SHOP, ann, "orders_to_redact", &[600]),
    )
    .await;
    run_jobs(&app).await;
    assert_eq!(app.customer(SHOP, "7101").await["email"], Value::Null);
    assert_eq!(app.customer(SHOP, "7102").await["email"], joann.1);
    // Joann's stored deliveries (needed to replay them) must survive Ann's redaction.
    let after = joann_payloads(stored_payloads(&app, &shop_id).await);
    assert_eq!(after, before, "Joann's stored webhooks were erased");
}

#[tokio::test]
async fn customers_redact_also_erases_the_merged_guest_record_after_an_email_change() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    // A guest order, then the account appears (the guest is merged into it)...
    let mut guest = order_json(700, None, "paid", &[(7000, 1, "30.00")]);
    guest["email"] = json!("old@example.com");
    app.deliver(SHOP, "orders/paid", "guest", &guest).await;
    app.deliver(
        SHOP,
        "customers/create",
        "create",
        &customer_json(8001, "old@example.com", "Gus"),
    )
    .await;
    // ...and the customer later changes e-mail address.
    app.deliver(
        SHOP,
        "customers/update",
        "update",
        &customer_json(8001, "new@example.com", "Gus"),
    )
    .await;
    let gus = app.customer(SHOP, "8001").await;
    assert_eq!(gus["email"], "new@example.com");
    assert_eq!(totals(&gus), (0, 30, 30));
    app.deliver(
        SHOP,
        "customers/redact",
        "redact",
        &redact_json(SHOP, (8001, "new@example.com"), "orders_to_redact", &[700]),
    )
    .await;
    run_jobs(&app).await;
    assert_eq!(app.customer(SHOP, "8001").await["email"], Value::Null);
    for email in ["new@example.com", "old@example.com"] {
        assert_eq!(
            members_with_email(&app, &shop_id, email).await,
            0,
            "a member row still holds {email}"
        );
    }
    for (delivery, payload) in stored_payloads(&app, &shop_id).await {
        assert!(
            !payload.contains("old@example.com") && !payload.contains("new@example.com"),
            "{delivery}: {payload}"
        );
    }
}

#[tokio::test]
async fn shop_redact_erases_the_shop_and_nothing_else() {
    let app = TestApp::spawn().await;
    let gone = add_shop_with_token(&app, SHOP).await;
    let kept = add_shop_with_token(&app, OTHER_SHOP).await;
    for shop in [SHOP, OTHER_SHOP] {
        earn(&app, shop, ADA, 500, "50.00").await;
        app.deliver(
            shop,
            "refunds/create",
            &format!("{shop}-r"),
            &refund_json(900, 500, &[(5000, 1, "50.00")], "50.00"),
        )
        .await;
        // A guest merged into an account: the guest row points at the account.
        let mut guest = order_json(501, None, "paid", &[(5010, 1, "25.00")]);
        guest["email"] = json!(BOB.1);
        app.deliver(shop, "orders/paid", &format!("{shop}-g"), &guest)
            .await;
        app.deliver(
            shop,
            "customers/create",
            &format!("{shop}-b"),
            &customer_json(BOB.0, BOB.1, "Bob"),
        )
        .await;
    }
    app.confirm_after(&kept, 30).await;
    let before = row_counts(&app, &gone).await;
    assert_eq!(
        &before[..4],
        &[3, 3, 2, 1],
        "members, ledger, orders, refunds"
    );
    let kept_before = row_counts(&app, &kept).await;
    assert_eq!(kept_before, before);
    let kept_ada = app.customer(OTHER_SHOP, "7001").await;
    let kept_bob = app.customer(OTHER_SHOP, "7002").await;
    let kept_payloads = stored_payloads(&app, &kept).await;
    // A DKIM key is one of the shop's secrets: it goes with them.
    let dkim = app
        .client
        .put(app.url("/api/admin/v1/emails/dkim"))
        .bearer_auth(session_token(SHOP))
        .json(&json!({"domain": "gone.example", "selector": "s1",
                      "private_key": fixture("dkim/rsa2048.pkcs1.pem")}))
        .send()
        .await
        .unwrap();
    assert_eq!(dkim.status(), 200);

    assert_eq!(
        app.deliver(SHOP, "shop/redact", "redact", &shop_redact_json(SHOP))
            .await,
        "accepted"
    );
    // The rows and bodies go in a retention job, off the acknowledgement path.
    run_jobs(&app).await;

    let after = row_counts(&app, &gone).await;
    assert_eq!(
        &after[..4],
        &[0, 0, 0, 0],
        "members, ledger, orders, refunds"
    );
    for (delivery, payload) in stored_payloads(&app, &gone).await {
        assert!(
            !payload.contains(ADA.1) && !payload.contains(BOB.1),
            "{delivery}: {payload}"
        );
    }
    let (state, token) = install_state(&app, SHOP).await;
    assert_eq!(state, "redacted");
    assert_eq!(token, None);
    let shop_id = gone.clone();
    let dkim_left = app
        .with_db(move |c| {
            use boomerang::db::schema::shops;
            use diesel::prelude::*;
            shops::table
                .find(shop_id)
                .select((
                    shops::dkim_domain,
                    shops::dkim_selector,
                    shops::dkim_private_key_enc,
                ))
                .first::<(Option<String>, Option<String>, Option<String>)>(c)
                .unwrap()
        })
        .await;
    assert_eq!(dkim_left, (None, None, None), "the DKIM key is erased");
    // The admin API is closed to it, and later deliveries create nothing.
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001")
        .await;
    assert_eq!(resp.status(), 401);
    let late = app
        .deliver(
            SHOP,
            "orders/paid",
            "late",
            &order_json(502, Some(ADA), "paid", &[(5020, 1, "10.00")]),
        )
        .await;
    assert!(late == "ignored" || late == "accepted", "{late}");
    assert_eq!(row_counts(&app, &gone).await[0], 0, "no member was created");

    // The other shop is exactly as it was.
    assert_eq!(row_counts(&app, &kept).await, kept_before);
    assert_eq!(app.customer(OTHER_SHOP, "7001").await, kept_ada);
    assert_eq!(app.customer(OTHER_SHOP, "7002").await, kept_bob);
    assert_eq!(stored_payloads(&app, &kept).await, kept_payloads);
    let (state, token) = install_state(&app, OTHER_SHOP).await;
    assert_eq!(state, "installed");
    assert!(token.is_some());
}

#[tokio::test]
async fn app_uninstalled_locks_the_admin_out_and_drops_the_token_but_keeps_the_data() {
    let app = TestApp::spawn().await;
    let gone = add_shop_with_token(&app, SHOP).await;
    add_shop_with_token(&app, OTHER_SHOP).await;
    earn(&app, SHOP, ADA, 500, "40.00").await;
    let token = session_token(SHOP);
    let resp = app.admin_get(&token, "/api/admin/v1/customers/7001").await;
    assert_eq!(resp.status(), 200);
    let before = row_counts(&app, &gone).await;

    assert_eq!(
        app.deliver(SHOP, "app/uninstalled", "bye", &uninstalled_json(SHOP))
            .await,
        "accepted"
    );

    for path in [
        "/api/admin/v1/customers/7001",
        "/api/admin/v1/program",
        "/api/admin/v1/webhooks?status=applied",
    ] {
        let resp = app.admin_get(&session_token(SHOP), path).await;
        assert_eq!(resp.status(), 401, "{path}");
    }
    let (state, access_token) = install_state(&app, SHOP).await;
    assert_eq!(state, "uninstalled");
    assert_eq!(access_token, None);
    // The data waits for shop/redact (48 h later; the shop may reinstall meanwhile).
    assert_eq!(&row_counts(&app, &gone).await[..4], &before[..4]);

    // The other shop still works, end to end.
    earn(&app, OTHER_SHOP, BOB, 600, "15.00").await;
    let bob = app.customer(OTHER_SHOP, "7002").await;
    assert_eq!(totals(&bob), (0, 15, 15));
    let (state, access_token) = install_state(&app, OTHER_SHOP).await;
    assert_eq!(state, "installed");
    assert!(access_token.is_some());

    // shop/redact arrives after the uninstall, by design, and is still acted on.
    assert_eq!(
        app.deliver(SHOP, "shop/redact", "redact", &shop_redact_json(SHOP))
            .await,
        "accepted"
    );
    // The rows and bodies go in a retention job, off the acknowledgement path.
    run_jobs(&app).await;
    assert_eq!(install_state(&app, SHOP).await.0, "redacted");
    assert_eq!(&row_counts(&app, &gone).await[..4], &[0, 0, 0, 0]);
}

#[tokio::test]
async fn customers_data_request_is_accepted_and_applied() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    earn(&app, SHOP, ADA, 500, "40.00").await;
    let ada_before = app.customer(SHOP, "7001").await;
    let body = redact_json(SHOP, ADA, "orders_requested", &[500]);
    assert_eq!(
        app.deliver(SHOP, "customers/data_request", "dr-1", &body)
            .await,
        "accepted"
    );
    let applied: Value = app
        .admin_get(
            &session_token(SHOP),
            "/api/admin/v1/webhooks?status=applied",
        )
        .await
        .json()
        .await
        .unwrap();
    let event = applied["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["delivery_id"] == "dr-1")
        .unwrap_or_else(|| panic!("{applied}"));
    assert_eq!(event["topic"], "customers/data_request");
    assert_eq!(event["status"], "applied");
    // A request for data changes no data.
    assert_eq!(app.customer(SHOP, "7001").await, ada_before);
}

#[tokio::test]
async fn customers_data_request_for_an_unknown_customer_creates_no_member() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let stranger = (9001, "stranger@example.com");
    let body = redact_json(SHOP, stranger, "orders_requested", &[]);
    assert_eq!(
        app.deliver(SHOP, "customers/data_request", "dr-2", &body)
            .await,
        "accepted"
    );
    // Asking what the app holds about someone must not make the app hold something.
    assert_eq!(row_counts(&app, &shop_id).await[0], 0, "members");
    let resp = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/9001")
        .await;
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn compliance_webhooks_with_a_bad_signature_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let shop_id = add_shop_with_token(&app, SHOP).await;
    earn(&app, SHOP, ADA, 500, "40.00").await;
    let before = row_counts(&app, &shop_id).await;
    let ada = app.customer(SHOP, "7001").await;
    let cases = [
        (
            "customers/redact",
            redact_json(SHOP, ADA, "orders_to_redact", &[500]),
        ),
        (
            "customers/data_request",
            redact_json(SHOP, ADA, "orders_requested", &[500]),
        ),
        ("shop/redact", shop_redact_json(SHOP)),
        ("app/uninstalled", uninstalled_json(SHOP)),
    ];
    for (i, (topic, body)) in cases.iter().enumerate() {
        let body = body.to_string();
        // Signed with another secret, and a valid signature of another body.
        let wrong_secret = app
            .post_shopify_webhook_signed(topic, SHOP, &format!("bad-{i}"), &body, "not-the-secret")
            .await;
        assert_eq!(wrong_secret.status(), 401, "{topic}");
        let other_body = app
            .client
            .post(app.url("/webhooks/shopify"))
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", *topic)
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", format!("swapped-{i}"))
            .header(
                "X-Shopify-Hmac-Sha256",
                boomerang::platform::shopify::webhook::sign(b"{}", crate::helpers::SECRET),
            )
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(other_body.status(), 401, "{topic}");
        let unsigned = app
            .client
            .post(app.url("/webhooks/shopify"))
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", *topic)
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", format!("unsigned-{i}"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(unsigned.status(), 401, "{topic}");
    }
    assert_eq!(row_counts(&app, &shop_id).await, before, "nothing stored");
    assert_eq!(app.customer(SHOP, "7001").await, ada);
    let (state, token) = install_state(&app, SHOP).await;
    assert_eq!(state, "installed");
    assert!(token.is_some());
}

/// The erasure of stored bodies used to scan the shop's whole inbox with `LIKE` inside the
/// webhook writer's transaction, holding up every shop's acknowledgements. Now the writer only
/// redacts the member and queues a job, which finds the bodies by the keys stored with them.
#[tokio::test]
async fn customers_redact_erases_stored_bodies_in_a_job_off_the_acknowledgement_path() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    earn(&app, SHOP, ADA, 800, "10.00").await;
    earn(&app, SHOP, BOB, 801, "20.00").await;
    app.deliver(
        SHOP,
        "refunds/create",
        "ada-refund",
        &refund_json(980, 800, &[], "5.00"),
    )
    .await;
    app.deliver(
        SHOP,
        "customers/redact",
        "redact-ada",
        &redact_json(SHOP, ADA, "orders_to_redact", &[800]),
    )
    .await;
    // Acknowledged: the person is gone from the member rows at once...
    assert_eq!(app.customer(SHOP, "7001").await["email"], Value::Null);
    // ...and the stored bodies wait for the job the redaction queued.
    let queued: Vec<String> = app
        .with_db(|c| {
            use boomerang::db::schema::jobs;
            // (Mail the customer's events queued is not this test's business.)
            jobs::table
                .filter(jobs::status.eq("queued"))
                .filter(jobs::kind.ne("deliver_emails"))
                .select(jobs::kind)
                .load(c)
                .unwrap()
        })
        .await;
    assert_eq!(queued, vec!["erase_webhook_bodies".to_owned()]);
    let naming_ada = |all: Vec<(String, String)>| -> Vec<String> {
        all.into_iter()
            .filter(|(_, p)| p.contains(ADA.1) || p.contains("\"order_id\":800"))
            .map(|(d, _)| d)
            .collect()
    };
    assert_eq!(
        naming_ada(stored_payloads(&app, &shop_id).await).len(),
        4,
        "her sign-up, order, refund and the redaction itself are still stored"
    );
    let report = run_jobs(&app).await;
    // The erasure ran, and so did the deliver jobs her sign-up's welcome mail queued (they find
    // her erased and send nothing). Mail wakes its deliverer once per shop and second, so a slow
    // run may have queued more than one of those: count the erasure, not every job.
    assert_eq!(report.failed, 0, "{report:?}");
    let erasures_done: i64 = app
        .with_db(|c| {
            use boomerang::db::schema::jobs;
            jobs::table
                .filter(jobs::kind.eq("erase_webhook_bodies"))
                .filter(jobs::status.eq("done"))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(erasures_done, 1);
    let after = stored_payloads(&app, &shop_id).await;
    assert!(naming_ada(after.clone()).is_empty(), "{after:?}");
    assert_eq!(
        after.iter().filter(|(_, p)| p.contains(BOB.1)).count(),
        2,
        "Bob's sign-up and order stay: {after:?}"
    );
}
