//! Statements prepared once per connection that diesel would prepare at every run, found again
//! by their call site.
//!
//! Diesel keeps a connection's prepared statements only when their SQL is fixed by their Rust
//! type. It never keeps an `UPDATE`, an `ON CONFLICT` insert, an `IN` list on SQLite or a raw
//! `sql_query`: their SQL can vary with their values (a `None` in a derived changeset or
//! insertable leaves its column out). On SQLite a statement not kept is parsed and planned again
//! at every run; in the inbox applier, where a few such statements run per order, that was an
//! eighth of its time.
//!
//! [`fixed!`](crate::fixed) keeps such a statement under a type of its own, declared where it is
//! written: finding it again costs a hash of a type id, where a key made of its SQL text would
//! cost writing the SQL out and hashing and comparing it at every run (4 % of the applier).
//!
//! This matters on SQLite only: PostgreSQL connections keep no statement prepared (each is
//! planned for its values, `db::init_connection`), so there a `fixed!` statement is sent as any
//! other.
//!
//! Only for statements whose SQL does not depend on their values: changesets written as tuples
//! of `.eq(…)` (an `Option` there binds `NULL`), insertables with
//! `treat_none_as_default_value = false`, `IN` lists through [`super::in_list`] or over a fixed
//! list. In debug builds (every test) each run's SQL is compared with the first one written for
//! its key, and a difference panics, naming the statement's key.
//!
//! An `UPDATE` is kept only when its rows are read (`RETURNING`, run with `get_result` or
//! `load`): `execute` hands diesel a reference to the statement, and diesel asks a reference
//! whether it may be kept by walking the statement inside, which says no. Inserts say yes
//! either way.

use std::marker::PhantomData;

use diesel::backend::Backend;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// Keeps `$query` prepared under a key of its own (see the module documentation):
/// `fixed!(diesel::insert_into(…).values(…).on_conflict_do_nothing()).execute(conn)`,
/// `fixed!(diesel::update(…).set(…).returning(…)).get_result(conn)`.
#[macro_export]
macro_rules! fixed {
    ($query:expr) => {{
        // A type per expansion: the statement's key.
        enum StatementKey {}
        $crate::db::fixed::Fixed::<StatementKey, _>::new($query)
    }};
}

/// A statement kept prepared under the key `K` (made by [`fixed!`](crate::fixed)).
pub struct Fixed<K, Q> {
    query: Q,
    key: PhantomData<fn() -> K>,
}

impl<K, Q> Fixed<K, Q> {
    pub fn new(query: Q) -> Self {
        Self {
            query,
            key: PhantomData,
        }
    }
}

impl<K, Q, DB> QueryFragment<DB> for Fixed<K, Q>
where
    K: 'static,
    DB: Backend + 'static,
    DB::QueryBuilder: Default,
    Q: QueryFragment<DB>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.query.walk_ast(pass)
    }

    // Asked at every run, before the cache is searched.
    fn is_safe_to_cache_prepared(&self, backend: &DB) -> QueryResult<bool> {
        #[cfg(debug_assertions)]
        same_sql_as_before::<K, DB>(&self.query, backend)?;
        #[cfg(not(debug_assertions))]
        let _ = backend;
        Ok(true)
    }
}

impl<K: 'static, Q> QueryId for Fixed<K, Q> {
    type QueryId = K;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<K, Q: Query> Query for Fixed<K, Q> {
    type SqlType = Q::SqlType;
}

impl<K, Q, Conn> RunQueryDsl<Conn> for Fixed<K, Q> {}

/// Panics if `query` is not written as the first statement run under `K` was.
#[cfg(debug_assertions)]
fn same_sql_as_before<K: 'static, DB>(
    query: &impl QueryFragment<DB>,
    backend: &DB,
) -> QueryResult<()>
where
    DB: Backend + 'static,
    DB::QueryBuilder: Default,
{
    use diesel::query_builder::QueryBuilder;
    use std::any::TypeId;
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};

    static FIRST: LazyLock<Mutex<HashMap<(TypeId, TypeId), String>>> =
        LazyLock::new(Default::default);
    let mut builder = DB::QueryBuilder::default();
    query.to_sql(&mut builder, backend)?;
    let sql = builder.finish();
    let mut first = FIRST.lock().unwrap_or_else(|e| e.into_inner());
    let kept = first
        .entry((TypeId::of::<K>(), TypeId::of::<DB>()))
        .or_insert_with(|| sql.clone());
    assert!(
        *kept == sql,
        "the statement kept as {} changed its SQL:\n  {kept}\n  {sql}",
        std::any::type_name::<K>()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use crate::db::KeptStatements;

    diesel::table! {
        counters (id) {
            id -> Integer,
            n -> Integer,
            note -> Nullable<Text>,
        }
    }

    const SCHEMA: &str =
        "CREATE TABLE counters (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, note TEXT); \
                          INSERT INTO counters VALUES (1, 0, NULL), (2, 0, NULL);";

    fn connection() -> (SqliteConnection, KeptStatements) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(SCHEMA).unwrap();
        let events = KeptStatements::default();
        conn.set_instrumentation(events.clone());
        (conn, events)
    }

    fn kept(events: &KeptStatements) -> usize {
        events.0.lock().unwrap().len()
    }

    #[test]
    fn diesel_prepares_an_update_at_every_run_and_a_fixed_one_once() {
        let (mut conn, events) = connection();
        let bump = |id: i32| {
            diesel::update(counters::table.find(id))
                .set(counters::n.eq(counters::n + 1))
                .returning(counters::n)
        };
        for _ in 0..3 {
            bump(1).get_result::<i32>(&mut conn).unwrap();
        }
        assert_eq!(kept(&events), 0, "diesel keeps no UPDATE");
        let n: Vec<i32> = [1, 2, 1]
            .into_iter()
            .map(|id| crate::fixed!(bump(id)).get_result(&mut conn).unwrap())
            .collect();
        assert_eq!(kept(&events), 1, "one statement, kept");
        assert_eq!(n, vec![4, 1, 5], "every run ran with its own values");
    }

    #[test]
    fn a_statement_run_with_execute_is_kept_too() {
        let (mut conn, events) = connection();
        for note in [Some("a"), None, Some("b")] {
            crate::fixed!(diesel::insert_into(counters::table)
                .values((counters::n.eq(7), counters::note.eq(note)))
                .on_conflict_do_nothing())
            .execute(&mut conn)
            .unwrap();
        }
        assert_eq!(kept(&events), 1);
        let notes: Vec<Option<String>> = counters::table
            .filter(counters::n.eq(7))
            .order(counters::id)
            .select(counters::note)
            .load(&mut conn)
            .unwrap();
        assert_eq!(notes, vec![Some("a".into()), None, Some("b".into())]);
    }

    #[test]
    fn each_call_site_has_its_own_statement() {
        let (mut conn, events) = connection();
        for id in [1, 2] {
            let _: i32 = crate::fixed!(diesel::update(counters::table.find(id))
                .set(counters::n.eq(1))
                .returning(counters::n))
            .get_result(&mut conn)
            .unwrap();
            let _: i32 = crate::fixed!(diesel::update(counters::table.find(id))
                .set(counters::n.eq(2))
                .returning(counters::n))
            .get_result(&mut conn)
            .unwrap();
        }
        assert_eq!(kept(&events), 2);
    }

    #[test]
    fn an_update_run_with_execute_is_not_kept() {
        // The limit the module documentation names, the reason for the `RETURNING` of the
        // app's kept updates; this fails when diesel lifts it.
        let (mut conn, events) = connection();
        for _ in 0..2 {
            crate::fixed!(diesel::update(counters::table.find(1)).set(counters::n.eq(1)))
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(kept(&events), 0);
    }

    #[test]
    fn the_app_connection_keeps_it_too() {
        // The app's connection type wraps each statement for its backend: the wrapper must
        // still say the statement can be kept.
        let mut conn = crate::db::DbConnection::establish(":memory:").unwrap();
        conn.batch_execute(SCHEMA).unwrap();
        let events = KeptStatements::default();
        conn.set_instrumentation(events.clone());
        for _ in 0..3 {
            let _: i32 = crate::per_backend!(&mut conn, |c| crate::fixed!(diesel::update(
                counters::table.find(1)
            )
            .set(counters::n.eq(counters::n + 1))
            .returning(counters::n))
            .get_result(c))
            .unwrap();
        }
        assert_eq!(kept(&events), 1);
    }

    #[test]
    #[should_panic(expected = "changed its SQL")]
    fn a_statement_whose_sql_varies_is_caught() {
        let (mut conn, _) = connection();
        for ids in [vec![1], vec![1, 2]] {
            // One placeholder per value: not a fixed statement.
            let _: Vec<i32> = crate::fixed!(diesel::update(
                counters::table.filter(counters::id.eq_any(ids))
            )
            .set(counters::n.eq(1))
            .returning(counters::id))
            .load(&mut conn)
            .unwrap();
        }
    }
}
