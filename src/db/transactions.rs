//! Transactions on either engine: write transactions that hold the write lock from their first
//! statement, how durable their commit is, consistent read snapshots, and which errors are worth
//! running a transaction again for.

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::Connection;

use super::DbConnection;

/// Serialises SQLite write transactions within the process (see `write_transaction`). Fair:
/// a writer that just unlocked cannot take the lock again ahead of those already waiting (the
/// inbox applier would otherwise starve the acknowledging writer under load).
static SQLITE_WRITER: parking_lot::FairMutex<()> = parking_lot::const_fair_mutex(());

/// Runs `f` in a transaction that holds the write lock from its first statement.
///
/// SQLite allows one writer. A deferred transaction that reads first and writes later fails
/// with `SQLITE_BUSY` when it tries to upgrade, so a write transaction takes the main file's
/// lock with its first statement (`BEGIN IMMEDIATE` would, but would take the attached
/// arrivals file's too): a second writer then waits there (up to `busy_timeout`). On
/// PostgreSQL this is an ordinary transaction; code that must not interleave locks the rows it
/// changes (`SELECT … FOR UPDATE`).
pub fn write_transaction<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    write_transaction_with(conn, Durability::Synced, f)
}

/// Whether a write transaction's commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before the commit returns (SQLite `synchronous = FULL`, PostgreSQL's default):
    /// for anything acknowledged to someone outside, a webhook above all.
    Synced,
    /// Written to the log but not waited for (SQLite `synchronous = NORMAL`, PostgreSQL
    /// `synchronous_commit = off`). A power cut may lose the last such commits, never a part of
    /// one and never one before a later synced commit (the log is synced in order). Only for
    /// work whose input is already durable and is done again when its outcome is lost: an
    /// applier batch, whose events stay pending until the batch's own commit marks them applied.
    Replayable,
}

/// [`write_transaction`] with the commit's [`Durability`] chosen.
pub fn write_transaction_with<T, E, F>(
    conn: &mut DbConnection,
    durability: Durability,
    f: F,
) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(sqlite) = conn else {
        return conn.transaction(|c| {
            if durability == Durability::Replayable {
                c.batch_execute("SET LOCAL synchronous_commit = off")?;
            }
            f(c)
        });
    };
    // Writers queue here, in order, instead of in SQLite's busy handler, which sleep-polls and
    // under load lets some writers time out while others starve. One process-wide lock is right
    // for the common case of one SQLite file per process; tests with several files only queue.
    let _writer = SQLITE_WRITER.lock();
    // Set by every write transaction, so a connection a replayable one used last cannot commit
    // an acknowledgement unsynced.
    sqlite.batch_execute(match durability {
        Durability::Synced => "PRAGMA synchronous = FULL",
        Durability::Replayable => "PRAGMA synchronous = NORMAL",
    })?;
    // The main file's write lock alone, at once (`super::arrivals::LOCK_MAIN`).
    sqlite_transaction(conn, super::arrivals::LOCK_MAIN, f)
}

/// Runs `f` in a SQLite transaction whose first statement is `lock` (one that takes a file's
/// write lock and writes nothing), committed when `f` succeeds and rolled back otherwise.
pub(super) fn sqlite_transaction<T, E, F>(conn: &mut DbConnection, lock: &str, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConnection::Sqlite(sqlite) = conn else {
        return Err(diesel::result::Error::QueryBuilderError(
            "a SQLite transaction on another engine".into(),
        )
        .into());
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN")?;
    if let Err(e) = sqlite.batch_execute(lock) {
        let _ = AnsiTransactionManager::rollback_transaction(sqlite);
        return Err(e.into());
    }
    let outcome = f(conn);
    let DbConnection::Sqlite(sqlite) = conn else {
        // `f` cannot change which backend the connection is.
        return outcome;
    };
    match outcome {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(commit_error) => {
                // Same recovery as diesel's own `transaction`: try to roll back, report the commit error.
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(commit_error.into())
            }
        },
        Err(error) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(error)
        }
    }
}

/// Runs `f` in a read-only transaction that sees one snapshot of the database, so what it
/// reads together agrees (a member's balance and its ledger lines, say), and SQLite takes its
/// shared-memory read lock once instead of once per statement.
pub fn read_snapshot<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        // A deferred transaction: the snapshot starts with the first read.
        DbConnection::Sqlite(_) => conn.transaction(f),
        DbConnection::Postgresql(pg) => {
            // READ COMMITTED would give each statement its own snapshot.
            AnsiTransactionManager::begin_transaction_sql(
                pg,
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
            )?;
            let outcome = f(conn);
            let DbConnection::Postgresql(pg) = conn else {
                return outcome;
            };
            match outcome {
                Ok(value) => {
                    AnsiTransactionManager::commit_transaction(pg)?;
                    Ok(value)
                }
                Err(error) => {
                    AnsiTransactionManager::rollback_transaction(pg)?;
                    Err(error)
                }
            }
        }
    }
}

/// Whether PostgreSQL aborted the transaction to break a deadlock or a serialization conflict:
/// nothing was written, and running the same transaction again is the documented remedy.
pub fn is_retryable_conflict(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        Error::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// On PostgreSQL, takes a transaction-scoped advisory lock per key, all in one statement, sorted
/// by the lock's own key (the hash): two transactions locking overlapping sets never wait on
/// each other crosswise, even when two keys share a hash. Re-taking a lock the transaction holds
/// is free. SQLite has one writer; nothing to do there.
pub fn lock_keys(conn: &mut DbConnection, keys: Vec<String>) -> diesel::QueryResult<()> {
    use diesel::RunQueryDsl;
    let DbConnection::Postgresql(pg) = conn else {
        return Ok(());
    };
    if keys.is_empty() {
        return Ok(());
    }
    diesel::sql_query(
        "SELECT pg_advisory_xact_lock(h) FROM \
         (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h) AS s",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(keys)
    .execute(pg)
    .map(|_| ())
}

/// Whether a database error may go away by itself, so the same work is worth trying again
/// later: a busy or locked database, a lost race or deadlock, a dropped connection. Anything
/// else (a constraint the data breaks, a row that is not there, a value that does not decode)
/// fails the same way every time, and retrying it only hides it.
pub fn is_transient(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(kind, info) => match kind {
            DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            // Two writers inserting the same key at once: the retry finds the winner's row.
            | DatabaseErrorKind::UniqueViolation => true,
            _ => {
                let message = info.message().to_ascii_lowercase();
                TRANSIENT_MESSAGES.iter().any(|m| message.contains(m))
            }
        },
        Error::BrokenTransactionManager | Error::RollbackErrorOnCommit { .. } => true,
        _ => false,
    }
}

/// What SQLite and PostgreSQL say when they are busy, locked, or going away.
const TRANSIENT_MESSAGES: &[&str] = &[
    "database is locked",
    "database table is locked",
    "deadlock detected",
    "could not serialize",
    "lock timeout",
    "statement timeout",
    "terminating connection",
    "server closed the connection",
    "connection to the server",
    "could not connect",
    "the database system is",
    "too many clients",
];

/// Runs `attempt` (a whole transaction) again, up to three times in all, while PostgreSQL
/// reports a deadlock or serialization conflict; `conflict` says whether an error is one.
pub fn retry_conflicts<T, E>(
    conflict: impl Fn(&E) -> bool,
    mut attempt: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let mut tries = 1;
    loop {
        match attempt() {
            Err(e) if tries < 3 && conflict(&e) => {
                tracing::info!(tries, "transaction lost a deadlock; running it again");
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}
