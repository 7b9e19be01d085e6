//! On PostgreSQL the rows written for every order carry no foreign keys (migration
//! `…_order_rows_without_foreign_keys`): the shop and member ids in them are right by
//! construction. This holds the construction to it on both engines (SQLite checks the
//! references itself as well) through the flows that create, merge and delete members.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{json, Value};

use crate::helpers::{fixture, job_context, order_json, refund_json, TestApp};

const SHOP: &str = "references.myshopify.com";
const GONE: &str = "references-gone.myshopify.com";

/// The tables whose references PostgreSQL no longer checks, and whether each names a member.
const UNCHECKED: [(&str, bool); 9] = [
    ("inbox_events", false),
    ("ledger_entries", true),
    ("orders", true),
    ("tier_activity", true),
    ("emails", true),
    ("product_purchases", true),
    ("customer_facts", true),
    ("metric_orders", false),
    ("metric_spells", false),
];

fn count(c: &mut boomerang::db::DbConnection, sql: &str) -> i64 {
    diesel::select(diesel::dsl::sql::<BigInt>(&format!("({sql})")))
        .get_result(c)
        .unwrap()
}

/// Rows of the unchecked tables that name a shop or a member that does not exist.
async fn dangling(app: &TestApp) -> Vec<String> {
    app.with_db(|c| {
        let mut found = Vec::new();
        for (table, names_member) in UNCHECKED {
            let shops = count(
                c,
                &format!(
                    "SELECT COUNT(*) FROM {table} t \
                     WHERE NOT EXISTS (SELECT 1 FROM shops s WHERE s.id = t.shop_id)"
                ),
            );
            if shops > 0 {
                found.push(format!("{table}: {shops} rows of no shop"));
            }
            if names_member {
                let members = count(
                    c,
                    &format!(
                        "SELECT COUNT(*) FROM {table} t WHERE t.member_id IS NOT NULL \
                         AND NOT EXISTS (SELECT 1 FROM members m WHERE m.id = t.member_id)"
                    ),
                );
                if members > 0 {
                    found.push(format!("{table}: {members} rows of no member"));
                }
            }
        }
        found
    })
    .await
}

/// How many rows of each unchecked table the shop has.
async fn rows_of(app: &TestApp, shop_id: &str) -> Vec<(&'static str, i64)> {
    let shop_id = shop_id.to_owned();
    app.with_db(move |c| {
        UNCHECKED
            .iter()
            .map(|(table, _)| {
                let sql = format!("SELECT COUNT(*) FROM {table} WHERE shop_id = '{shop_id}'");
                (*table, count(c, &sql))
            })
            .collect()
    })
    .await
}

/// A paid order of one line (line id `id * 10`).
fn paid(id: u64, customer: (u64, &str), price: &str) -> Value {
    order_json(id, Some(customer), "paid", &[(id * 10, 1, price)])
}

fn customers_redact(shop: &str, customer: (u64, &str), orders: &[u64]) -> Value {
    let mut body: Value = serde_json::from_str(&fixture("shopify/customers_redact.json")).unwrap();
    body["shop_domain"] = json!(shop);
    body["customer"]["id"] = json!(customer.0);
    body["customer"]["email"] = json!(customer.1);
    body["orders_to_redact"] = json!(orders);
    body
}

#[tokio::test]
async fn the_rows_of_orders_name_shops_and_members_that_exist_through_merges_and_redactions() {
    let app = TestApp::spawn().await;
    let kept = app.add_shop(SHOP, "USD").await;
    let gone = app.add_shop(GONE, "USD").await;
    for shop in [SHOP, GONE] {
        let deliveries = [
            ("o1", paid(101, (7001, "ada@example.com"), "60.00")),
            ("o2", paid(102, (7001, "ada@example.com"), "45.00")),
            // A guest's order, then an account's order placed with the guest's address: the
            // guest is merged into the account.
            ("o3", paid(103, (0, "bo@example.com"), "20.00")),
            ("o4", paid(104, (7002, "bo@example.com"), "25.00")),
            ("r1", refund_json(901, 102, &[(1020, 1, "45.00")], "45.00")),
        ];
        for (delivery, body) in deliveries {
            let topic = if delivery.starts_with('r') {
                "refunds/create"
            } else {
                "orders/paid"
            };
            assert_eq!(app.deliver(shop, topic, delivery, &body).await, "accepted");
        }
    }
    let before = rows_of(&app, &kept).await;
    for table in [
        "inbox_events",
        "ledger_entries",
        "orders",
        "customer_facts",
        "metric_orders",
    ] {
        let n = before.iter().find(|(t, _)| *t == table).unwrap().1;
        assert!(n > 0, "no {table} rows to check: {before:?}");
    }
    let kept_id = kept.clone();
    let merged = app
        .with_db(move |c| {
            count(
                c,
                &format!(
                    "SELECT COUNT(*) FROM members \
                     WHERE shop_id = '{kept_id}' AND merged_into IS NOT NULL"
                ),
            )
        })
        .await;
    assert_eq!(merged, 1, "the guest was merged into the account");
    assert_eq!(dangling(&app).await, Vec::<String>::new());

    let redact = customers_redact(SHOP, (7001, "ada@example.com"), &[101, 102]);
    assert_eq!(
        app.deliver(SHOP, "customers/redact", "cr", &redact).await,
        "accepted"
    );
    let mut shop_redact: Value =
        serde_json::from_str(&fixture("shopify/shop_redact.json")).unwrap();
    shop_redact["shop_domain"] = json!(GONE);
    assert_eq!(
        app.deliver(GONE, "shop/redact", "sr", &shop_redact).await,
        "accepted"
    );
    let ctx = job_context("unused-in-these-jobs-0123456789abcdef");
    boomerang::jobs::run_pending(&app.db, &ctx).await.unwrap();

    assert_eq!(dangling(&app).await, Vec::<String>::new());
    // The redacted shop's members went, after every row that named them (its inbox rows stay,
    // their bodies erased, so redeliveries stay duplicates).
    let gone_id = gone.clone();
    let members_left = app
        .with_db(move |c| {
            count(
                c,
                &format!("SELECT COUNT(*) FROM members WHERE shop_id = '{gone_id}'"),
            )
        })
        .await;
    assert_eq!(members_left, 0);
    for (table, n) in rows_of(&app, &gone).await {
        assert!(table == "inbox_events" || n == 0, "{table}: {n} rows left");
    }
    assert!(
        rows_of(&app, &kept)
            .await
            .iter()
            .any(|(t, n)| *t == "ledger_entries" && *n > 0),
        "the kept shop's ledger stays"
    );
}
