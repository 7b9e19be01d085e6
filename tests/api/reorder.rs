//! Webhook order does not matter, property-tested at the services level: Shopify neither orders
//! nor de-duplicates its deliveries, so any permutation of a shop's deliveries, each delivered
//! one to three times, with the return window passing at any point, must end with the same
//! balances as the deliveries in the order they happened. After every step the cached balances
//! equal the ledger and are never negative.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::{json, Value};

use boomerang::db::schema::{inbox_events, ledger_entries, members, orders};
use boomerang::db::types::Platform;
use boomerang::db::{write_transaction, Db, DbConnection};
use boomerang::services::inbox::{receive, Delivery, Receipt};
use boomerang::services::ledger::{confirm_due, LedgerError};

use crate::helpers::{order_json, refund_json, TestApp};

const ADA: (u64, &str) = (7001, "ada@example.com");
const BOB: (u64, &str) = (7002, "bob@example.com");
const GUS: (u64, &str) = (8001, "gus@example.com");

/// (topic, body) of one shop's deliveries, in the order the events happened:
/// - Ada's order 500 (109.99 → 109 points: 99 on line 11, 10 on line 12) is created unpaid,
///   paid, refunded one unit of line 11 twice (33 then 66 cumulatively) and updated;
/// - Bob's order 501 (50.00) is paid and half refunded, and cancelled with `with_cancellation`;
/// - a guest order 502 (42.00) by Gus, whose account appears later, gets 10.00 back without lines.
fn history(with_cancellation: bool) -> Vec<(&'static str, Value)> {
    let ada_lines = [(11, 3, "33.33"), (12, 1, "10.00")];
    let mut ada_updated = order_json(500, Some(ADA), "partially_refunded", &ada_lines);
    ada_updated["updated_at"] = json!("2026-11-22T10:00:05Z");
    ada_updated["line_items"][0]["current_quantity"] = json!(1);
    let mut second_refund = refund_json(904, 500, &[(11, 1, "33.33")], "33.33");
    second_refund["created_at"] = json!("2026-11-22T10:00:00Z");
    let bob_lines = [(21, 2, "25.00")];
    let mut guest = order_json(502, None, "paid", &[(31, 1, "42.00")]);
    guest["email"] = json!("Gus@Example.com ");
    let account = json!({
        "id": GUS.0, "email": GUS.1, "verified_email": true, "first_name": "Gus", "last_name": "Guest",
        "created_at": "2026-11-21T09:00:00Z", "updated_at": "2026-11-21T09:00:00Z",
        "email_marketing_consent": {"state": "subscribed"},
        "admin_graphql_api_id": format!("gid://shopify/Customer/{}", GUS.0),
    });
    let mut steps = vec![
        (
            "orders/create",
            order_json(500, Some(ADA), "pending", &ada_lines),
        ),
        (
            "orders/paid",
            order_json(500, Some(ADA), "paid", &ada_lines),
        ),
        (
            "refunds/create",
            refund_json(901, 500, &[(11, 1, "33.33")], "33.33"),
        ),
        ("refunds/create", second_refund),
        ("orders/updated", ada_updated),
        (
            "orders/paid",
            order_json(501, Some(BOB), "paid", &bob_lines),
        ),
        (
            "refunds/create",
            refund_json(902, 501, &[(21, 1, "25.00")], "25.00"),
        ),
        ("orders/paid", guest),
        ("customers/create", account),
        ("refunds/create", refund_json(903, 502, &[], "10.00")),
    ];
    if with_cancellation {
        let mut cancelled = order_json(501, Some(BOB), "partially_refunded", &bob_lines);
        cancelled["cancelled_at"] = json!("2026-11-23T12:00:00Z");
        cancelled["updated_at"] = json!("2026-11-23T12:00:00Z");
        cancelled["cancel_reason"] = json!("customer");
        steps.push(("orders/cancelled", cancelled));
    }
    steps
}

fn deliveries(domain: &str, history: &[(&'static str, Value)]) -> Vec<Delivery> {
    history
        .iter()
        .enumerate()
        .map(|(i, (topic, body))| Delivery {
            platform: Platform::Shopify,
            shop_domain: domain.to_owned(),
            topic: (*topic).to_owned(),
            delivery_id: format!("delivery-{i}"),
            event_id: Some(format!("event-{i}")),
            api_version: Some("2025-10".into()),
            triggered_at: None,
            payload: body.to_string(),
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    /// Delivers `deliveries[i]` (again, if it was delivered before).
    Deliver(usize),
    /// The return window passes: every pending line is confirmed.
    Confirm,
}

/// Compact, so that a shrunk failing plan reads on one line: `d3` delivers `deliveries[3]`,
/// `C` confirms.
impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Deliver(i) => write!(f, "d{i}"),
            Self::Confirm => f.write_str("C"),
        }
    }
}

#[derive(Clone)]
struct Plan(Vec<Step>);

impl std::fmt::Debug for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps: Vec<String> = self.0.iter().map(|s| format!("{s:?}")).collect();
        write!(f, "[{}]", steps.join(" "))
    }
}

/// Each delivery one to three times, and in a third of the cases one to three confirmations,
/// all shuffled.
fn plan(deliveries: usize) -> impl Strategy<Value = Plan> {
    (
        proptest::collection::vec(1usize..=3, deliveries),
        prop_oneof![2 => Just(0usize), 1 => 1usize..=3],
    )
        .prop_flat_map(|(copies, confirms)| {
            let mut steps: Vec<Step> = copies
                .iter()
                .enumerate()
                .flat_map(|(i, &n)| std::iter::repeat_n(Step::Deliver(i), n))
                .collect();
            steps.extend(std::iter::repeat_n(Step::Confirm, confirms));
            Just(steps).prop_shuffle().prop_map(Plan)
        })
}

fn far_future() -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2100, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
}

fn new_shop(c: &mut DbConnection, domain: &str) -> String {
    let keys = boomerang::crypto::Keys::derive(&"k".repeat(32).into());
    let id = boomerang::services::shops::add_shop(
        c,
        &keys,
        &boomerang::services::shops::ShopSpec {
            platform: Some(Platform::Shopify),
            domain: domain.to_owned(),
            currency: Some("USD".into()),
            ..Default::default()
        },
    )
    .unwrap()
    .shop
    .id;
    crate::helpers::backdate_install(c, &id);
    id
}

fn confirm(c: &mut DbConnection, shop_id: &str) {
    write_transaction(c, |c| -> Result<usize, LedgerError> {
        confirm_due(c, shop_id, far_future())
    })
    .unwrap();
}

/// Every member of the shop: balance = confirmed lines, pending = pending lines, both >= 0.
fn check_invariants(c: &mut DbConnection, shop_id: &str) -> Result<(), TestCaseError> {
    let rows: Vec<(String, Option<String>, i64, i64)> = members::table
        .filter(members::shop_id.eq(shop_id))
        .select((
            members::id,
            members::platform_customer_id,
            members::points_balance,
            members::pending_points,
        ))
        .load(c)
        .unwrap();
    for (id, customer, balance, pending) in rows {
        let lines: Vec<(i64, String)> = ledger_entries::table
            .filter(ledger_entries::shop_id.eq(shop_id))
            .filter(ledger_entries::member_id.eq(&id))
            .select((ledger_entries::delta, ledger_entries::status))
            .load(c)
            .unwrap();
        let sum = |status: &str| -> i64 {
            lines
                .iter()
                .filter(|(_, s)| s == status)
                .map(|(d, _)| d)
                .sum()
        };
        prop_assert_eq!(
            balance,
            sum("confirmed"),
            "member {:?}: balance = confirmed lines",
            customer
        );
        prop_assert_eq!(
            pending,
            sum("pending"),
            "member {:?}: pending = pending lines",
            customer
        );
        prop_assert!(
            balance >= 0 && pending >= 0,
            "member {:?}: {} / {}",
            customer,
            balance,
            pending
        );
    }
    Ok(())
}

/// (points_balance, pending_points, lifetime_points) of every live member, keyed by customer id
/// (guests by e-mail); merged guests are left out (their history moved to the account).
type Balances = BTreeMap<String, (i64, i64, i64)>;

/// A member row: customer id, e-mail, balance, pending, lifetime.
type MemberRow = (Option<String>, Option<String>, i64, i64, i64);

fn balances(c: &mut DbConnection, shop_id: &str) -> Balances {
    let rows: Vec<MemberRow> = members::table
        .filter(members::shop_id.eq(shop_id))
        .filter(members::merged_into.is_null())
        .select((
            members::platform_customer_id,
            members::email,
            members::points_balance,
            members::pending_points,
            members::lifetime_points,
        ))
        .load(c)
        .unwrap();
    rows.into_iter()
        .map(|(id, email, b, p, l)| {
            let key = id.unwrap_or_else(|| format!("guest:{}", email.unwrap_or_default()));
            (key, (b, p, l))
        })
        .collect()
}

/// Spendable + pending, and lifetime: what a confirmation cannot change.
fn totals(b: &Balances) -> BTreeMap<String, (i64, i64)> {
    b.iter()
        .map(|(k, (s, p, l))| (k.clone(), (s + p, *l)))
        .collect()
}

/// Delivers one step and checks the receipt and the invariants.
fn run_step(
    c: &mut DbConnection,
    shop_id: &str,
    deliveries: &[Delivery],
    seen: &mut HashSet<usize>,
    step: Step,
) -> Result<(), TestCaseError> {
    match step {
        Step::Deliver(i) => {
            let received = receive(c, &deliveries[i], |_| true).unwrap();
            let expected = if seen.insert(i) {
                Receipt::Accepted
            } else {
                Receipt::Duplicate
            };
            prop_assert_eq!(received.receipt, expected, "{}", deliveries[i].delivery_id);
        }
        Step::Confirm => confirm(c, shop_id),
    }
    check_invariants(c, shop_id)
}

/// Every stored delivery was applied (none failed, none left for a worker).
fn check_all_applied(c: &mut DbConnection, shop_id: &str) -> Result<(), TestCaseError> {
    let statuses: Vec<(String, String, Option<String>)> = inbox_events::table
        .filter(inbox_events::shop_id.eq(shop_id))
        .select((
            inbox_events::delivery_id,
            inbox_events::status,
            inbox_events::error,
        ))
        .load(c)
        .unwrap();
    for (delivery, status, error) in statuses {
        prop_assert!(
            status == "applied" || status == "ignored",
            "{} is {}: {:?}",
            delivery,
            status,
            error
        );
    }
    Ok(())
}

/// Balances after the deliveries in their canonical order, before and after the return window.
fn canonical(c: &mut DbConnection, history: &[(&'static str, Value)]) -> (Balances, Balances) {
    let domain = format!("canonical-{}.myshopify.com", uuid::Uuid::new_v4().simple());
    let shop_id = new_shop(c, &domain);
    let deliveries = deliveries(&domain, history);
    let mut seen = HashSet::new();
    for i in 0..deliveries.len() {
        run_step(c, &shop_id, &deliveries, &mut seen, Step::Deliver(i)).unwrap();
    }
    check_all_applied(c, &shop_id).unwrap();
    let before = balances(c, &shop_id);
    confirm(c, &shop_id);
    check_invariants(c, &shop_id).unwrap();
    (before, balances(c, &shop_id))
}

fn check_permutations(db: Db, with_cancellation: bool) -> Result<(), String> {
    let history = history(with_cancellation);
    let conn = std::cell::RefCell::new(db.get().unwrap());
    let (canonical_before, canonical_after) = canonical(&mut conn.borrow_mut(), &history);
    // The canonical run itself, by hand: Ada 109 - 66, Bob 50 - 25 (or nothing once cancelled),
    // Gus 42 - 10 on his account; all pending until the return window has passed.
    let bob = if with_cancellation { 0 } else { 25 };
    let expected: Balances = [
        ("7001".to_owned(), (0, 43, 43)),
        ("7002".to_owned(), (0, bob, bob)),
        ("8001".to_owned(), (0, 32, 32)),
    ]
    .into();
    assert_eq!(canonical_before, expected);
    let confirmed: Balances = expected
        .iter()
        .map(|(k, (_, p, l))| (k.clone(), (*p, 0, *l)))
        .collect();
    assert_eq!(canonical_after, confirmed);

    let case = std::cell::Cell::new(0usize);
    let mut runner = TestRunner::new(ProptestConfig {
        // PROPTEST_CASES=500 for a deeper run.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(16),
        failure_persistence: None,
        max_shrink_iters: 512,
        ..ProptestConfig::default()
    });
    let result = runner.run(&plan(history.len()), |Plan(steps)| {
        case.set(case.get() + 1);
        let mut guard = conn.borrow_mut();
        let c: &mut DbConnection = &mut guard;
        let domain = format!(
            "reorder-{}-{}.myshopify.com",
            case.get(),
            uuid::Uuid::new_v4().simple()
        );
        let shop_id = new_shop(c, &domain);
        let deliveries = deliveries(&domain, &history);
        let mut seen = HashSet::new();
        for step in &steps {
            run_step(c, &shop_id, &deliveries, &mut seen, *step)?;
        }
        check_all_applied(c, &shop_id)?;
        let got = balances(c, &shop_id);
        if steps.contains(&Step::Confirm) {
            prop_assert_eq!(
                totals(&got),
                totals(&canonical_before),
                "spendable + pending, and lifetime"
            );
        } else {
            prop_assert_eq!(&got, &canonical_before);
        }
        confirm(c, &shop_id);
        check_invariants(c, &shop_id)?;
        prop_assert_eq!(balances(c, &shop_id), canonical_after.clone());
        Ok(())
    });
    result.map_err(|e| {
        let legend: Vec<String> = history
            .iter()
            .enumerate()
            .map(|(i, (topic, body))| {
                let id = body.get("order_id").unwrap_or(&body["id"]);
                format!("d{i}={topic} {id}")
            })
            .collect();
        format!("{e}\nwhere {}", legend.join(", "))
    })
}

#[tokio::test]
async fn balances_do_not_depend_on_delivery_order_duplicates_or_when_points_confirm() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let outcome = tokio::task::spawn_blocking(move || check_permutations(db, false))
        .await
        .unwrap();
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[tokio::test]
async fn a_cancellation_wins_whatever_the_order_of_delivery() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    let outcome = tokio::task::spawn_blocking(move || check_permutations(db, true))
        .await
        .unwrap();
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

/// The order row records what was refunded even when the refund was delivered first.
#[tokio::test]
async fn an_order_row_counts_refunds_that_arrived_before_it() {
    let app = TestApp::spawn().await;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || {
        let mut c = db.get().unwrap();
        let history = history(false);
        // Bob's order and its refund, both ways round.
        for (name, order) in [("in-order", [5, 6]), ("refund-first", [6, 5])] {
            let domain = format!("{name}.myshopify.com");
            let shop_id = new_shop(&mut c, &domain);
            let deliveries = deliveries(&domain, &history);
            for i in order {
                receive(&mut c, &deliveries[i], |_| true).unwrap();
            }
            let (refunded, cancelled): (i64, bool) = orders::table
                .filter(orders::shop_id.eq(&shop_id))
                .filter(orders::platform_order_id.eq("501"))
                .select((orders::refunded_minor, orders::cancelled))
                .first(&mut c)
                .unwrap();
            assert_eq!((refunded, cancelled), (2500, false), "{name}");
        }
    })
    .await
    .unwrap();
}
