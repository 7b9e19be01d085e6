//! SQLite's write-ahead log, checkpointed off the commit path.
//!
//! Left to itself, SQLite checkpoints inside the commit that takes the log past
//! `wal_autocheckpoint` pages (1,000 by default): that commit copies the pages into the database
//! file and syncs it while holding the write lock, so every acknowledgement queued behind it
//! waits, and a burst pays for it every few applier batches (17 % of the applier's time in a
//! profile of a 20,000-order burst). Instead the app's checkpointer thread copies what is
//! committed every [`CHECKPOINT_EVERY`] without the write lock (a passive checkpoint runs beside
//! writers), and the pages a burst rewrites over and over (index pages most orders share) are
//! copied once per round rather than once per thousand pages.
//!
//! A passive checkpoint beside busy writers may not find the log quiet enough to be started over
//! from its beginning (a reader may still be using its frames), so SQLite's own checkpoint stays
//! as a backstop past [`AUTOCHECKPOINT_PAGES`]: by then the checkpointer has copied nearly every
//! page, and the commit that runs it has little left to copy before the next writer starts the
//! log over; `journal_size_limit` then cuts the file back. Processes that run no checkpointer
//! (the CLI) rely on that backstop alone.

use diesel::sql_types::Integer;
use diesel::RunQueryDsl;

use super::{Db, DbConnection, DbError};

/// How often the checkpointer copies committed pages into the database file.
pub const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// SQLite's own checkpoint threshold on every connection, in pages (~4 KiB each): ~80 MiB of
/// log, where 1,000 pages is SQLite's default. Raised to 10,000 without the checkpointer, a
/// burst applied nearly as fast, but acknowledgements stalled behind the commits that copied
/// 40 MiB (`docs/PERFORMANCE.md`).
pub(super) const AUTOCHECKPOINT_PAGES: i32 = 20_000;

/// The most the log file keeps once it has been started over: 128 MiB, above what a burst grows it
/// to with the checkpointer running (~100–115 MiB for 20,000 orders), so the log is overwritten
/// in place. Cut back to 32 MiB after each restart, it grew again during the burst, every sync of
/// a commit also wrote the file's new size, and acknowledgements' p99 rose by about a third.
pub(super) const JOURNAL_SIZE_LIMIT_BYTES: i64 = 128 * 1024 * 1024;

/// What one checkpoint round found, in log frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::QueryableByName)]
pub struct Checkpointed {
    /// Frames in the log.
    #[diesel(sql_type = Integer, column_name = log)]
    pub frames: i32,
    /// Of those, frames now copied into the database file.
    #[diesel(sql_type = Integer, column_name = checkpointed)]
    pub copied: i32,
}

/// One checkpoint round: copies the committed pages into the database file without waiting for
/// writers (or making them wait). Returns what the round left (`None` on PostgreSQL, which
/// checkpoints by itself).
pub fn checkpoint(db: &Db) -> Result<Option<Checkpointed>, DbError> {
    let mut conn = db.get()?;
    let DbConnection::Sqlite(sqlite) = &mut *conn else {
        return Ok(None);
    };
    // Each file by name: unnamed, SQLite checkpoints every attached file and reports the last.
    let main = diesel::sql_query("PRAGMA main.wal_checkpoint(PASSIVE)").get_result(sqlite)?;
    diesel::sql_query("PRAGMA arrivals.wal_checkpoint(PASSIVE)")
        .get_result::<Checkpointed>(sqlite)?;
    Ok(Some(main))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{sqlite_db_in, write_transaction};
    use diesel::connection::SimpleConnection;

    fn write_pages(db: &Db, rows: usize) {
        let mut conn = db.get().unwrap_or_else(|e| panic!("checkout: {e}"));
        write_transaction(&mut conn, |c| {
            let DbConnection::Sqlite(s) = c else {
                unreachable!("a SQLite file")
            };
            s.batch_execute("CREATE TABLE IF NOT EXISTS t (v BLOB)")?;
            for _ in 0..rows {
                s.batch_execute("INSERT INTO t VALUES (randomblob(3000))")?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .unwrap_or_else(|e| panic!("write: {e}"));
    }

    /// One round on a SQLite database, which always reports what it found.
    fn round(db: &Db) -> Checkpointed {
        checkpoint(db)
            .unwrap_or_else(|e| panic!("checkpoint: {e}"))
            .unwrap_or_else(|| panic!("a SQLite database"))
    }

    fn wal_len(dir: &tempfile::TempDir) -> u64 {
        std::fs::metadata(dir.path().join("wal.sqlite3-wal")).map_or(0, |m| m.len())
    }

    #[test]
    fn commits_leave_the_log_to_the_checkpointer_and_a_round_copies_all_of_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = sqlite_db_in(&dir);
        // Past SQLite's default threshold of 1,000 pages: no commit checkpointed it.
        write_pages(&db, 1_500);
        let copied = round(&db);
        assert!(copied.frames > 1_000, "{copied:?}");
        assert_eq!(copied.copied, copied.frames, "nothing else was writing");
    }

    #[test]
    fn after_a_whole_round_the_next_writer_starts_the_log_over() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = sqlite_db_in(&dir);
        write_pages(&db, 600);
        let first = round(&db);
        assert_eq!(first.copied, first.frames);
        let grown = wal_len(&dir);
        // The next writer starts the log over: the second round finds only its frames.
        write_pages(&db, 10);
        let second = round(&db);
        assert!(second.frames < 100, "{first:?} then {second:?}");
        assert!(wal_len(&dir) <= grown);
    }
}
