//! Statements prepared once per connection that diesel would prepare at every run.
//!
//! Diesel caches a connection's prepared statements only when their SQL is fixed by their Rust
//! type. It never caches an `UPDATE`, an `ON CONFLICT … DO UPDATE`, an `IN` list on SQLite or a
//! raw `sql_query`: their SQL can vary with their values (a `None` in a changeset leaves its
//! column out). On SQLite an uncached statement is parsed and planned again at every run: in the
//! inbox applier, where a few such statements run per order, that was an eighth of its time.
//!
//! [`Reused`] caches such a statement under its SQL text (and bind types) instead of its type:
//! statements that come out as the same SQL share one prepared statement, and any that differ
//! get their own. On PostgreSQL it becomes a named prepared statement (parsed once) instead of
//! an unnamed one.
//!
//! Only for statements of a fixed shape: every distinct SQL text stays prepared for the life of
//! the connection, so an `IN` list as long as a caller's vector would fill the cache with one
//! statement per length.
//!
//! Only for statements whose rows are read (`get_result`, `load`, `first`): `execute` hands
//! diesel a reference to the statement, and diesel's implementation for references asks the
//! statement inside, which says it cannot be kept. An `UPDATE` worth keeping returns something
//! (`RETURNING id`) and is run with `get_result`.

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement prepared once per connection and SQL text (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub struct Reused<Q>(pub Q);

/// Marks `query` as one to keep prepared: `reused(diesel::update(…).set(…)).execute(conn)`.
pub fn reused<Q>(query: Q) -> Reused<Q> {
    Reused(query)
}

impl<Q, DB> QueryFragment<DB> for Reused<Q>
where
    DB: Backend,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // The SQL text is the cache key (`HAS_STATIC_QUERY_ID` is false), so a statement whose SQL
    // varies with its values is cached once per variant, never run as another's.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Reused<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Reused<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Reused<Q> {}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use super::reused;
    use crate::db::KeptStatements;

    diesel::table! {
        counters (id) {
            id -> Integer,
            n -> Integer,
        }
    }

    fn connection() -> (SqliteConnection, KeptStatements) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counters VALUES (1, 0), (2, 0);")
            .unwrap();
        let events = KeptStatements::default();
        conn.set_instrumentation(events.clone());
        (conn, events)
    }

    #[test]
    fn diesel_prepares_an_update_at_every_run_and_a_reused_one_once() {
        let (mut conn, events) = connection();
        let bump = |id: i32| {
            diesel::update(counters::table.find(id))
                .set(counters::n.eq(counters::n + 1))
                .returning(counters::n)
        };
        for _ in 0..3 {
            bump(1).get_result::<i32>(&mut conn).unwrap();
        }
        assert!(
            events.0.lock().unwrap().is_empty(),
            "diesel keeps no UPDATE"
        );
        let n: Vec<i32> = [1, 2, 1]
            .into_iter()
            .map(|id| reused(bump(id)).get_result(&mut conn).unwrap())
            .collect();
        assert_eq!(events.0.lock().unwrap().len(), 1, "one statement, kept");
        assert_eq!(n, vec![4, 1, 5], "every run ran with its own values");
    }

    #[test]
    fn statements_that_differ_in_sql_are_kept_apart() {
        let (mut conn, events) = connection();
        // An `IN` list's SQL has one placeholder per value.
        for ids in [vec![1], vec![1, 2], vec![2]] {
            let _: Vec<i32> = reused(
                diesel::update(counters::table.filter(counters::id.eq_any(ids)))
                    .set(counters::n.eq(counters::n + 10))
                    .returning(counters::id),
            )
            .load(&mut conn)
            .unwrap();
        }
        assert_eq!(events.0.lock().unwrap().len(), 2, "one per shape");
        let n: Vec<i32> = counters::table
            .order(counters::id)
            .select(counters::n)
            .load(&mut conn)
            .unwrap();
        assert_eq!(n, vec![20, 20]);
    }

    #[test]
    fn the_app_connection_keeps_it_too() {
        // The app's connection type wraps each statement for its backend: the wrapper must
        // still say the statement can be kept.
        let mut conn = crate::db::DbConnection::establish(":memory:").unwrap();
        conn.batch_execute("CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); INSERT INTO counters VALUES (1, 0);")
            .unwrap();
        let events = KeptStatements::default();
        conn.set_instrumentation(events.clone());
        for _ in 0..3 {
            let _: i32 = reused(
                diesel::update(counters::table.find(1))
                    .set(counters::n.eq(counters::n + 1))
                    .returning(counters::n),
            )
            .get_result(&mut conn)
            .unwrap();
        }
        assert_eq!(events.0.lock().unwrap().len(), 1);
    }
}
