//! Earning at its edges (issue 18): orders from before the install, refunds that return only
//! shipping, refunds after the points expired, stale customer updates, unverified accounts
//! presenting a guest's e-mail, and orders that already carry their refunds.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde_json::{json, Value};

use boomerang::db::models::{Member, Shop};
use boomerang::db::schema::{members, orders, shops};
use boomerang::db::{now, write_transaction, DbConnection};
use boomerang::domain::points::{LedgerKind, LedgerStatus};
use boomerang::services::expiry;
use boomerang::services::ledger::{post, Posting, WhenShort};

use crate::helpers::{order_json, refund_json, session_token, TestApp};

const SHOP: &str = "edges.myshopify.com";
const ADA: (u64, &str) = (7001, "ada@example.com");

fn points(customer: &Value) -> (i64, i64) {
    (
        customer["points_balance"].as_i64().unwrap(),
        customer["pending_points"].as_i64().unwrap(),
    )
}

fn day(d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, d)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

/// Sets when the shop installed the app (the helpers date it long ago).
async fn installed_on(app: &TestApp, shop_id: &str, at: NaiveDateTime) {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        diesel::update(shops::table.find(&shop_id))
            .set(shops::installed_at.eq(at))
            .execute(c)
            .unwrap();
    })
    .await;
}

/// The member row of a customer id or, for a guest, of an e-mail.
async fn member_row(app: &TestApp, shop_id: &str, customer: Option<&str>, email: &str) -> Member {
    let (shop_id, customer, email) = (
        shop_id.to_owned(),
        customer.map(str::to_owned),
        email.to_owned(),
    );
    app.with_db(move |c| {
        let query = members::table
            .filter(members::shop_id.eq(&shop_id))
            .filter(members::merged_into.is_null())
            .into_boxed();
        let query = match customer {
            Some(id) => query.filter(members::platform_customer_id.eq(id)),
            None => query
                .filter(members::email.eq(email))
                .filter(members::platform_customer_id.is_null()),
        };
        query.select(Member::as_select()).first(c).unwrap()
    })
    .await
}

#[tokio::test]
async fn orders_dated_before_the_install_are_kept_as_history_and_earn_nothing() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    installed_on(&app, &shop_id, day(25)).await;
    // Placed on the 20th, five days before the install: paid, then updated (as the first
    // reconciliation run would deliver it).
    let old = order_json(100, Some(ADA), "paid", &[(1, 1, "80.00")]);
    app.deliver(SHOP, "orders/paid", "old-paid", &old).await;
    let mut updated = old.clone();
    updated["updated_at"] = json!("2026-11-26T10:00:00Z");
    app.deliver(SHOP, "orders/updated", "old-updated", &updated)
        .await;
    // Created after the install but processed before it (an import): history too.
    let mut imported = order_json(101, Some(ADA), "paid", &[(2, 1, "30.00")]);
    imported["created_at"] = json!("2026-11-27T10:00:00Z");
    imported["processed_at"] = json!("2026-11-10T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "imported", &imported)
        .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
    // Both orders are stored, for history.
    let stored: Vec<(String, NaiveDateTime)> = {
        let shop_id = shop_id.clone();
        app.with_db(move |c| {
            orders::table
                .filter(orders::shop_id.eq(&shop_id))
                .order(orders::platform_order_id.asc())
                .select((orders::platform_order_id, orders::placed_at))
                .load(c)
                .unwrap()
        })
        .await
    };
    assert_eq!(
        stored,
        [
            ("100".to_owned(), day(20) + Duration::hours(10)),
            ("101".to_owned(), day(10) + Duration::hours(10))
        ],
        "kept, on their own dates"
    );
    // An order placed after the install earns as usual.
    let mut new = order_json(102, Some(ADA), "paid", &[(3, 1, "50.00")]);
    new["created_at"] = json!("2026-11-26T10:00:00Z");
    app.deliver(SHOP, "orders/paid", "new", &new).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 50));
    // Once the shop awards history (the owner's backfill switch), the old order earns.
    {
        let shop_id = shop_id.clone();
        app.with_db(move |c| {
            diesel::update(shops::table.find(&shop_id))
                .set(shops::award_history.eq(true))
                .execute(c)
                .unwrap();
        })
        .await;
    }
    updated["updated_at"] = json!("2026-11-28T10:00:00Z");
    app.deliver(SHOP, "orders/updated", "old-updated-2", &updated)
        .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 130));
}

#[tokio::test]
async fn a_refund_with_only_shipping_takes_no_points() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let mut order = order_json(200, Some(ADA), "paid", &[(1, 2, "50.00")]);
    order["total_shipping_price_set"] =
        json!({"shop_money": {"amount": "10.00", "currency_code": "USD"}});
    order["total_price"] = json!("110.80");
    app.deliver(SHOP, "orders/paid", "o", &order).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 100));
    // Shipping and its tax go back, no line item: older API versions say so with a
    // `shipping_refund` adjustment...
    let mut shipping = refund_json(901, 200, &[], "10.80");
    shipping["order_adjustments"] = json!([{"kind": "shipping_refund", "reason": "Shipping refund",
        "amount": "-10.00", "tax_amount": "-0.80"}]);
    app.deliver(SHOP, "refunds/create", "r1", &shipping).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 100));
    // ...newer ones with `refund_shipping_lines`; a tax-only refund likewise takes nothing.
    let mut newer = refund_json(902, 200, &[], "5.00");
    newer["refund_shipping_lines"] = json!([{"id": 1, "shipping_line_id": 2,
        "subtotal_amount_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}}}]);
    app.deliver(SHOP, "refunds/create", "r2", &newer).await;
    let mut tax_only = refund_json(903, 200, &[], "0.80");
    tax_only["order_adjustments"] =
        json!([{"kind": "refund_discrepancy", "amount": "0.00", "tax_amount": "-0.80"}]);
    app.deliver(SHOP, "refunds/create", "r3", &tax_only).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 100));
    // A goodwill amount on the goods still takes its share.
    app.deliver(
        SHOP,
        "refunds/create",
        "r4",
        &refund_json(904, 200, &[], "25.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 75));
}

#[tokio::test]
async fn a_refund_after_the_points_expired_does_not_take_them_again_from_other_points() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let program = app
        .client
        .put(app.url("/api/admin/v1/program"))
        .bearer_auth(session_token(SHOP))
        .json(&json!({"expiry": {"mode": "after_earning", "months": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(program.status(), 200);
    app.deliver(
        SHOP,
        "orders/paid",
        "o",
        &order_json(300, Some(ADA), "paid", &[(1, 1, "100.00")]),
    )
    .await;
    app.confirm_after(&shop_id, 30).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (100, 0));
    let member = member_row(&app, &shop_id, Some("7001"), ADA.1).await;
    {
        let shop_id = shop_id.clone();
        app.with_db(move |c: &mut DbConnection| {
            let shop = Shop::find(c, &shop_id).unwrap();
            // The order's 100 points expire, untouched; then 50 more are earned.
            let report = expiry::run(c, &shop, now() + Duration::days(35)).unwrap();
            assert_eq!(report.expired_points, 100);
            let later = Posting {
                shop_id: shop_id.clone(),
                member_id: member.id.clone(),
                delta: 50,
                kind: LedgerKind::Adjustment,
                status: LedgerStatus::Confirmed,
                reason: Some("Later points".into()),
                source: "test".into(),
                source_id: "later".into(),
                action: "credit".into(),
                detail: None,
                confirms_at: None,
                when_short: WhenShort::Refuse,
            };
            write_transaction(c, |c| post(c, &later, now() + Duration::days(40))).unwrap();
        })
        .await;
    }
    assert_eq!(points(&app.customer(SHOP, "7001").await), (50, 0));
    // The whole order is refunded: its points are already gone; the later 50 stay.
    app.deliver(
        SHOP,
        "refunds/create",
        "r",
        &refund_json(905, 300, &[(1, 1, "100.00")], "100.00"),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (50, 0));
}

#[tokio::test]
async fn a_stale_customers_update_does_not_overwrite_newer_facts() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let customer = |email: &str, name: &str, consent: &str, updated_at: &str| {
        json!({"id": 8001, "email": email, "verified_email": true, "first_name": name,
            "last_name": "Lovelace", "created_at": "2026-11-01T10:00:00Z", "updated_at": updated_at,
            "email_marketing_consent": {"state": consent}})
    };
    app.deliver(
        SHOP,
        "customers/create",
        "create",
        &customer(
            "old@example.com",
            "Ada",
            "subscribed",
            "2026-11-01T10:00:00Z",
        ),
    )
    .await;
    // The customer changes e-mail and name and unsubscribes...
    let newest = customer(
        "new@example.com",
        "Augusta",
        "unsubscribed",
        "2026-11-03T10:00:00Z",
    );
    app.deliver(SHOP, "customers/update", "newest", &newest)
        .await;
    // ...and an older update, delivered late, says otherwise.
    let stale = customer(
        "old@example.com",
        "Ada",
        "subscribed",
        "2026-11-02T10:00:00Z",
    );
    app.deliver(SHOP, "customers/update", "stale", &stale).await;
    let m = member_row(&app, &shop_id, Some("8001"), "").await;
    assert_eq!(
        (
            m.email.as_deref(),
            m.first_name.as_deref(),
            m.accepts_marketing
        ),
        (Some("new@example.com"), Some("Augusta"), false)
    );
    // A newer one still applies.
    let newer = customer(
        "newer@example.com",
        "Ada",
        "subscribed",
        "2026-11-04T10:00:00Z",
    );
    app.deliver(SHOP, "customers/update", "newer", &newer).await;
    let m = member_row(&app, &shop_id, Some("8001"), "").await;
    assert_eq!(
        (
            m.email.as_deref(),
            m.first_name.as_deref(),
            m.accepts_marketing
        ),
        (Some("newer@example.com"), Some("Ada"), true)
    );
}

#[tokio::test]
async fn an_unverified_account_with_a_guests_email_cannot_take_the_guests_points() {
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let victim = "victim@example.com";
    let mut guest_order = order_json(400, None, "paid", &[(1, 1, "42.00")]);
    guest_order["email"] = json!(victim);
    app.deliver(SHOP, "orders/paid", "guest", &guest_order)
        .await;
    // Someone opens an account with the victim's e-mail, never verified.
    let account = |verified: bool| {
        json!({"id": 9001, "email": victim, "verified_email": verified, "first_name": "Mallory",
            "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z"})
    };
    app.deliver(SHOP, "customers/create", "takeover", &account(false))
        .await;
    app.deliver(SHOP, "customers/update", "takeover-2", &account(false))
        .await;
    // The victim checks out as a guest again: their new points do not go to that account either.
    let mut again = order_json(401, None, "paid", &[(2, 1, "8.00")]);
    again["email"] = json!(victim);
    app.deliver(SHOP, "orders/paid", "guest-again", &again)
        .await;
    assert_eq!(points(&app.customer(SHOP, "9001").await), (0, 0));
    let guest = member_row(&app, &shop_id, None, victim).await;
    assert_eq!(guest.pending_points, 50, "the guest keeps their points");
    // Once the platform says the account owns the address, it claims them.
    let mut verified = account(true);
    verified["updated_at"] = json!("2026-11-22T10:00:00Z");
    app.deliver(SHOP, "customers/update", "verified", &verified)
        .await;
    assert_eq!(points(&app.customer(SHOP, "9001").await), (0, 50));
    // From then on a guest checkout with the address goes to the account.
    let mut later = order_json(402, None, "paid", &[(3, 1, "2.00")]);
    later["email"] = json!(victim);
    app.deliver(SHOP, "orders/paid", "guest-later", &later)
        .await;
    assert_eq!(points(&app.customer(SHOP, "9001").await), (0, 52));
}

#[tokio::test]
async fn an_accounts_first_order_with_the_guests_email_claims_the_guests_points() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let mut guest_order = order_json(500, None, "paid", &[(1, 1, "42.00")]);
    guest_order["email"] = json!("gus@example.com");
    app.deliver(SHOP, "orders/paid", "guest", &guest_order)
        .await;
    let account = json!({"id": 8002, "email": "gus@example.com", "verified_email": false,
        "created_at": "2026-11-21T10:00:00Z", "updated_at": "2026-11-21T10:00:00Z"});
    app.deliver(SHOP, "customers/create", "account", &account)
        .await;
    assert_eq!(points(&app.customer(SHOP, "8002").await), (0, 0));
    // An order of the account whose confirmation goes to another address claims nothing...
    let mut elsewhere = order_json(
        501,
        Some((8002, "gus@example.com")),
        "paid",
        &[(2, 1, "10.00")],
    );
    elsewhere["email"] = json!("other@example.com");
    app.deliver(SHOP, "orders/paid", "elsewhere", &elsewhere)
        .await;
    assert_eq!(points(&app.customer(SHOP, "8002").await), (0, 10));
    // ...its order placed with the guest's e-mail does.
    app.deliver(
        SHOP,
        "orders/paid",
        "own",
        &order_json(
            502,
            Some((8002, "gus@example.com")),
            "paid",
            &[(3, 1, "5.00")],
        ),
    )
    .await;
    assert_eq!(points(&app.customer(SHOP, "8002").await), (0, 57));
}

#[tokio::test]
async fn an_order_paid_that_already_carries_a_full_refund_earns_nothing() {
    let app = TestApp::spawn().await;
    app.add_shop(SHOP, "USD").await;
    let lines = [(1, 2, "30.00")];
    let mut order = order_json(600, Some(ADA), "refunded", &lines);
    let refund = refund_json(906, 600, &[(1, 2, "60.00")], "60.00");
    order["refunds"] = json!([refund.clone()]);
    order["current_subtotal_price"] = json!("0.00");
    order["current_total_price"] = json!("0.00");
    app.deliver(SHOP, "orders/paid", "paid", &order).await;
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 0));
    // Its `refunds/create`, if it comes after all, takes nothing more; nor do redeliveries.
    app.deliver(SHOP, "refunds/create", "r", &refund).await;
    app.deliver(SHOP, "orders/updated", "updated", &order).await;
    let ada = app.customer(SHOP, "7001").await;
    assert_eq!(points(&ada), (0, 0));
    assert_eq!(ada["lifetime_points"], 0);
    let ledger: Value = app
        .admin_get(&session_token(SHOP), "/api/admin/v1/customers/7001/ledger")
        .await
        .json()
        .await
        .unwrap();
    let deltas: Vec<i64> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["delta"].as_i64().unwrap())
        .collect();
    assert_eq!(deltas.iter().sum::<i64>(), 0, "{ledger}");
    assert_eq!(deltas.len(), 2, "one award, one reversal: {ledger}");
}

/// An order node as the Admin GraphQL API returns it to the reconciliation.
fn order_node(id: u64, created_at: &str, processed_at: &str, subtotal: &str) -> Value {
    json!({
        "legacyResourceId": id.to_string(), "name": format!("#{id}"), "email": ADA.1,
        "createdAt": created_at, "processedAt": processed_at, "updatedAt": "2026-11-29T10:00:00Z",
        "cancelledAt": null, "test": false, "displayFinancialStatus": "PAID", "currencyCode": "USD",
        "customer": {"legacyResourceId": ADA.0.to_string(), "email": ADA.1},
        "subtotalPriceSet": {"shopMoney": {"amount": subtotal, "currencyCode": "USD"}},
        "totalDiscountsSet": {"shopMoney": {"amount": "0.0"}},
        "totalTaxSet": {"shopMoney": {"amount": "0.0"}},
        "totalShippingPriceSet": {"shopMoney": {"amount": "0.0", "currencyCode": "USD"}},
        "totalPriceSet": {"shopMoney": {"amount": subtotal}},
        "lineItems": {"nodes": [{"id": format!("gid://shopify/LineItem/{}", id * 10), "quantity": 1,
            "currentQuantity": 1, "isGiftCard": false, "product": {"legacyResourceId": "1"},
            "variant": {"legacyResourceId": "2"},
            "originalUnitPriceSet": {"shopMoney": {"amount": subtotal}},
            "totalDiscountSet": {"shopMoney": {"amount": "0.0"}}}]},
        "refunds": [],
    })
}

#[tokio::test]
async fn the_first_reconciliation_awards_nothing_for_orders_from_before_the_install() {
    use boomerang::jobs;
    use boomerang::queue::{self, JobKind, JobSpec};
    use wiremock::matchers::{body_string_contains, method};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const APP_SECRET: &str = "edges-test-app-secret-0123456789abcdef0123";
    let server = MockServer::start().await;
    let app = TestApp::spawn_with(&[("APP_SECRET", APP_SECRET)]).await;
    let shop_id = app.add_api_shop(SHOP, &server.uri(), APP_SECRET).await;
    installed_on(&app, &shop_id, day(25)).await;
    // Sixty days of orders come back on the first run: two from before the install (one only
    // processed then), one after.
    Mock::given(method("POST"))
        .and(body_string_contains("updated_at:>"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"orders": {
                "pageInfo": {"hasNextPage": false, "endCursor": "c1"},
                "nodes": [
                    order_node(3001, "2026-10-05T10:00:00Z", "2026-10-05T10:00:00Z", "70.00"),
                    order_node(3002, "2026-11-26T10:00:00Z", "2026-11-20T10:00:00Z", "30.00"),
                    order_node(3003, "2026-11-27T10:00:00Z", "2026-11-27T10:00:00Z", "20.00"),
                ]
            }}})),
        )
        .mount(&server)
        .await;
    let spec = JobSpec {
        shop_id: shop_id.clone(),
        kind: JobKind::ReconcileOrders,
        payload: json!({}),
        dedupe_key: Some("first".to_owned()),
        run_at: now(),
        max_attempts: 3,
    };
    app.with_db(move |c| queue::enqueue(c, spec).unwrap()).await;
    let ctx = crate::helpers::job_context(APP_SECRET);
    let report = jobs::run_pending(&app.db, &ctx).await.unwrap();
    // The reconciliation, and the mail telling of the one order that earned.
    assert_eq!((report.done, report.failed), (2, 0));
    assert_eq!(points(&app.customer(SHOP, "7001").await), (0, 20));
    // The old orders are kept, for history.
    let stored: i64 = app
        .with_db(move |c| {
            orders::table
                .filter(orders::shop_id.eq(&shop_id))
                .count()
                .get_result(c)
                .unwrap()
        })
        .await;
    assert_eq!(stored, 3);
}
