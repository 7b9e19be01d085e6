//! `column IN (values)` as one statement text, however many values.
//!
//! Diesel's `eq_any` writes a placeholder per value on SQLite and marks the statement as not to
//! keep, so each list length is a statement that SQLite parses and plans again, every time. The
//! inbox applier reads its batch's members, orders, refunds and suppressed addresses that way,
//! once a batch, with a different length each time (6 % of its time went to preparing them).
//!
//! [`in_list`] binds the whole list as one parameter instead: a JSON array read by `json_each`
//! on SQLite, an array compared with `= ANY` on PostgreSQL. The SQL no longer depends on the
//! values, so diesel keeps the statement prepared (under its type, as it does a statement with
//! no list), and no list is too long for SQLite's limit on bound values.

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::QueryResult;

use super::MultiBackend;

/// `column IN (values)`, for a text column: see the module documentation.
pub fn in_list<C, I>(column: C, values: I) -> InList<C>
where
    C: Expression,
    C::SqlType: TextColumn,
    I: IntoIterator,
    I::Item: AsRef<str>,
{
    let values: Vec<String> = values.into_iter().map(|v| v.as_ref().to_owned()).collect();
    let json = serde_json::Value::from(values.clone()).to_string();
    InList {
        column,
        values,
        json,
    }
}

/// The SQL types [`in_list`] compares: its values are bound as text.
pub trait TextColumn {}
impl TextColumn for Text {}
impl TextColumn for Nullable<Text> {}

/// See [`in_list`].
#[derive(Debug, Clone)]
pub struct InList<C> {
    column: C,
    /// Bound on PostgreSQL.
    values: Vec<String>,
    /// The same values as a JSON array, bound on SQLite.
    json: String,
}

impl<C> InList<C> {
    /// The values, as bound on PostgreSQL.
    pub(super) fn values(&self) -> &Vec<String> {
        &self.values
    }
}

impl<C: Expression> Expression for InList<C> {
    type SqlType = Bool;
}

impl<C, QS> AppearsOnTable<QS> for InList<C> where C: AppearsOnTable<QS> {}

impl<C, QS> SelectableExpression<QS> for InList<C> where C: SelectableExpression<QS> {}

impl<C: ValidGrouping<GB>, GB> ValidGrouping<GB> for InList<C> {
    type IsAggregate = C::IsAggregate;
}

// Its SQL is fixed by its column's type, never by the values, so a statement with it can be
// kept under its Rust type like any other diesel statement: found again without writing out
// and comparing its SQL text at every run (which a statement keyed by text costs).
impl<C: QueryId> QueryId for InList<C> {
    type QueryId = InList<C::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = C::HAS_STATIC_QUERY_ID;
}

impl<C: QueryFragment<Sqlite>> QueryFragment<Sqlite> for InList<C> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        self.column.walk_ast(pass.reborrow())?;
        pass.push_sql(" IN (SELECT value FROM json_each(");
        pass.push_bind_param::<Text, _>(&self.json)?;
        pass.push_sql("))");
        Ok(())
    }
}

impl<C: QueryFragment<Pg>> QueryFragment<Pg> for InList<C> {
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.column.walk_ast(pass.reborrow())?;
        pass.push_sql(" = ANY(");
        pass.push_bind_param::<Array<Text>, _>(&self.values)?;
        pass.push_sql(")");
        Ok(())
    }
}

impl<C> QueryFragment<MultiBackend> for InList<C>
where
    C: QueryFragment<Sqlite> + QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        MultiBackend::walk_variant_ast(self, pass)
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use diesel::sqlite::SqliteConnection;

    use super::in_list;
    use crate::db::KeptStatements;

    diesel::table! {
        people (id) {
            id -> Integer,
            name -> Text,
            email -> Nullable<Text>,
        }
    }

    fn connection() -> (SqliteConnection, KeptStatements) {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
             INSERT INTO people VALUES (1, 'ada', 'ada@x.test'), (2, 'bo', NULL),
                 (3, 'cy''s', 'cy@x.test'), (4, 'dé \"q\"', NULL);",
        )
        .unwrap();
        let kept = KeptStatements::default();
        conn.set_instrumentation(kept.clone());
        (conn, kept)
    }

    fn ids_named(conn: &mut SqliteConnection, names: &[impl AsRef<str>]) -> Vec<i32> {
        people::table
            .filter(in_list(people::name, names))
            .order(people::id)
            .select(people::id)
            .load(conn)
            .unwrap()
    }

    #[test]
    fn finds_the_rows_whose_column_is_in_the_list_whatever_its_characters() {
        let (mut conn, _) = connection();
        assert_eq!(ids_named(&mut conn, &["bo", "ada", "nobody"]), [1, 2]);
        assert_eq!(ids_named(&mut conn, &["cy's", "dé \"q\""]), [3, 4]);
        assert_eq!(ids_named(&mut conn, &[] as &[&str]), Vec::<i32>::new());
        assert_eq!(ids_named(&mut conn, &["ada", "ada"]), [1]);
    }

    #[test]
    fn a_nullable_column_matches_its_values_and_never_null() {
        let (mut conn, _) = connection();
        let ids: Vec<i32> = people::table
            .filter(in_list(people::email, &["cy@x.test", "null", ""]))
            .select(people::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids, [3]);
    }

    #[test]
    fn one_statement_is_kept_for_every_length_of_list() {
        let (mut conn, kept) = connection();
        for names in [&["ada"][..], &["ada", "bo"], &["ada", "bo", "cy's"], &[]] {
            ids_named(&mut conn, names);
        }
        let kept = kept.0.lock().unwrap();
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0].contains("json_each"), "{kept:?}");
    }

    #[test]
    fn the_app_connection_keeps_reads_and_deletes_too() {
        // The app's connection wraps each statement for its backend; the wrapper must still
        // say it can be kept, and a delete (run with `execute`) must be kept as well.
        let mut conn = crate::db::DbConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT);
             INSERT INTO people VALUES (1, 'ada', NULL), (2, 'bo', NULL), (3, 'cy', NULL);",
        )
        .unwrap();
        let kept = KeptStatements::default();
        conn.set_instrumentation(kept.clone());
        for names in [&["ada"][..], &["ada", "bo"]] {
            let n: i64 = people::table
                .filter(in_list(people::name, names))
                .count()
                .get_result(&mut conn)
                .unwrap();
            assert_eq!(n, names.len() as i64);
        }
        for names in [&["nobody"][..], &["ada", "bo"]] {
            diesel::delete(people::table.filter(in_list(people::name, names)))
                .execute(&mut conn)
                .unwrap();
        }
        assert_eq!(kept.0.lock().unwrap().len(), 2, "a read and a delete");
        let left: Vec<String> = people::table.select(people::name).load(&mut conn).unwrap();
        assert_eq!(left, ["cy"]);
    }

    #[test]
    fn a_list_longer_than_sqlites_bound_values_limit_is_one_value() {
        let (mut conn, _) = connection();
        let names: Vec<String> = (0..40_000)
            .map(|i| format!("n{i}"))
            .chain(["bo".into()])
            .collect();
        assert_eq!(ids_named(&mut conn, &names), [2]);
    }
}
