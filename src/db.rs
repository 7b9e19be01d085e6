//! One database layer over SQLite (embedded default) and PostgreSQL (production).
//!
//! Both backends live in one binary: [`DbConnection`] is a diesel `MultiConnection` with exactly
//! two variants, chosen by the scheme of `DATABASE_URL`. Queries are written once against it;
//! the few places that need backend-specific SQL (upserts, row locks, `SKIP LOCKED` claims)
//! use [`per_backend!`], which expands one body once per variant.
//!
//! Diesel is synchronous. Handlers never block an actix worker: [`Db::run`] checks a connection
//! out of the pool and moves it into `spawn_blocking`, so a whole use case (ledger line, balance,
//! outbox row) runs as one transaction in one hop.

pub mod arrivals;
pub mod fixed;
pub mod in_list;
pub mod models;
pub mod schema;
mod shared_writer;
pub mod shop_keys;
pub mod stored_body;
mod transactions;
pub mod types;
pub mod wal;

pub use shared_writer::WriteConnection;
pub use transactions::{
    is_retryable_conflict, is_transient, lock_keys, read_snapshot, retry_conflicts,
    write_transaction, write_transaction_with, Durability,
};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::connection::{CacheSize, SimpleConnection, TransactionManager};
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// A connection to either backend. Everything in `db::models` takes `&mut DbConnection`.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the concrete connection of whichever backend is in use.
/// The body is compiled twice, once per backend, so it may use backend-only query features.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgresql($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

/// Which engine a `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A parsed `DATABASE_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// `sqlite://PATH` (relative to the working directory) or `sqlite:///ABSOLUTE/PATH`.
    Sqlite(PathBuf),
    /// `postgres://…` or `postgresql://…`, passed to libpq unchanged.
    Postgres(String),
}

impl DatabaseUrl {
    /// Parses the scheme; the rest is validated when connecting.
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err(
                    "sqlite:// needs a file path, e.g. sqlite://data/boomerang.sqlite3".into(),
                );
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else {
            Err("expected sqlite://PATH or postgres://USER@HOST/DB".into())
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced, safe for logs.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    // set_password only fails for URLs that cannot have one; then hide it all.
                    if parsed.set_password(Some("***")).is_err() {
                        return "postgres://***".into();
                    }
                    parsed.to_string()
                }
                Ok(parsed) => parsed.to_string(),
                Err(_) => "postgres://***".into(),
            },
        }
    }

    fn connection_string(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => url.clone(),
        }
    }
}

/// Errors from setting up or using the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot open the database at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: diesel::ConnectionError,
    },
    #[error("cannot create the directory for the SQLite file {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the connection pool for {url}: {source}")]
    Pool {
        url: String,
        #[source]
        source: diesel::r2d2::PoolError,
    },
    #[error("no database connection became free within {}s", CHECKOUT_TIMEOUT.as_secs())]
    Busy,
    #[error("no database connection available: {0}")]
    Checkout(#[from] diesel::r2d2::PoolError),
    #[error("migrations failed: {0}")]
    Migration(String),
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
    #[error("the database task stopped unexpectedly")]
    TaskAborted,
}

/// SQLite settings applied to every pooled connection.
///
/// WAL lets readers run beside the single writer; `busy_timeout` makes a second writer wait for
/// the lock instead of failing; `synchronous = FULL` because an acknowledged webhook must survive
/// a power cut, not only a crash; foreign keys are off by default in SQLite and we rely on them.
/// `busy_timeout` comes first: switching to WAL needs a lock, and a connection opened while a
/// writer is busy must wait for it rather than fail.
// busy_timeout first: the other pragmas may already need the lock. A 4 MiB page cache per
// connection (SQLite's default is 2) saves read syscalls on the hot tables; no mmap, which
// would count the file once per connection in the process's memory. The log is checkpointed by
// the app's checkpointer thread, not in a commit (`wal`).
static SQLITE_INIT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA cache_size = -4000; \
         PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {}; \
         PRAGMA journal_size_limit = {};",
        wal::AUTOCHECKPOINT_PAGES,
        wal::JOURNAL_SIZE_LIMIT_BYTES
    )
});

#[derive(Debug)]
struct ConnectionInit(DatabaseUrl);

impl CustomizeConnection<DbConnection, diesel::r2d2::Error> for ConnectionInit {
    fn on_acquire(&self, conn: &mut DbConnection) -> Result<(), diesel::r2d2::Error> {
        init_connection(conn, &self.0).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// Sets up a new connection of either backend.
///
/// On PostgreSQL no statement is kept prepared: each is sent with its values in one message
/// (`PQsendQueryParams`) and planned for them. A kept statement switches to a generic plan
/// after five runs, and on a young database that plan is made while the tables are nearly
/// empty and stays until autovacuum analyses them: a first burst of orders once scanned the
/// whole ledger for every idempotency key (over two minutes for 10,000 orders instead of under
/// thirty seconds). Forcing custom plans per transaction (`plan_cache_mode =
/// force_custom_plan`, as the appliers did) also replanned the foreign-key checks PostgreSQL
/// runs for every inserted row (one per reference): a third of all its planning, a sixth of
/// its CPU under a burst. Statements sent unprepared are planned for their values, while the
/// foreign-key checks keep their own plans.
///
/// A SQLite connection also attaches the file acknowledged deliveries wait in
/// ([`arrivals`]).
fn init_connection(conn: &mut DbConnection, url: &DatabaseUrl) -> diesel::QueryResult<()> {
    match conn {
        DbConnection::Sqlite(c) => {
            c.batch_execute(&SQLITE_INIT)?;
            match url {
                DatabaseUrl::Sqlite(path) => arrivals::attach(c, path),
                DatabaseUrl::Postgres(_) => Ok(()),
            }
        }
        DbConnection::Postgresql(c) => {
            c.set_prepared_statement_cache_size(CacheSize::Disabled);
            Ok(())
        }
    }
}

/// How long a request waits for a free connection before it is answered 503.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<DbConnection>>,
    /// One permit per pooled connection: [`Db::run`] waits here, on the async side, so the
    /// blocking pool never holds more threads than there are connections to give them (64
    /// requests in flight would otherwise park 48 threads on r2d2's condvar and pay a context
    /// switch each).
    permits: Arc<tokio::sync::Semaphore>,
    /// SQLite only: the connection the busiest writers share ([`Db::write_connection`]).
    shared_writer: Option<Arc<shared_writer::SharedWriter>>,
    url: DatabaseUrl,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("url", &self.url.redacted())
            .finish()
    }
}

impl Db {
    /// Opens the pool (creating the SQLite file and its directory if needed) and checks that a
    /// connection can be made, so a wrong URL fails at start-up with a clear message.
    pub fn connect(url: &DatabaseUrl, pool_size: u32) -> Result<Self, DbError> {
        if let DatabaseUrl::Sqlite(path) = url {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| DbError::CreateDir {
                    path: path.display().to_string(),
                    source,
                })?;
            }
        }
        // A direct connection first: r2d2 would retry for its whole timeout and then report only
        // "timed out", hiding the real reason (wrong host, bad password, unreadable file).
        establish(url)?;
        let manager = ConnectionManager::<DbConnection>::new(url.connection_string());
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            // A SQLite file cannot go away under an open connection; checking each checkout
            // with `SELECT 1` only costs a statement per request. A PostgreSQL connection can
            // (server restart, idle timeout), so there the check stays.
            .test_on_check_out(url.backend() == Backend::Postgres)
            .connection_timeout(CHECKOUT_TIMEOUT)
            .connection_customizer(Box::new(ConnectionInit(url.clone())))
            .build(manager)
            .map_err(|source| DbError::Pool {
                url: url.redacted(),
                source,
            })?;
        Ok(Self {
            pool,
            permits: Arc::new(tokio::sync::Semaphore::new(pool_size.max(1) as usize)),
            shared_writer: (url.backend() == Backend::Sqlite)
                .then(|| Arc::new(shared_writer::SharedWriter::new(url.clone()))),
            url: url.clone(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// A pooled connection for synchronous callers (CLI, jobs already on a blocking thread).
    pub fn get(&self) -> Result<PooledConnection<ConnectionManager<DbConnection>>, DbError> {
        Ok(self.pool.get()?)
    }

    /// A connection for a thread that writes all the time (the inbox appliers, the ingest
    /// writer applying a lone delivery): on SQLite the one they share, waited for, whose page
    /// cache stays warm across their turns (see `db/shared_writer.rs`); on PostgreSQL a pooled
    /// one. Hold it only for a transaction: the others wait for it.
    pub fn write_connection(&self) -> Result<WriteConnection<'_>, DbError> {
        match &self.shared_writer {
            Some(shared) => shared.lock(),
            None => Ok(WriteConnection::Pooled(self.pool.get()?)),
        }
    }

    /// A connection of its own, outside the pool, for the thread that stores acknowledged
    /// deliveries in SQLite's arrivals file ([`arrivals`]) beside the main file's writers.
    pub fn own_connection(&self) -> Result<DbConnection, DbError> {
        establish(&self.url)
    }

    /// Runs `f` on a pooled connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<DbError> + Send + 'static,
    {
        let pool = self.pool.clone();
        let permit = tokio::time::timeout(CHECKOUT_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| DbError::Busy)?
            .map_err(|_| DbError::TaskAborted)?;
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool.get().map_err(DbError::from)?;
            f(&mut conn)
        })
        .await
        .map_err(|_| DbError::TaskAborted)?
    }

    /// Applies pending migrations of the backend in use.
    pub fn migrate(&self) -> Result<usize, DbError> {
        migrate(&self.url)
    }
}

fn establish(url: &DatabaseUrl) -> Result<DbConnection, DbError> {
    let mut conn =
        DbConnection::establish(&url.connection_string()).map_err(|source| DbError::Connect {
            url: url.redacted(),
            source,
        })?;
    init_connection(&mut conn, url)?;
    Ok(conn)
}

/// Runs the embedded migrations for the backend `url` names; returns how many were applied.
///
/// On PostgreSQL several app instances may start at once (Fly.io rolling deploys), so the run
/// is serialised with an advisory lock. SQLite's own write lock does the same job there.
pub fn migrate(url: &DatabaseUrl) -> Result<usize, DbError> {
    let mut conn = establish(url)?;
    let migration_error =
        |e: Box<dyn std::error::Error + Send + Sync>| DbError::Migration(e.to_string());
    match &mut conn {
        DbConnection::Sqlite(c) => Ok(c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map_err(migration_error)?
            .len()),
        DbConnection::Postgresql(c) => {
            c.batch_execute("SELECT pg_advisory_lock(7245061981)")?;
            let applied = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|versions| versions.len())
                .map_err(migration_error);
            c.batch_execute("SELECT pg_advisory_unlock(7245061981)")?;
            applied
        }
    }
}

/// The current time as stored: UTC without an offset, microsecond precision on both backends
/// (PostgreSQL keeps microseconds; rounding here keeps round-trips exact).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::{SubsecRound, Utc};
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// A new time-ordered identifier (UUID v7) for a row.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A SQLite database in `dir` with a pool of two, for the unit tests of `db`'s modules.
#[cfg(test)]
fn sqlite_db_in(dir: &tempfile::TempDir) -> Db {
    let url = DatabaseUrl::Sqlite(dir.path().join("test.sqlite3"));
    Db::connect(&url, 2).unwrap_or_else(|e| panic!("open: {e}"))
}

/// The SQL of every statement a connection prepared to keep, for the unit tests of `db`'s
/// modules (`conn.set_instrumentation(kept.clone())`).
#[cfg(test)]
#[derive(Default, Clone)]
struct KeptStatements(Arc<std::sync::Mutex<Vec<String>>>);

#[cfg(test)]
impl diesel::connection::Instrumentation for KeptStatements {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::CacheQuery { sql, .. } = event {
            self.0
                .lock()
                .unwrap_or_else(|e| panic!("{e}"))
                .push(sql.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.sqlite3"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("data/x.sqlite3")))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///tmp/x.db"),
            Ok(DatabaseUrl::Sqlite(PathBuf::from("/tmp/x.db")))
        );
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert!(DatabaseUrl::parse("mysql://u@h/db").is_err());
        assert!(DatabaseUrl::parse("sqlite://").is_err());
    }

    /// The options `.cargo/config.toml` passes to the bundled SQLite build. Losing QPSG makes
    /// every query with a bound `LIMIT` parse again on each run (see the comment there).
    #[test]
    fn sqlite_is_built_with_the_expected_options() {
        use diesel::sql_types::Text;
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = Text)]
            compile_options: String,
        }
        let mut conn = SqliteConnection::establish(":memory:")
            .unwrap_or_else(|e| panic!("in-memory SQLite: {e}"));
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)
            .unwrap_or_else(|e| panic!("compile_options: {e}"))
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} missing from {options:?}"
            );
        }
    }

    #[test]
    fn redacts_passwords() {
        let url = DatabaseUrl::parse("postgres://app:s3cret@db.internal:5432/boomerang")
            .unwrap_or_else(|_| DatabaseUrl::Postgres(String::new()));
        let shown = url.redacted();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
    }
}
