//! The retention roll-ups an applier batch keeps back while more deliveries wait
//! (`services::retention::backlog`): the points are applied at once, the roll-ups written when
//! a batch finds the inbox caught up, and what they say then is what applying the same history
//! one event at a time says. Driven through the applier's own entry point on a database of the
//! test's own, with no serving app whose applier would take the events first; rows that could
//! not be written are shown to the owner and retried through the serving app's admin API.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

use boomerang::db::schema::{inbox_events, rollup_backlog};
use boomerang::db::{DatabaseUrl, Db, DbConnection};
use boomerang::services::ingest::apply_pending;

use crate::helpers::{
    add_shop_in, order_json, placed_days_ago, refund_json, session_token, TestApp, TestDb,
};
use crate::ingest::store_pending_in;

const KEPT_BACK: &str = "kept-back.myshopify.com";
const ONE_AT_A_TIME: &str = "one-at-a-time.myshopify.com";

fn database() -> (TestDb, Db) {
    let (test_db, url) = TestDb::create();
    let db = Db::connect(&DatabaseUrl::parse(&url).unwrap(), 2).unwrap();
    db.migrate().unwrap();
    (test_db, db)
}

fn add_shop(c: &mut DbConnection, domain: &str) -> String {
    add_shop_in(c, domain, "USD")
}

fn order(id: u64, customer: Option<(u64, &str)>, amount: &str, days: i64) -> Value {
    placed_days_ago(
        order_json(id, customer, "paid", &[(id * 10, 1, amount)]),
        days,
    )
}

/// Forty events over several customers and days: repeat buyers, a refund, a cancellation, a
/// guest whose account later claims the guest's orders (a merge in the middle of a batch, which
/// writes the shop's kept-back roll-ups first), an anonymous order.
fn history() -> Vec<(String, String, String)> {
    let mut events: Vec<(&str, Value)> = Vec::new();
    let customers = [
        (8001, "a@example.com"),
        (8002, "b@example.com"),
        (8003, "c@example.com"),
        (8004, "d@example.com"),
        (8005, "e@example.com"),
    ];
    for i in 0..30u64 {
        let customer = customers[(i % 5) as usize];
        let days = 200 - i64::try_from(i).unwrap() * 6;
        events.push((
            "orders/paid",
            order(i + 1, Some(customer), &format!("{}.00", 20 + i), days),
        ));
    }
    events.push((
        "refunds/create",
        refund_json(901, 3, &[(30, 1, "22.00")], "22.00"),
    ));
    let mut cancelled = order(4, Some(customers[3]), "23.00", 182);
    cancelled["cancelled_at"] = json!("2026-06-01T10:00:00Z");
    cancelled["updated_at"] = cancelled["cancelled_at"].clone();
    events.push(("orders/cancelled", cancelled));
    events.push((
        "orders/paid",
        order(40, Some((0, "guest@example.com")), "15.00", 20),
    ));
    events.push((
        "orders/paid",
        order(41, Some((0, "guest@example.com")), "16.00", 10),
    ));
    events.push(("orders/paid", order(42, None, "17.00", 9)));
    events.push((
        "orders/paid",
        order(43, Some((8009, "guest@example.com")), "18.00", 2),
    ));
    for i in 0..4u64 {
        events.push((
            "orders/paid",
            order(50 + i, Some(customers[(i % 5) as usize]), "30.00", 1),
        ));
    }
    events
        .into_iter()
        .enumerate()
        .map(|(i, (topic, body))| (topic.to_owned(), format!("d{i}"), body.to_string()))
        .collect()
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    v: String,
}

/// The shop's roll-ups, with members named by customer id or e-mail and orders by the
/// platform's id (the rows' own ids differ between shops), each table sorted.
fn rollups(c: &mut DbConnection, shop_id: &str) -> Vec<Vec<String>> {
    let member = "COALESCE(m.platform_customer_id, m.email, '-')";
    let queries = [
        format!(
            "SELECT {member} || ' ' || COALESCE(CAST(f.first_order_on AS TEXT), '-') || ' ' || \
             COALESCE(CAST(f.last_order_on AS TEXT), '-') || ' ' || CAST(f.order_count AS TEXT) \
             || ' ' || CAST(f.net_spend_minor AS TEXT) AS v \
             FROM customer_facts f JOIN members m ON m.id = f.member_id WHERE f.shop_id = '{shop_id}'"
        ),
        format!(
            "SELECT o.platform_order_id || ' ' || COALESCE(m.platform_customer_id, m.email, \
             mo.customer_id, '-') || ' ' || CAST(mo.ordered_on AS TEXT) || ' ' || \
             CAST(mo.net_minor AS TEXT) || ' ' || CASE WHEN mo.member THEN 'member' ELSE 'guest' END AS v \
             FROM metric_orders mo JOIN orders o ON o.id = mo.order_id \
             LEFT JOIN members m ON m.id = mo.customer_id WHERE mo.shop_id = '{shop_id}'"
        ),
        format!(
            "SELECT COALESCE(m.platform_customer_id, m.email, s.customer_id) || ' ' || \
             CAST(s.started_on AS TEXT) || ' ' || CAST(s.last_order_on AS TEXT) || ' ' || \
             CAST(s.ended_on AS TEXT) AS v \
             FROM metric_spells s LEFT JOIN members m ON m.id = s.customer_id WHERE s.shop_id = '{shop_id}'"
        ),
        format!(
            "SELECT p.platform_order_id || ' ' || p.product_id || ' ' || {member} || ' ' || \
             CAST(p.purchased_on AS TEXT) AS v \
             FROM product_purchases p JOIN members m ON m.id = p.member_id WHERE p.shop_id = '{shop_id}'"
        ),
        format!(
            "SELECT {member} || ' ' || CAST(e.day AS TEXT) || ' ' || \
             COALESCE(CAST(e.previous_day AS TEXT), '-') AS v \
             FROM metric_engagement e JOIN members m ON m.id = e.member_id WHERE e.shop_id = '{shop_id}'"
        ),
        format!(
            "SELECT CAST(day AS TEXT) || ' ' || CAST(SUM(orders) AS TEXT) || ' ' || \
             CAST(SUM(revenue_minor) AS TEXT) || ' ' || CAST(SUM(member_orders) AS TEXT) || ' ' || \
             CAST(SUM(new_customers) AS TEXT) AS v \
             FROM metric_day_changes WHERE shop_id = '{shop_id}' GROUP BY day \
             HAVING SUM(orders) <> 0 OR SUM(revenue_minor) <> 0 OR SUM(new_customers) <> 0"
        ),
    ];
    queries.iter().map(|sql| sorted_lines(c, sql)).collect()
}

/// The `v` column of every row the query returns, sorted.
fn sorted_lines(c: &mut DbConnection, sql: &str) -> Vec<String> {
    let mut lines: Vec<String> = diesel::sql_query(sql)
        .load::<Line>(c)
        .unwrap()
        .into_iter()
        .map(|l| l.v)
        .collect();
    lines.sort();
    lines
}

/// The shop's messages, with members named by customer id or e-mail (and surveys' links, made
/// of random tokens, left out), sorted.
fn messages(c: &mut DbConnection, shop_id: &str) -> Vec<String> {
    sorted_lines(
        c,
        &format!(
            "SELECT COALESCE(m.platform_customer_id, m.email, '-') || ' ' || e.kind || ' ' || \
             e.occasion || ' ' || e.status || ' ' || CASE WHEN e.kind = 'nps_survey' AND \
             e.context <> '{{}}' THEN 'survey' ELSE e.context END AS v \
             FROM emails e JOIN members m ON m.id = e.member_id WHERE e.shop_id = '{shop_id}'"
        ),
    )
}

/// The shop's rows in a table with a `shop_id` column.
fn shop_rows(c: &mut DbConnection, table: &str, shop_id: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!(
        "SELECT COUNT(*) AS n FROM {table} WHERE shop_id = '{shop_id}'"
    ))
    .get_result::<Count>(c)
    .unwrap()
    .n
}

fn kept_back_rows(c: &mut DbConnection, shop_id: &str) -> i64 {
    shop_rows(c, "rollup_backlog", shop_id)
}

fn pending(c: &mut DbConnection) -> i64 {
    inbox_events::table
        .filter(inbox_events::status.eq("pending"))
        .count()
        .get_result(c)
        .unwrap()
}

#[test]
fn roll_ups_kept_back_during_a_backlog_are_written_once_it_is_caught_up_as_one_at_a_time() {
    let (_test_db, db) = database();
    let mut c = db.get().unwrap();
    let kept_back = add_shop(&mut c, KEPT_BACK);
    let one_at_a_time = add_shop(&mut c, ONE_AT_A_TIME);
    let history = history();
    assert!(history.len() > 32, "more than two full batches of 16");

    // The reference: each event stored and applied before the next (every claim comes back
    // short, so every batch writes its roll-ups itself).
    for event in &history {
        store_pending_in(&mut c, &one_at_a_time, vec![event.clone()]);
        while apply_pending(&db).unwrap() > 0 {}
    }
    assert_eq!(kept_back_rows(&mut c, &one_at_a_time), 0);

    // The whole history waiting at once: the first two batches come back full and keep their
    // roll-ups back; their points are applied all the same.
    store_pending_in(&mut c, &kept_back, history.clone());
    assert_eq!(apply_pending(&db).unwrap(), 16);
    assert_eq!(kept_back_rows(&mut c, &kept_back), 1);
    let awarded = shop_rows(&mut c, "ledger_entries", &kept_back);
    assert!(awarded >= 16, "the batch's orders earned: {awarded}");
    let counted = shop_rows(&mut c, "metric_orders", &kept_back);
    assert_eq!(counted, 0, "the roll-ups wait");
    let written_now: Vec<String> = messages(&mut c, &kept_back)
        .into_iter()
        .filter(|m| !m.contains(" nps_survey "))
        .collect();
    assert_eq!(
        written_now,
        Vec::<String>::new(),
        "the mail waits with them (but survey mail, whose rows later orders read)"
    );
    assert_eq!(apply_pending(&db).unwrap(), 16);
    assert_eq!(kept_back_rows(&mut c, &kept_back), 2);

    // The rest comes back short while the backlog waits: its events are applied at once, its
    // roll-ups and mail kept back too (the account claiming the guest among them wrote the two
    // earlier rows first); the next transaction, with nothing left to claim, writes the backlog.
    let rest = history.len() - 32;
    assert!(rest < 16, "the rest is one short claim");
    assert_eq!(apply_pending(&db).unwrap(), rest);
    assert_eq!(pending(&mut c), 0);
    assert_eq!(kept_back_rows(&mut c, &kept_back), 1);
    assert_eq!(
        apply_pending(&db).unwrap(),
        1,
        "the backlog's row, nothing claimed"
    );
    assert_eq!(apply_pending(&db).unwrap(), 0);
    assert_eq!(pending(&mut c), 0);
    assert_eq!(kept_back_rows(&mut c, &kept_back), 0);
    let written = rollups(&mut c, &kept_back);
    assert!(
        written.iter().all(|table| !table.is_empty()),
        "{written:#?}"
    );
    assert_eq!(written, rollups(&mut c, &one_at_a_time));
    let mail = messages(&mut c, &kept_back);
    assert!(mail.len() >= 16, "{mail:#?}");
    assert_eq!(
        mail,
        messages(&mut c, &one_at_a_time),
        "the same mail, once each"
    );
}

#[test]
fn a_kept_back_row_that_cannot_be_written_is_set_aside_and_blocks_nothing() {
    let (_test_db, db) = database();
    let mut c = db.get().unwrap();
    let shop_id = add_shop(&mut c, KEPT_BACK);
    diesel::insert_into(rollup_backlog::table)
        .values((
            rollup_backlog::id.eq(boomerang::db::new_id()),
            rollup_backlog::shop_id.eq(&shop_id),
            rollup_backlog::work.eq("{not json"),
            rollup_backlog::orders.eq(1),
            rollup_backlog::created_at.eq(boomerang::db::now()),
        ))
        .execute(&mut c)
        .unwrap();
    store_pending_in(
        &mut c,
        &shop_id,
        vec![(
            "orders/paid".into(),
            "lone".into(),
            order(1, Some((8101, "lone@example.com")), "25.00", 1).to_string(),
        )],
    );
    while apply_pending(&db).unwrap() > 0 {}
    assert_eq!(pending(&mut c), 0, "the order is applied");
    let rows: Vec<Option<String>> = rollup_backlog::table
        .filter(rollup_backlog::shop_id.eq(&shop_id))
        .select(rollup_backlog::error)
        .load(&mut c)
        .unwrap();
    assert_eq!(rows.len(), 1, "kept for the operator");
    assert!(
        rows[0]
            .as_deref()
            .is_some_and(|e| e.starts_with("unreadable")),
        "{rows:?}"
    );
    let counted = shop_rows(&mut c, "metric_orders", &shop_id);
    assert_eq!(counted, 1, "the order's own roll-ups are written");
}

#[test]
fn a_redaction_behind_kept_back_roll_ups_leaves_no_purchase_facts_of_the_customer() {
    let (_test_db, db) = database();
    let mut c = db.get().unwrap();
    let shop_id = add_shop(&mut c, KEPT_BACK);
    let ada = (8201, "ada@example.com");
    let mut events: Vec<(String, String, String)> = (0..20i64)
        .map(|i| {
            let id = u64::try_from(i).unwrap() + 1;
            (
                "orders/paid".to_owned(),
                format!("o{i}"),
                order(id, Some(ada), "20.00", 60 - i * 2).to_string(),
            )
        })
        .collect();
    events.push((
        "customers/redact".to_owned(),
        "redact".to_owned(),
        crate::compliance::redact_json(KEPT_BACK, ada, "orders_to_redact", &[]).to_string(),
    ));
    store_pending_in(&mut c, &shop_id, events);
    // Sixteen of Ada's orders applied, their facts kept back.
    assert_eq!(apply_pending(&db).unwrap(), 16);
    assert_eq!(kept_back_rows(&mut c, &shop_id), 1);
    // The redaction, in the next batch, writes them first and then erases them: nothing kept
    // back brings them back after it.
    while apply_pending(&db).unwrap() > 0 {}
    assert_eq!(pending(&mut c), 0);
    assert_eq!(kept_back_rows(&mut c, &shop_id), 0);
    let facts = shop_rows(&mut c, "customer_facts", &shop_id);
    assert_eq!(facts, 0, "a redacted customer's purchase facts stay erased");
    // Her points mail, kept back with them, was written before the redaction, which erased it.
    assert!(shop_rows(&mut c, "emails", &shop_id) > 0);
    let kept_her_facts: Vec<String> = messages(&mut c, &shop_id)
        .into_iter()
        .filter(|m| !m.ends_with(" {}"))
        .collect();
    assert_eq!(kept_her_facts, Vec::<String>::new());
}

/// Adds a backlog row of `shop_id` holding `work`, set aside with `error` as the catch-up
/// leaves a row it could not write.
fn set_aside_row(c: &mut DbConnection, shop_id: &str, work: &str, error: &str) -> String {
    let id = boomerang::db::new_id();
    diesel::insert_into(rollup_backlog::table)
        .values((
            rollup_backlog::id.eq(&id),
            rollup_backlog::shop_id.eq(shop_id),
            rollup_backlog::work.eq(work),
            rollup_backlog::orders.eq(0),
            rollup_backlog::error.eq(error),
            rollup_backlog::created_at.eq(boomerang::db::now()),
        ))
        .execute(c)
        .unwrap();
    id
}

/// A set-aside row's error (`None`: waiting in line), or whether it is gone (written).
fn backlog_row(c: &mut DbConnection, id: &str) -> Option<Option<String>> {
    rollup_backlog::table
        .find(id)
        .select(rollup_backlog::error)
        .first(c)
        .optional()
        .unwrap()
}

#[tokio::test]
async fn set_aside_reporting_rows_are_counted_in_the_alerts_and_retried_for_their_shop_alone() {
    const SHOP: &str = "set-aside.myshopify.com";
    const OTHER: &str = "set-aside-other.myshopify.com";
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let other_id = app.add_shop(OTHER, "USD").await;
    let token = session_token(SHOP);
    let (fixed, broken, others) = {
        let (shop_id, other_id) = (shop_id.clone(), other_id.clone());
        app.with_db(move |c| {
            (
                // What refused it is fixed now: it writes.
                set_aside_row(c, &shop_id, "{}", "a constraint refused it"),
                // Still unreadable: set aside again.
                set_aside_row(c, &shop_id, "{not json", "unreadable"),
                set_aside_row(c, &other_id, "{}", "a constraint refused it"),
            )
        })
        .await
    };
    let alerts = |token: String| {
        let app = &app;
        async move {
            let resp = app.admin_get(&token, "/api/admin/v1/alerts").await;
            assert_eq!(resp.status(), reqwest::StatusCode::OK);
            resp.json::<Value>().await.unwrap()["reporting_rows_set_aside"].clone()
        }
    };
    assert_eq!(alerts(token.clone()).await, 2, "the shop's own rows");

    let resp = app
        .admin_post(&token, "/api/admin/v1/reporting/retry", json!({}))
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::OK);
    assert_eq!(resp.json::<Value>().await.unwrap(), json!({ "retried": 2 }));
    // Back in line now: the serving app's applier may take them at its next sweep, so what is
    // checked is where they end up.

    // The applier's catch-up (driven here; the serving app's own may come first) writes the
    // fixed row and sets the unreadable one aside again; the other shop's row is untouched.
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || while apply_pending(&db).unwrap() > 0 {})
        .await
        .unwrap();
    let (fixed_row, broken_row, others_row) = app
        .with_db(move |c| {
            (
                backlog_row(c, &fixed),
                backlog_row(c, &broken),
                backlog_row(c, &others),
            )
        })
        .await;
    assert_eq!(fixed_row, None, "written and gone");
    assert!(
        broken_row
            .as_ref()
            .and_then(|e| e.as_deref())
            .is_some_and(|e| e.starts_with("unreadable")),
        "{broken_row:?}"
    );
    assert_eq!(others_row, Some(Some("a constraint refused it".to_owned())));
    assert_eq!(alerts(token.clone()).await, 1);
    assert_eq!(alerts(session_token(OTHER)).await, 1);

    // Without a session: refused, nothing changed. The other shop's retry takes its own row
    // alone; once nothing is set aside, nothing is retried.
    let resp = app
        .admin_post("not-a-token", "/api/admin/v1/reporting/retry", json!({}))
        .await;
    assert_eq!(resp.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_eq!(alerts(session_token(OTHER)).await, 1);
    for retried in [1, 0] {
        let resp = app
            .admin_post(
                &session_token(OTHER),
                "/api/admin/v1/reporting/retry",
                json!({}),
            )
            .await;
        assert_eq!(
            resp.json::<Value>().await.unwrap(),
            json!({ "retried": retried })
        );
    }
    assert_eq!(alerts(token).await, 1, "this shop's row stays set aside");
}

#[tokio::test]
async fn the_owner_sees_orders_missing_from_the_figures_and_retries_them_from_the_overview() {
    use crate::admin_ui::{get, post, sign_in};
    const SHOP: &str = "set-aside-ui.myshopify.com";
    const OTHER: &str = "set-aside-ui-other.myshopify.com";
    let app = TestApp::spawn().await;
    let shop_id = app.add_shop(SHOP, "USD").await;
    let other_id = app.add_shop(OTHER, "USD").await;
    let (cookie, csrf) = sign_in(&app, &shop_id).await;
    assert!(!get(&app, &cookie, "/app")
        .await
        .contains("id=\"reporting-set-aside\""));
    let (row, others) = {
        let (shop_id, other_id) = (shop_id.clone(), other_id.clone());
        app.with_db(move |c| {
            (
                set_aside_row(c, &shop_id, "{not json", "unreadable"),
                set_aside_row(c, &other_id, "{not json", "unreadable"),
            )
        })
        .await
    };
    let overview = get(&app, &cookie, "/app").await;
    assert!(
        overview.contains("Batches of orders whose figures and mail could not be written: 1"),
        "{overview}"
    );
    assert!(overview.contains("action=\"/app/reporting/retry\""));

    // Without the session's CSRF token: refused, nothing changed.
    let resp = post(&app, &cookie, "/app/reporting/retry", &[("csrf", "forged")]).await;
    assert_eq!(resp.status(), reqwest::StatusCode::FORBIDDEN);
    let error_of = |id: String| app.with_db(move |c| backlog_row(c, &id));
    assert_eq!(error_of(row.clone()).await, Some(Some("unreadable".into())));

    let resp = post(
        &app,
        &cookie,
        "/app/reporting/retry",
        &[("csrf", csrf.as_str())],
    )
    .await;
    assert_eq!(resp.status(), reqwest::StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()["location"], "/app");
    // Back in line (the serving app's applier may already have set it aside again, as it
    // still cannot be read); the other shop's row untouched.
    assert!(error_of(row.clone())
        .await
        .is_some_and(|e| e.is_none_or(|e| e.starts_with("unreadable:"))));
    assert_eq!(error_of(others).await, Some(Some("unreadable".into())));

    // In Arabic.
    app.set_shop_locale(&shop_id, "ar").await;
    let db = app.db.clone();
    tokio::task::spawn_blocking(move || while apply_pending(&db).unwrap() > 0 {})
        .await
        .unwrap();
    let (cookie, _) = sign_in(&app, &shop_id).await;
    let overview = get(&app, &cookie, "/app").await;
    assert!(
        overview.contains("دفعات طلبات تعذّرت كتابة أرقامها ورسائلها: 1"),
        "{overview}"
    );
    assert!(overview.contains("أعد كتابتها"));
}

/// A kept-back message as a batch stores it, for `member_id` of `shop_id`.
fn kept_message(shop_id: &str, member_id: &str, address: &str) -> Value {
    let at = boomerang::db::now();
    let row = boomerang::db::models::Email {
        id: boomerang::db::new_id(),
        shop_id: shop_id.into(),
        member_id: member_id.into(),
        kind: "points_earned".into(),
        occasion: format!("order:{member_id}"),
        locale: "en".into(),
        context: r##"{"order_name":"#1","points":20}"##.into(),
        to_address: None,
        subject: None,
        text_body: None,
        html_body: None,
        status: "queued".into(),
        variant: None,
        send_after: at,
        attempts: 0,
        lease_until: None,
        digest_id: None,
        error: None,
        sent_at: None,
        opened_at: None,
        created_at: at,
        updated_at: at,
        body_erased_at: None,
    };
    json!({ "row": row, "check_suppression": address })
}

#[test]
fn a_redaction_drops_the_customers_mail_from_set_aside_rows_and_keeps_the_rest() {
    let (_test_db, db) = database();
    let mut c = db.get().unwrap();
    let shop_id = add_shop(&mut c, KEPT_BACK);
    let (ada, bob) = ((8301, "ada@example.com"), (8302, "bob@example.com"));
    let orders = [(1, ada), (2, bob)]
        .into_iter()
        .map(|(id, who)| {
            (
                "orders/paid".to_owned(),
                format!("o{id}"),
                order(id, Some(who), "20.00", 1).to_string(),
            )
        })
        .collect();
    store_pending_in(&mut c, &shop_id, orders);
    while apply_pending(&db).unwrap() > 0 {}
    let member = |c: &mut DbConnection, customer: u64| -> String {
        boomerang::db::schema::members::table
            .filter(boomerang::db::schema::members::shop_id.eq(&shop_id))
            .filter(boomerang::db::schema::members::platform_customer_id.eq(customer.to_string()))
            .select(boomerang::db::schema::members::id)
            .first(c)
            .unwrap()
    };
    let (ada_id, bob_id) = (member(&mut c, ada.0), member(&mut c, bob.0));
    // Two rows a catch-up could not write: one that reads, holding both customers' mail, and
    // one that does not read and names Ada.
    let readable = json!({
        "messages": [kept_message(&shop_id, &ada_id, ada.1), kept_message(&shop_id, &bob_id, bob.1)],
    })
    .to_string();
    let rows = [
        set_aside_row(&mut c, &shop_id, &readable, "a constraint refused it"),
        set_aside_row(
            &mut c,
            &shop_id,
            &format!("{{\"messages\":[\"{ada_id}\""),
            "unreadable",
        ),
    ];

    store_pending_in(
        &mut c,
        &shop_id,
        vec![(
            "customers/redact".to_owned(),
            "redact-ada".to_owned(),
            crate::compliance::redact_json(KEPT_BACK, ada, "orders_to_redact", &[]).to_string(),
        )],
    );
    while apply_pending(&db).unwrap() > 0 {}
    assert_eq!(pending(&mut c), 0);
    let work: Vec<(String, Option<String>)> = rollup_backlog::table
        .filter(rollup_backlog::shop_id.eq(&shop_id))
        .select((rollup_backlog::work, rollup_backlog::error))
        .load(&mut c)
        .unwrap();
    assert_eq!(
        work.len(),
        1,
        "the unreadable row naming Ada is gone: {work:?}"
    );
    assert!(backlog_row(&mut c, &rows[1]).is_none());
    let (kept, error) = &work[0];
    assert_eq!(
        error.as_deref(),
        Some("a constraint refused it"),
        "still set aside"
    );
    assert!(!kept.contains(&ada_id) && !kept.contains(ada.1), "{kept}");
    assert!(
        kept.contains(&bob_id) && kept.contains(bob.1),
        "Bob's mail stays: {kept}"
    );
}
