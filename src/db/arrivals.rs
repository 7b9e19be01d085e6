//! SQLite: deliveries acknowledged and not yet in the inbox, kept in a file of their own
//! (`<database>-arrivals`, attached to every connection as `arrivals`).
//!
//! Why: SQLite has one write lock per file. With the inbox in the main file, every
//! acknowledgement and every applier batch took turns on it, so the applier applied next to
//! nothing while a burst was being acknowledged (each event it applied delayed the
//! acknowledgements), and applied the burst afterwards alone, with one core idle
//! (docs/PERFORMANCE.md, twentieth, twenty-first and twenty-fourth sessions). The acknowledging
//! writer now stores deliveries here, under this file's lock alone, and the applier moves them
//! into `inbox_events` (everything else reads the inbox as before) under the main file's lock
//! alone: each waits only for the other's brief moments on the lock it needs.
//!
//! Exactly once across two files. SQLite commits attached files one after the other, and in
//! WAL mode not atomically, so nothing here relies on the two files' commits agreeing:
//! - every arrival gets a sequence number that is never used again (`AUTOINCREMENT`, even after
//!   the rows before it are deleted);
//! - a move inserts the next arrivals into the inbox *and* records the last number it moved
//!   (`arrivals_moved`, in the main file) in one main transaction, synced to disk: whatever
//!   happens afterwards, an arrival is moved once;
//! - moved arrivals are deleted from this file afterwards, in a transaction of their own; rows
//!   a crash or a power cut leaves behind are at or below the mark, never moved again, and
//!   deleted by the next move;
//! - the file has an id of its own and the mark is kept per file id, so an arrivals file
//!   deleted or replaced by hand starts again from its first row rather than being skipped.
//!
//! Duplicates: a delivery is new only if neither the inbox nor this file holds it. The writer
//! takes this file's lock *before* it reads the inbox, so an arrival moved and deleted is
//! always found in one or the other. Arrivals of a shop that is gone or whose data was erased
//! (`shop/redact`) are dropped when moved, as the writer would have refused them by then.
//!
//! A build older than this module does not know the file: deliveries waiting in it when one is
//! started again would not be applied (as with `stored_body`, no downgrade across this change).
//!
//! PostgreSQL has no such file: its writers do not wait for each other's tables, and the inbox
//! is written directly (`services::inbox`).

use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;

use super::types::InboxStatus;
use super::DbConnection;

mod table {
    diesel::table! {
        arrivals.arrivals (seq) {
            seq -> BigInt,
            id -> Text,
            shop_id -> Text,
            platform -> Text,
            topic -> Text,
            delivery_id -> Text,
            event_id -> Nullable<Text>,
            api_version -> Nullable<Text>,
            triggered_at -> Nullable<Timestamp>,
            payload -> Text,
            received_at -> Timestamp,
            customer_id -> Nullable<Text>,
            order_id -> Nullable<Text>,
        }
    }
}
use table::arrivals;

/// The arrivals file beside the database file `database`.
pub fn file_beside(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-arrivals");
    PathBuf::from(name)
}

/// The tables, created when missing; `journal_mode` is kept in the file, `synchronous` is the
/// connection's: an acknowledged delivery must survive a power cut.
const SCHEMA: &str = "
PRAGMA arrivals.journal_mode = WAL;
PRAGMA arrivals.synchronous = FULL;
PRAGMA arrivals.journal_size_limit = 67108864;
CREATE TABLE IF NOT EXISTS arrivals.arrivals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL,
    shop_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    topic TEXT NOT NULL,
    delivery_id TEXT NOT NULL,
    event_id TEXT,
    api_version TEXT,
    triggered_at TIMESTAMP,
    payload TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    customer_id TEXT,
    order_id TEXT,
    UNIQUE (shop_id, platform, delivery_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS arrivals.arrivals_woocommerce_delivery
    ON arrivals (shop_id, event_id) WHERE platform = 'woocommerce' AND event_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS arrivals.file (id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS main.arrivals_moved (
    file_id TEXT PRIMARY KEY NOT NULL,
    upto INTEGER NOT NULL
);
";

/// Takes the main file's write lock and no other: the statement writes nothing, but opens a
/// write transaction on `main`. (`BEGIN IMMEDIATE` would take every attached file's lock,
/// the arrivals file's too, and hold up every acknowledgement for the whole transaction.)
pub(super) const LOCK_MAIN: &str = "UPDATE main.arrivals_moved SET upto = upto WHERE 0";

/// The same for the arrivals file alone.
const LOCK_ARRIVALS: &str = "UPDATE arrivals.file SET id = id WHERE 0";

/// Serialises the process's writes to the arrivals file (the writer's stores, the applier's
/// deletions of what it moved) in order, as `transactions::SQLITE_WRITER` does the main file's:
/// SQLite's busy handler sleep-polls, and against a writer that commits every few milliseconds
/// a deletion waiting there once missed its turn for most of a second.
static ARRIVALS_WRITER: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

#[derive(QueryableByName)]
struct FileId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The next arrivals to move: the last of them and how many.
#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
    #[diesel(sql_type = BigInt)]
    rows: i64,
}

#[derive(QueryableByName)]
struct Seq {
    #[diesel(sql_type = Nullable<BigInt>)]
    seq: Option<i64>,
}

/// Attaches the arrivals file to a new connection to `database`, creating what is missing.
pub(super) fn attach(conn: &mut SqliteConnection, database: &Path) -> QueryResult<()> {
    diesel::sql_query("ATTACH DATABASE ? AS arrivals")
        .bind::<Text, _>(file_beside(database).to_string_lossy().into_owned())
        .execute(conn)?;
    conn.batch_execute(SCHEMA)?;
    // Read first: inserting takes the file's write lock, which the writer may be holding.
    if file_id(conn)?.is_none() {
        conn.batch_execute(
            "INSERT INTO arrivals.file (id) SELECT lower(hex(randomblob(16))) \
             WHERE NOT EXISTS (SELECT 1 FROM arrivals.file)",
        )?;
    }
    Ok(())
}

fn file_id(conn: &mut SqliteConnection) -> QueryResult<Option<String>> {
    Ok(diesel::sql_query("SELECT id FROM arrivals.file LIMIT 1")
        .get_result::<FileId>(conn)
        .optional()?
        .map(|f| f.id))
}

/// The last arrival moved into the inbox from the arrivals file `file` (0: none yet).
fn moved_upto(conn: &mut SqliteConnection, file: &str) -> QueryResult<i64> {
    Ok(
        diesel::sql_query("SELECT upto AS seq FROM main.arrivals_moved WHERE file_id = ?")
            .bind::<Text, _>(file)
            .get_result::<Seq>(conn)
            .optional()?
            .and_then(|s| s.seq)
            .unwrap_or(0),
    )
}

/// Runs `f` in a transaction holding the arrivals file's write lock alone, committed to disk
/// (the writer's: what it stores is acknowledged). Not serialised with the main file's writers.
pub fn arrivals_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::QueryBuilderError(
            "the arrivals file is SQLite's alone".into(),
        )
        .into());
    };
    let _writer = ARRIVALS_WRITER.lock();
    sqlite.batch_execute("PRAGMA arrivals.synchronous = FULL")?;
    super::transactions::sqlite_transaction(conn, LOCK_ARRIVALS, f)
}

/// What a move did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Arrivals taken from the file (moved or dropped).
    pub taken: usize,
    /// Of those, rows now pending in the inbox.
    pub into_inbox: usize,
}

/// Moves up to `at_most` of the oldest arrivals into the inbox (`pending`), in a synced write
/// transaction of the main file, then deletes them from the arrivals file. Nothing on
/// PostgreSQL. Run by the applier before it claims from the inbox.
pub fn move_to_inbox(conn: &mut DbConnection, at_most: i64) -> QueryResult<Moved> {
    if !matches!(conn, DbConnection::Sqlite(_)) {
        return Ok(Moved::default());
    }
    let (moved, upto) = super::write_transaction(conn, |c| {
        let DbConnection::Sqlite(sqlite) = c else {
            unreachable!("checked above")
        };
        let Some(file) = file_id(sqlite)? else {
            return Ok((Moved::default(), 0));
        };
        let from = moved_upto(sqlite, &file)?;
        let next = diesel::sql_query(
            "SELECT max(seq) AS seq, count(*) AS rows FROM \
             (SELECT seq FROM arrivals.arrivals WHERE seq > ? ORDER BY seq LIMIT ?)",
        )
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(at_most.max(1))
        .get_result::<Next>(sqlite)?;
        let Some(top) = next.seq else {
            // Nothing new. Rows a crash left behind after their move (at or below the mark)
            // are deleted below, and only then: no lock is taken for nothing.
            let left_behind = diesel::select(diesel::dsl::exists(
                arrivals::table.filter(arrivals::seq.le(from)),
            ))
            .get_result::<bool>(sqlite)?;
            return Ok((Moved::default(), if left_behind { from } else { 0 }));
        };
        let taken = next.rows;
        // The shop as it is now: arrivals of a shop gone or erased since are not moved.
        let into_inbox = diesel::sql_query(
            "INSERT INTO main.inbox_events (id, shop_id, platform, topic, delivery_id, event_id, \
             api_version, triggered_at, payload, status, error, attempts, received_at, \
             processed_at, customer_id, order_id) \
             SELECT a.id, a.shop_id, a.platform, a.topic, a.delivery_id, a.event_id, \
             a.api_version, a.triggered_at, a.payload, ?, NULL, 0, a.received_at, NULL, \
             a.customer_id, a.order_id \
             FROM arrivals.arrivals AS a \
             WHERE a.seq > ? AND a.seq <= ? AND EXISTS (SELECT 1 FROM main.shops AS s \
             WHERE s.id = a.shop_id AND s.install_state <> 'redacted') \
             ORDER BY a.seq \
             ON CONFLICT DO NOTHING",
        )
        .bind::<Text, _>(InboxStatus::Pending.as_str())
        .bind::<BigInt, _>(from)
        .bind::<BigInt, _>(top)
        .execute(sqlite)?;
        diesel::sql_query(
            "INSERT INTO main.arrivals_moved (file_id, upto) VALUES (?, ?) \
             ON CONFLICT (file_id) DO UPDATE SET upto = excluded.upto",
        )
        .bind::<Text, _>(&file)
        .bind::<BigInt, _>(top)
        .execute(sqlite)?;
        Ok::<_, diesel::result::Error>((
            Moved {
                taken: usize::try_from(taken).unwrap_or(0),
                into_inbox,
            },
            top,
        ))
    })?;
    if upto > 0 {
        forget_moved(conn, upto)?;
    }
    Ok(moved)
}

/// Deletes the arrivals moved already (up to `upto`), in a transaction of the arrivals file
/// alone. Not synced: rows a power cut brings back are below the mark and deleted again.
fn forget_moved(conn: &mut DbConnection, upto: i64) -> QueryResult<()> {
    let DbConnection::Sqlite(sqlite) = conn else {
        return Ok(());
    };
    let _writer = ARRIVALS_WRITER.lock();
    sqlite.batch_execute("PRAGMA arrivals.synchronous = NORMAL")?;
    let deleted = diesel::delete(arrivals::table.filter(arrivals::seq.le(upto))).execute(sqlite);
    sqlite.batch_execute("PRAGMA arrivals.synchronous = FULL")?;
    deleted.map(|_| ())
}

mod store;
mod waiting;
pub use store::{holds, insert_all_once_about};
pub use waiting::{waiting, waiting_for_shop};

#[cfg(test)]
mod tests;
