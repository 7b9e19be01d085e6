//! SQLite's shared write connection: the inbox applier (and the ingest writer when it applies a
//! lone delivery as it stores it) write through one connection instead of a pooled connection
//! each. (Deliveries the writer leaves for the applier go to the arrivals file through a
//! connection of the writer's own: `db::arrivals`.)
//!
//! Each SQLite connection keeps its own page cache and drops all of it when it finds that
//! another connection has written since its last transaction. Under load the writer and the
//! applier take turns, so each of their transactions started cold and read again the index
//! pages the other had just written (8 % of the applier's time in a profile of a 20,000-order
//! burst). Through one connection each finds the pages the other left, and that connection has
//! a cache large enough for a burst's hot pages. They already take turns on SQLite's one write
//! lock; now they take turns on the connection first.
//!
//! On PostgreSQL, where writers do not take turns, a pooled connection is handed out instead.

use std::ops::{Deref, DerefMut};

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, PooledConnection, R2D2Connection};
use parking_lot::{FairMutex, FairMutexGuard, MappedFairMutexGuard};

use super::{establish, DatabaseUrl, DbConnection, DbError};

/// The shared connection's page cache: 16 MiB, against 4 MiB for each pooled connection. With
/// a large cache the applier spent ~12 % less CPU on a 20,000-order burst than with a pooled
/// connection, and 16 MiB applies as fast as 64 (docs/PERFORMANCE.md, thirteenth and
/// twenty-first sessions: applied ×0.99 over eight alternating pairs, within the spread).
///
/// Larger costs the acknowledgements: a commit after a B-tree split walks every page in the
/// cache. SQLite's `balance_nonroot` parks a page at the pending-byte page number (page 262,145
/// at 4 KiB) while it reorders siblings, so the cache's largest key lies past the end of the
/// file, and `pcache1Truncate` at commit scans every hash slot instead of the few past the end,
/// as long as the file is under ~1 GiB. The writer commits far more often than the applier, and
/// with 64 MiB that walk was ~20 % of its time: 16 MiB acknowledged ×1.09 faster, and a burst's
/// peak memory fell by ~22 % (179–206 MB → 129–158 MB).
const CACHE_KIB: u32 = 16 * 1024;

/// The one write connection to a SQLite file, opened on first use.
pub(super) struct SharedWriter {
    url: DatabaseUrl,
    // Fair: the writer (a lone delivery) and the applier alternate rather than one of them
    // taking the connection again while the other waits.
    conn: FairMutex<Option<DbConnection>>,
}

impl SharedWriter {
    pub(super) fn new(url: DatabaseUrl) -> Self {
        Self {
            url,
            conn: FairMutex::new(None),
        }
    }

    /// Waits for the connection; opens it again if it is not open yet or a panic left it in
    /// the middle of a transaction.
    pub(super) fn lock(&self) -> Result<WriteConnection<'_>, DbError> {
        let mut slot = self.conn.lock();
        if slot.as_mut().is_none_or(R2D2Connection::is_broken) {
            *slot = None;
            let mut conn = establish(&self.url)?;
            if let DbConnection::Sqlite(sqlite) = &mut conn {
                sqlite.batch_execute(&format!("PRAGMA cache_size = -{CACHE_KIB}"))?;
            }
            *slot = Some(conn);
        }
        FairMutexGuard::try_map(slot, Option::as_mut)
            .map(WriteConnection::Shared)
            // Cannot happen: the slot was filled above, under the same lock.
            .map_err(|_| DbError::TaskAborted)
    }
}

/// A connection to write with (see [`super::Db::write_connection`]).
pub enum WriteConnection<'a> {
    /// PostgreSQL: a connection of the pool.
    Pooled(PooledConnection<ConnectionManager<DbConnection>>),
    /// SQLite: the shared write connection, held until this is dropped.
    Shared(MappedFairMutexGuard<'a, DbConnection>),
}

impl Deref for WriteConnection<'_> {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Shared(conn) => conn,
        }
    }
}

impl DerefMut for WriteConnection<'_> {
    fn deref_mut(&mut self) -> &mut DbConnection {
        match self {
            Self::Pooled(conn) => conn,
            Self::Shared(conn) => conn,
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    use diesel::sql_types::Integer;
    use diesel::RunQueryDsl;

    use super::*;
    use crate::db::sqlite_db_in;

    #[derive(diesel::QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Integer)]
        cache_size: i32,
    }

    fn cache_size(conn: &mut DbConnection) -> i32 {
        let DbConnection::Sqlite(sqlite) = conn else {
            unreachable!("a SQLite file")
        };
        diesel::sql_query("PRAGMA cache_size")
            .get_result::<Setting>(sqlite)
            .unwrap_or_else(|e| panic!("cache_size: {e}"))
            .cache_size
    }

    #[test]
    fn sqlite_writers_share_one_connection_with_a_large_cache() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = sqlite_db_in(&dir);
        let mut conn = db.write_connection().unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(conn, WriteConnection::Shared(_)));
        assert_eq!(cache_size(&mut conn), -(CACHE_KIB as i32));
        let mut pooled = db.get().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cache_size(&mut pooled), -4000, "the pool's stay small");
    }

    #[test]
    fn a_connection_left_inside_a_transaction_is_opened_again() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let db = sqlite_db_in(&dir);
        {
            let mut conn = db.write_connection().unwrap_or_else(|e| panic!("{e}"));
            let DbConnection::Sqlite(sqlite) = &mut *conn else {
                unreachable!("a SQLite file")
            };
            // What a panic caught inside a transaction leaves behind.
            AnsiTransactionManager::begin_transaction(sqlite)
                .unwrap_or_else(|e| panic!("begin: {e}"));
        }
        let mut conn = db.write_connection().unwrap_or_else(|e| panic!("{e}"));
        assert!(!R2D2Connection::is_broken(&mut *conn));
        let written = crate::db::write_transaction(&mut conn, |c| {
            let DbConnection::Sqlite(s) = c else {
                unreachable!("a SQLite file")
            };
            s.batch_execute("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1)")
        });
        assert!(written.is_ok(), "{written:?}");
    }
}
