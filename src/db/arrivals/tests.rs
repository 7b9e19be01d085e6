use std::collections::HashSet;

use diesel::connection::SimpleConnection;

use super::*;
use crate::db::models::inbox_event::AboutRow;
use crate::db::models::{InboxEvent, NewInboxEvent, NewShop};
use crate::db::schema::inbox_events;
use crate::db::types::InstallState;
use crate::db::types::Platform;
use crate::db::{new_id, now, sqlite_db_in, write_transaction, Db};

fn migrated(dir: &tempfile::TempDir) -> Db {
    let db = sqlite_db_in(dir);
    db.migrate().unwrap_or_else(|e| panic!("migrate: {e}"));
    db
}

fn conn(db: &Db) -> DbConnection {
    db.own_connection()
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

fn add_shop(conn: &mut DbConnection, platform: Platform, domain: &str) -> String {
    let at = now();
    let shop = NewShop {
        id: new_id(),
        platform,
        domain: domain.into(),
        access_token_enc: None,
        webhook_secret_enc: None,
        api_key_hash: None,
        api_base: None,
        currency: "USD".into(),
        timezone: "UTC".into(),
        locale: "en".into(),
        install_state: InstallState::Installed,
        program: "{}".into(),
        is_demo: false,
        installed_at: at,
        uninstalled_at: None,
        created_at: at,
        updated_at: at,
    };
    write_transaction(conn, |c| shop.insert(c)).unwrap_or_else(|e| panic!("shop: {e}"));
    shop.id
}

fn delivery(shop_id: &str, platform: Platform, id: &str, event_id: Option<&str>) -> NewInboxEvent {
    NewInboxEvent {
        id: new_id(),
        shop_id: shop_id.into(),
        platform,
        topic: "orders/paid".into(),
        delivery_id: id.into(),
        event_id: event_id.map(str::to_owned),
        api_version: Some("2025-10".into()),
        triggered_at: None,
        // Long enough to be stored compressed.
        payload: format!("{{\"id\":1,\"note\":\"{}\"}}", "é".repeat(400)),
        status: InboxStatus::Pending,
        error: None,
        attempts: 0,
        received_at: now(),
        processed_at: None,
    }
}

fn store(conn: &mut DbConnection, rows: &[&NewInboxEvent]) -> HashSet<String> {
    let rows: Vec<AboutRow<'_>> = rows.iter().map(|r| (*r, Some("c1"), Some("o1"))).collect();
    arrivals_transaction(conn, |c| insert_all_once_about(c, &rows))
        .unwrap_or_else(|e| panic!("store: {e}"))
}

fn in_inbox(conn: &mut DbConnection) -> Vec<(String, String)> {
    inbox_events::table
        .order(inbox_events::received_at.asc())
        .select((inbox_events::id, inbox_events::status))
        .load(conn)
        .unwrap_or_else(|e| panic!("inbox: {e}"))
}

fn rows_in_file(conn: &mut DbConnection) -> i64 {
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("a SQLite file")
    };
    arrivals::table
        .count()
        .get_result(sqlite)
        .unwrap_or_else(|e| panic!("count: {e}"))
}

fn move_all(conn: &mut DbConnection) -> Moved {
    move_to_inbox(conn, 4096).unwrap_or_else(|e| panic!("move: {e}"))
}

#[test]
fn each_arrival_is_moved_into_the_inbox_once_and_then_forgotten() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut c = conn(&db);
    let shop = add_shop(&mut c, Platform::Shopify, "a.myshopify.com");
    let (a, b, a_again) = (
        delivery(&shop, Platform::Shopify, "d-a", None),
        delivery(&shop, Platform::Shopify, "d-b", None),
        delivery(&shop, Platform::Shopify, "d-a", None),
    );
    let stored = store(&mut c, &[&a, &b, &a_again]);
    assert_eq!(
        stored,
        HashSet::from([a.id.clone(), b.id.clone()]),
        "the first of equals"
    );
    assert_eq!(waiting(&mut c).ok(), Some(2));
    let listed = waiting_for_shop(&mut c, &shop, 10).unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(listed.len(), 2);
    assert_eq!(
        listed[0].payload, a.payload,
        "the body reads back as stored"
    );
    assert_eq!(listed[0].status, InboxStatus::Pending);
    let owner_sees = InboxEvent::list_by_status(&mut c, &shop, InboxStatus::Pending, 10)
        .unwrap_or_else(|e| panic!("list: {e}"));
    assert_eq!(owner_sees.len(), 2, "the owner's pending list counts them");

    assert_eq!(
        move_all(&mut c),
        Moved {
            taken: 2,
            into_inbox: 2
        }
    );
    let inbox = in_inbox(&mut c);
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().all(|(_, status)| status == "pending"));
    assert_eq!(
        inbox[0].0, a.id,
        "the ids the writer answered with are kept"
    );
    assert_eq!(waiting(&mut c).ok(), Some(0));
    assert_eq!(
        rows_in_file(&mut c),
        0,
        "moved rows are deleted from the file"
    );
    assert_eq!(move_all(&mut c), Moved::default(), "nothing is moved twice");

    // Redelivered once in the inbox: a duplicate, stored nowhere.
    let again = delivery(&shop, Platform::Shopify, "d-b", None);
    assert!(store(&mut c, &[&again]).is_empty());
    assert_eq!(waiting(&mut c).ok(), Some(0));
    // While it waits in the file, a delivery stored straight into the inbox finds it.
    let c_row = delivery(&shop, Platform::Shopify, "d-c", None);
    assert_eq!(store(&mut c, &[&c_row]).len(), 1);
    assert!(holds(&mut c, &shop, Platform::Shopify, "d-c", None).unwrap_or(false));
    assert!(!holds(&mut c, &shop, Platform::Shopify, "d-x", None).unwrap_or(true));
}

#[test]
fn rows_a_crash_left_behind_after_their_move_are_never_moved_again() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut c = conn(&db);
    let shop = add_shop(&mut c, Platform::Shopify, "a.myshopify.com");
    let a = delivery(&shop, Platform::Shopify, "d-a", None);
    store(&mut c, &[&a]);
    assert_eq!(move_all(&mut c).into_inbox, 1);
    // What a crash between the move's commit and the deletion leaves: the row still in the file.
    let DbConnection::Sqlite(sqlite) = &mut c else {
        unreachable!("a SQLite file")
    };
    sqlite
        .batch_execute(&format!(
            "INSERT INTO arrivals.arrivals (seq, id, shop_id, platform, topic, delivery_id, \
             payload, received_at) VALUES (1, 'left', '{shop}', 'shopify', 'orders/paid', \
             'd-left', '{{}}', '2026-12-05 10:00:00')"
        ))
        .unwrap_or_else(|e| panic!("leave: {e}"));
    assert_eq!(waiting(&mut c).ok(), Some(0), "below the mark: not waiting");
    assert_eq!(move_all(&mut c), Moved::default());
    assert_eq!(in_inbox(&mut c).len(), 1, "not moved again");
    assert_eq!(rows_in_file(&mut c), 0, "and deleted");
}

#[test]
fn a_new_arrivals_file_is_moved_from_its_first_row() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut c = conn(&db);
    let shop = add_shop(&mut c, Platform::Shopify, "a.myshopify.com");
    for n in 0..3 {
        store(
            &mut c,
            &[&delivery(&shop, Platform::Shopify, &format!("d-{n}"), None)],
        );
    }
    assert_eq!(move_all(&mut c).into_inbox, 3);
    // The file replaced by a fresh one (deleted by hand, say): its numbers start again at 1.
    let DbConnection::Sqlite(sqlite) = &mut c else {
        unreachable!("a SQLite file")
    };
    sqlite
        .batch_execute(
            "UPDATE arrivals.file SET id = 'another'; DELETE FROM arrivals.sqlite_sequence;",
        )
        .unwrap_or_else(|e| panic!("replace: {e}"));
    let fresh = delivery(&shop, Platform::Shopify, "d-fresh", None);
    store(&mut c, &[&fresh]);
    assert_eq!(waiting(&mut c).ok(), Some(1));
    assert_eq!(move_all(&mut c).into_inbox, 1);
    assert!(in_inbox(&mut c).iter().any(|(id, _)| *id == fresh.id));
}

#[test]
fn arrivals_of_a_shop_erased_since_are_dropped_not_moved() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut c = conn(&db);
    let erased = add_shop(&mut c, Platform::Shopify, "gone.myshopify.com");
    let kept = add_shop(&mut c, Platform::Shopify, "kept.myshopify.com");
    store(
        &mut c,
        &[
            &delivery(&erased, Platform::Shopify, "d-1", None),
            &delivery(&kept, Platform::Shopify, "d-1", None),
        ],
    );
    write_transaction(&mut c, |c| {
        diesel::update(crate::db::schema::shops::table.find(&erased))
            .set(crate::db::schema::shops::install_state.eq("redacted"))
            .execute(c)
    })
    .unwrap_or_else(|e| panic!("erase: {e}"));
    assert_eq!(
        move_all(&mut c),
        Moved {
            taken: 2,
            into_inbox: 1
        }
    );
    assert_eq!(waiting(&mut c).ok(), Some(0));
    assert_eq!(rows_in_file(&mut c), 0);
}

#[test]
fn a_woocommerce_delivery_header_seen_before_makes_a_duplicate() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut c = conn(&db);
    let shop = add_shop(&mut c, Platform::WooCommerce, "shop.example");
    let first = delivery(&shop, Platform::WooCommerce, "hash-1", Some("wc-7"));
    store(&mut c, &[&first]);
    // Same header, another body (so another content hash): waiting, then in the inbox.
    let waiting_copy = delivery(&shop, Platform::WooCommerce, "hash-2", Some("wc-7"));
    assert!(store(&mut c, &[&waiting_copy]).is_empty());
    assert!(holds(&mut c, &shop, Platform::WooCommerce, "hash-3", Some("wc-7")).unwrap_or(false));
    move_all(&mut c);
    let moved_copy = delivery(&shop, Platform::WooCommerce, "hash-3", Some("wc-7"));
    assert!(store(&mut c, &[&moved_copy]).is_empty());
    assert_eq!(in_inbox(&mut c).len(), 1);
}

fn busy_timeout_zero(conn: &mut DbConnection) {
    let DbConnection::Sqlite(sqlite) = conn else {
        unreachable!("a SQLite file")
    };
    sqlite
        .batch_execute("PRAGMA busy_timeout = 0")
        .unwrap_or_else(|e| panic!("pragma: {e}"));
}

#[test]
fn the_writer_and_the_main_files_writers_hold_different_locks_from_their_first_statement() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let db = migrated(&dir);
    let mut main_writer = conn(&db);
    let shop = add_shop(&mut main_writer, Platform::Shopify, "a.myshopify.com");
    let mut writer = conn(&db);
    let mut other = conn(&db);
    // With busy_timeout 0 a lock held by another connection fails at once instead of waiting.
    for c in [&mut main_writer, &mut writer, &mut other] {
        busy_timeout_zero(c);
    }
    let stored = write_transaction(&mut main_writer, |_| {
        Ok::<_, diesel::result::Error>(store(
            &mut writer,
            &[&delivery(&shop, Platform::Shopify, "d-1", None)],
        ))
    })
    .unwrap_or_else(|e| panic!("main: {e}"));
    assert_eq!(
        stored.len(),
        1,
        "the writer stores while the main file is being written"
    );
    arrivals_transaction(&mut writer, |_| {
        write_transaction(&mut main_writer, |c| {
            c.batch_execute("UPDATE main.arrivals_moved SET upto = upto")
        })
    })
    .unwrap_or_else(|e| panic!("the main file is written while the writer stores: {e}"));
    let DbConnection::Sqlite(other) = &mut other else {
        unreachable!("a SQLite file")
    };
    let main_blocked = write_transaction(&mut main_writer, |_| {
        Ok::<_, diesel::result::Error>(
            other.batch_execute("UPDATE main.arrivals_moved SET upto = upto"),
        )
    })
    .unwrap_or_else(|e| panic!("main: {e}"));
    assert!(
        main_blocked.is_err(),
        "a main transaction holds its lock from the start"
    );
    let arrivals_blocked = arrivals_transaction(&mut writer, |_| {
        Ok::<_, diesel::result::Error>(other.batch_execute("UPDATE arrivals.file SET id = id"))
    })
    .unwrap_or_else(|e| panic!("arrivals: {e}"));
    assert!(
        arrivals_blocked.is_err(),
        "the writer holds its lock from the start"
    );
}
