//! The database keeps to each statement's key for a shop its statistics have not seen (a new
//! install after the tables were analysed): a member is found by its id or the platform's
//! customer id through the index of that key, not by reading every member of the shop; an
//! applier's claim reads the pending events in order through the claim's index instead of
//! sorting all of them, and the owner's list of a shop's pending events reads that shop's. On both backends, with the statistics gathered by `ANALYZE` before the
//! new shop came (PostgreSQL's autovacuum does that on its own; SQLite only when asked).

use boomerang::db::DbConnection;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::helpers::{insert_member, TestApp};

#[derive(QueryableByName)]
struct PlanLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    line: String,
}

#[derive(QueryableByName)]
struct PlanStep {
    #[diesel(sql_type = Text)]
    detail: String,
}

/// The plan of `sql`, one line (PostgreSQL) or step (SQLite) each.
fn plan(c: &mut DbConnection, sql: &str) -> Vec<String> {
    match c {
        DbConnection::Postgresql(pg) => diesel::sql_query(format!("EXPLAIN {sql}"))
            .load::<PlanLine>(pg)
            .unwrap()
            .into_iter()
            .map(|l| l.line)
            .collect(),
        DbConnection::Sqlite(lite) => diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .load::<PlanStep>(lite)
            .unwrap()
            .into_iter()
            .map(|s| s.detail)
            .collect(),
    }
}

/// Stores a webhook delivery of `shop` in `status`, as the inbox does.
fn event(c: &mut DbConnection, shop: &str, delivery: &str, status: &str, attempts: i32) {
    c.batch_execute(&format!(
        "INSERT INTO inbox_events (id, shop_id, platform, topic, delivery_id, payload, status, \
         attempts, received_at) VALUES ('{shop}-{delivery}', '{shop}', 'shopify', 'orders/paid', \
         '{delivery}', '{{}}', '{status}', {attempts}, '2026-12-01 10:00:00')"
    ))
    .unwrap();
}

#[tokio::test]
async fn a_shop_the_statistics_have_not_seen_is_still_read_by_its_keys() {
    let app = TestApp::spawn().await;
    let old = app.add_shop("planner-old.myshopify.com", "USD").await;
    let new = app.add_shop("planner-new.myshopify.com", "USD").await;
    let postgres = app.test_db.is_postgres();
    let (member, account, claim, pending) = app
        .with_db(move |c| {
            for i in 0..400 {
                let email = format!("old-{i}@example.com");
                insert_member(c, &old, Some(&format!("old-{i}")), Some(&email));
                event(c, &old, &format!("old-{i}"), "applied", 1);
            }
            c.batch_execute("ANALYZE").unwrap();
            let mut newest = None;
            for i in 0..200 {
                let email = format!("new-{i}@example.com");
                newest = Some(insert_member(
                    c,
                    &new,
                    Some(&format!("new-{i}")),
                    Some(&email),
                ));
                event(c, &new, &format!("new-{i}"), "pending", 0);
            }
            let m = newest.unwrap();
            let member = plan(
                c,
                &format!(
                    "UPDATE members SET points_balance = points_balance + 5 \
                     WHERE shop_id = '{new}' AND id = '{}' \
                     AND (points_balance + pending_points) <= 100 AND lifetime_points <= 100",
                    m.id
                ),
            );
            let account = plan(
                c,
                &format!(
                    "SELECT id FROM members WHERE shop_id = '{new}' \
                     AND platform_customer_id = 'new-7'"
                ),
            );
            let claim = if matches!(c, DbConnection::Postgresql(_)) {
                // As the applier sends it: its state and attempts as bound values, which the
                // claim index's predicate must still be matched against (PostgreSQL plans an
                // unnamed statement for the values it is sent with, as for this first run).
                c.batch_execute(
                    "PREPARE claim(text, integer) AS SELECT id FROM inbox_events \
                     WHERE status = $1 AND attempts = $2 ORDER BY received_at, id LIMIT 16 \
                     FOR UPDATE SKIP LOCKED",
                )
                .unwrap();
                let lines = plan(c, "EXECUTE claim('pending', 0)");
                c.batch_execute("DEALLOCATE claim").unwrap();
                lines
            } else {
                plan(
                    c,
                    "SELECT id FROM inbox_events WHERE status = 'pending' AND attempts = 0 \
                     ORDER BY received_at, id LIMIT 16",
                )
            };
            let pending = plan(
                c,
                &format!(
                    "SELECT id FROM inbox_events WHERE shop_id = '{new}' AND status = 'pending' \
                     ORDER BY received_at LIMIT 1"
                ),
            );
            (member, account, claim, pending)
        })
        .await;
    let mentions = |plan: &[String], needle: &str| plan.iter().any(|l| l.contains(needle));
    if postgres {
        let cond = |plan: &[String]| -> String {
            plan.iter()
                .find(|l| l.contains("Index Cond"))
                .cloned()
                .unwrap_or_else(|| panic!("no index used: {plan:#?}"))
        };
        assert!(cond(&member).contains("(id = '"), "{member:#?}");
        assert!(
            mentions(&account, "members_shop_id_platform_customer_id_key"),
            "{account:#?}"
        );
        assert!(
            mentions(&claim, "inbox_events_claim")
                && !claim
                    .iter()
                    .any(|l| l.trim_start().starts_with("-> Sort")
                        || l.trim_start().starts_with("Sort")),
            "{claim:#?}"
        );
        assert!(
            mentions(&pending, "inbox_events_shop_status"),
            "{pending:#?}"
        );
    } else {
        assert!(
            member
                .iter()
                .any(|s| s.contains(" id=?") || s.contains("(id=?")),
            "{member:#?}"
        );
        assert!(
            mentions(&account, "(shop_id=? AND platform_customer_id=?)"),
            "{account:#?}"
        );
        assert!(
            mentions(&claim, "inbox_events_claim") && !mentions(&claim, "TEMP B-TREE"),
            "{claim:#?}"
        );
        assert!(
            mentions(
                &pending,
                "inbox_events_shop_status (shop_id=? AND status=?)"
            ),
            "{pending:#?}"
        );
    }
}

#[derive(QueryableByName)]
struct Table {
    #[diesel(sql_type = Text)]
    relname: String,
}

/// Every table's shop_id and the queues' state columns are kept out of PostgreSQL's statistics
/// (see the migration `planner_keeps_to_keys`), including tables added later; SQLite gathers none at all, since
/// the app never runs ANALYZE there.
#[tokio::test]
async fn no_table_keeps_statistics_on_which_shops_it_holds() {
    let app = TestApp::spawn().await;
    let gathered = app
        .with_db(|c| match c {
            DbConnection::Postgresql(pg) => diesel::sql_query(
                "SELECT c.relname::text AS relname FROM pg_attribute a \
                 JOIN pg_class c ON c.oid = a.attrelid \
                 WHERE (a.attname = 'shop_id' \
                        OR (c.relname = 'inbox_events' AND a.attname IN ('status', 'attempts')) \
                        OR (c.relname IN ('jobs', 'emails') AND a.attname = 'status')) \
                 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') \
                 AND c.relnamespace = current_schema()::regnamespace \
                 AND COALESCE(a.attstattarget, -1) <> 0",
            )
            .load::<Table>(pg)
            .unwrap(),
            DbConnection::Sqlite(lite) => diesel::sql_query(
                "SELECT name AS relname FROM sqlite_master WHERE name LIKE 'sqlite_stat%'",
            )
            .load::<Table>(lite)
            .unwrap(),
        })
        .await;
    let names: Vec<String> = gathered.into_iter().map(|t| t.relname).collect();
    assert!(
        names.is_empty(),
        "statistics on which shops are held: {names:?}"
    );
}

/// Stores a ledger line of `member` in `status`, confirming at `confirms`.
fn line(c: &mut DbConnection, shop: &str, member: &str, n: usize, status: &str, confirms: &str) {
    c.batch_execute(&format!(
        "INSERT INTO ledger_entries (id, shop_id, member_id, delta, kind, status, source, \
         source_id, action, idempotency_key, confirms_at, created_at, updated_at) VALUES \
         ('{member}-{n}', '{shop}', '{member}', 10, 'earn', '{status}', 'order', '{member}-{n}', \
         'earn', 'order:{member}-{n}:earn', '{confirms}', '2026-12-01 10:00:00', \
         '2026-12-01 10:00:00')"
    ))
    .unwrap();
}

/// A member's pending points (the widget and the points mail) are read from the member's
/// history index, not from the index of every shop's pending lines by date: the migration
/// `pending_points_from_history` dropped the member's index of pending lines, one index fewer
/// to write per ledger line.
#[tokio::test]
async fn a_members_pending_points_are_read_from_their_history() {
    let app = TestApp::spawn().await;
    let shop = app.add_shop("planner-pending.myshopify.com", "USD").await;
    let postgres = app.test_db.is_postgres();
    let pending = app
        .with_db(move |c| {
            let mut members = Vec::new();
            for i in 0..200 {
                let email = format!("p-{i}@example.com");
                let m = insert_member(c, &shop, Some(&format!("p-{i}")), Some(&email));
                for n in 0..5 {
                    let status = if n % 2 == 0 { "pending" } else { "confirmed" };
                    line(c, &shop, &m.id, n, status, "2026-12-15 10:00:00");
                }
                members.push(m.id);
            }
            c.batch_execute("ANALYZE").unwrap();
            plan(
                c,
                &format!(
                    "SELECT confirms_at, delta FROM ledger_entries WHERE shop_id = '{shop}' \
                     AND member_id = '{}' AND status = 'pending'",
                    members[7]
                ),
            )
        })
        .await;
    let mentions = |needle: &str| pending.iter().any(|l| l.contains(needle));
    assert!(mentions("ledger_entries_history"), "{pending:#?}");
    if !postgres {
        assert!(
            mentions("(shop_id=? AND member_id=?)"),
            "the member's lines only: {pending:#?}"
        );
    }
}

/// The plan of a statement diesel built (its SQL as written for the backend, its values bound
/// in order: the shop and the ids for each use of them).
fn plan_of_shop_keys(c: &mut DbConnection, shop: &str, ids: &[String]) -> Vec<String> {
    use boomerang::db::schema::metric_orders;
    use boomerang::db::shop_keys::shop_keys;
    use diesel::sql_types::Array;
    let delete = diesel::delete(metric_orders::table.filter(shop_keys(
        metric_orders::shop_id,
        shop,
        metric_orders::order_id,
        ids,
    )));
    match c {
        DbConnection::Postgresql(pg) => {
            let sql = diesel::debug_query::<diesel::pg::Pg, _>(&delete).to_string();
            let sql = sql.split(" -- binds").next().unwrap_or_default().to_owned();
            diesel::sql_query(format!("EXPLAIN {sql}"))
                .bind::<Array<Text>, _>(ids)
                .bind::<Text, _>(shop)
                .load::<PlanLine>(pg)
                .unwrap()
                .into_iter()
                .map(|l| l.line)
                .collect()
        }
        DbConnection::Sqlite(lite) => {
            let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&delete).to_string();
            let sql = sql.split(" -- binds").next().unwrap_or_default().to_owned();
            diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                .bind::<Text, _>(shop)
                .bind::<Text, _>(serde_json::to_string(ids).unwrap())
                .load::<PlanStep>(lite)
                .unwrap()
                .into_iter()
                .map(|s| s.detail)
                .collect()
        }
    }
}

/// An applier batch's statement with a list of ids (`db::shop_keys`) finds each id through the
/// index of (shop, id), on a young table that holds one shop's rows: PostgreSQL, which keeps no
/// statistics on `shop_id`, otherwise takes the shop for 0.5 % of the table and reads all of its
/// rows through any index that starts with `shop_id`, the ids as a filter.
#[tokio::test]
async fn a_batch_finds_its_ids_by_the_shops_key_on_a_young_table() {
    let app = TestApp::spawn().await;
    let shop = app.add_shop("planner-young.myshopify.com", "USD").await;
    let postgres = app.test_db.is_postgres();
    let plan = app
        .with_db(move |c| {
            let day = if matches!(c, DbConnection::Postgresql(_)) {
                "DATE '2026-12-01'"
            } else {
                "'2026-12-01'"
            };
            c.batch_execute(&format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) \
                 INSERT INTO metric_orders (shop_id, order_id, customer_id, ordered_on, \
                 net_minor, member) SELECT '{shop}', 'o-' || i, 'c-' || (i % 500), {day}, \
                 1000, TRUE FROM n"
            ))
            .unwrap();
            let ids: Vec<String> = (1..=128).map(|i| format!("o-{}", i * 37)).collect();
            plan_of_shop_keys(c, &shop, &ids)
        })
        .await;
    let mentions = |needle: &str| plan.iter().any(|l| l.contains(needle));
    if postgres {
        assert!(
            mentions("metric_orders_pkey") && mentions("order_id = probe.key"),
            "one probe of the key per id: {plan:#?}"
        );
        // The rows themselves by their ctids: no scan of the shop's range through another
        // index that starts with shop_id (metric_orders_by_customer), nor of the table.
        assert!(mentions("Tid Scan"), "{plan:#?}");
        assert!(
            !mentions("metric_orders_by_customer") && !mentions("Seq Scan"),
            "{plan:#?}"
        );
    } else {
        assert!(mentions("(shop_id=? AND order_id=?)"), "{plan:#?}");
    }
}
