//! `shop_id = ? AND key IN (keys)`: a shop's rows with one of a list of keys, found on
//! PostgreSQL by one index probe per key whatever the planner estimates.
//!
//! An applier batch reads and rewrites its orders' and customers' rows with one statement per
//! table and a list of ids ([`super::in_list`]). PostgreSQL keeps no statistics on `shop_id`
//! (migration `planner_keeps_to_keys`), so it takes one shop for 0.5 % of a table; against that,
//! 128 probes of the key's index cost more than reading the shop's rows through any index that
//! starts with `shop_id` and filtering them. On a young table of one shop (a new install's
//! first tens of thousands of orders) that estimate is 200 times too low: every batch read every
//! purchase, metric row and spell of the shop, ~840 rows fetched per order applied
//! (`docs/PERFORMANCE.md`, thirteenth session). No planner setting changes that choice, nor
//! does a join with the list, which PostgreSQL hashes against the same scan.
//!
//! What it cannot cost away is a subquery planned on its own for each key: on PostgreSQL the
//! rows are named by their `ctid`s, found by `unnest(keys) CROSS JOIN LATERAL (… OFFSET 0)`
//! with the shop and one key, so each probe uses the index of (shop, key), and the statement
//! reads those rows by a TID scan. The plain conditions are *not* repeated beside the `ctid`s:
//! given `shop_id = $1`, the planner, still taking the shop for a handful of rows, read the
//! shop's rows through another index that starts with `shop_id` and used the `ctid`s as a
//! filter, every row of the shop per batch again (fourteenth session). SQLite plans these lists
//! well by itself and gets the plain conditions only.
//!
//! Every table read this way has an index that starts with (shop_id, key) (or with the key).
//! Reads see the statement's snapshot, so the `ctid`s name exactly the rows the plain
//! conditions would. A `DELETE` is another matter: a row another transaction updates meanwhile
//! gets a new `ctid`, and PostgreSQL, rechecking the conditions on the new version, would leave
//! it. So deletes use this only on tables whose rows are never updated, only inserted and
//! deleted (`product_purchases`, `metric_spells`); the others keep [`super::in_list`].

use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Text};
use diesel::sqlite::Sqlite;
use diesel::{Column, QueryResult};

use super::in_list::{in_list, InList, TextColumn};
use super::MultiBackend;

/// The rows of `shop_id` (in `shop_column`) whose `key_column` is one of `keys`: see the module
/// documentation.
pub fn shop_keys<S, K, I>(shop_column: S, shop_id: &str, key_column: K, keys: I) -> ShopKeys<S, K>
where
    S: Column<SqlType = Text>,
    K: Column<Table = S::Table> + Copy,
    K::SqlType: TextColumn,
    I: IntoIterator,
    I::Item: AsRef<str>,
    S::Table: Default,
{
    ShopKeys {
        shop_column,
        shop_id: shop_id.to_owned(),
        key_column,
        keys: in_list(key_column, keys),
        table: S::Table::default(),
    }
}

/// See [`shop_keys`].
pub struct ShopKeys<S: Column, K> {
    shop_column: S,
    shop_id: String,
    key_column: K,
    keys: InList<K>,
    /// Named in the probe's subquery.
    table: S::Table,
}

impl<S: Column, K> Expression for ShopKeys<S, K> {
    type SqlType = Bool;
}

impl<S, K, QS> AppearsOnTable<QS> for ShopKeys<S, K>
where
    S: Column + AppearsOnTable<QS>,
    K: AppearsOnTable<QS>,
{
}

impl<S, K, QS> SelectableExpression<QS> for ShopKeys<S, K>
where
    S: Column + SelectableExpression<QS>,
    K: SelectableExpression<QS>,
{
}

impl<S: Column, K, GB> ValidGrouping<GB> for ShopKeys<S, K> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

/// Names the kind of condition in a [`ShopKeys`]'s query id.
#[derive(Debug)]
pub struct ShopKeysMarker;

// Its SQL is fixed by its columns, never by the values (see `in_list`).
impl<S: Column + QueryId, K: QueryId> QueryId for ShopKeys<S, K> {
    type QueryId = (S::QueryId, K::QueryId, ShopKeysMarker);
    const HAS_STATIC_QUERY_ID: bool = S::HAS_STATIC_QUERY_ID && K::HAS_STATIC_QUERY_ID;
}

impl<S, K> QueryFragment<Sqlite> for ShopKeys<S, K>
where
    S: Column + QueryFragment<Sqlite>,
    InList<K>: QueryFragment<Sqlite>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        pass.push_sql("(");
        self.shop_column.walk_ast(pass.reborrow())?;
        pass.push_sql(" = ");
        pass.push_bind_param::<Text, _>(&self.shop_id)?;
        pass.push_sql(" AND ");
        self.keys.walk_ast(pass.reborrow())?;
        pass.push_sql(")");
        Ok(())
    }
}

impl<S, K> QueryFragment<Pg> for ShopKeys<S, K>
where
    S: Column + QueryFragment<Pg>,
    K: Column + QueryFragment<Pg>,
    S::Table: QueryFragment<Pg>,
{
    fn walk_ast<'b>(&'b self, mut pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The rows named by one probe per key. Inside the subquery the table's name (which
        // qualifies its columns) is the inner one.
        let table = &self.table;
        pass.push_sql("(");
        table.walk_ast(pass.reborrow())?;
        pass.push_sql(".ctid = ANY(ARRAY(SELECT found.ctid FROM unnest(");
        pass.push_bind_param::<Array<Text>, _>(self.keys.values())?;
        pass.push_sql(") AS probe(key) CROSS JOIN LATERAL (SELECT ");
        table.walk_ast(pass.reborrow())?;
        pass.push_sql(".ctid FROM ");
        table.walk_ast(pass.reborrow())?;
        pass.push_sql(" WHERE ");
        self.shop_column.walk_ast(pass.reborrow())?;
        pass.push_sql(" = ");
        pass.push_bind_param::<Text, _>(&self.shop_id)?;
        pass.push_sql(" AND ");
        self.key_column.walk_ast(pass.reborrow())?;
        // OFFSET 0 keeps the subquery from being merged into a join the planner could hash.
        pass.push_sql(" = probe.key OFFSET 0) AS found)))");
        Ok(())
    }
}

impl<S: Column, K> QueryFragment<MultiBackend> for ShopKeys<S, K>
where
    Self: QueryFragment<Sqlite> + QueryFragment<Pg>,
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

    use super::shop_keys;

    diesel::table! {
        purchases (id) {
            id -> Integer,
            shop_id -> Text,
            order_id -> Text,
            member_id -> Nullable<Text>,
        }
    }

    fn connection() -> SqliteConnection {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute(
            "CREATE TABLE purchases (id INTEGER PRIMARY KEY, shop_id TEXT NOT NULL,
                 order_id TEXT NOT NULL, member_id TEXT);
             INSERT INTO purchases VALUES (1, 'a', 'o1', 'm1'), (2, 'a', 'o2', NULL),
                 (3, 'b', 'o1', 'm1'), (4, 'a', 'o3', 'm2');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn finds_only_the_shops_rows_with_the_keys() {
        let mut conn = connection();
        let ids: Vec<i32> = purchases::table
            .filter(shop_keys(
                purchases::shop_id,
                "a",
                purchases::order_id,
                ["o1", "o3", "o9"],
            ))
            .order(purchases::id)
            .select(purchases::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(ids, [1, 4]);
        let none: Vec<i32> = purchases::table
            .filter(shop_keys(
                purchases::shop_id,
                "a",
                purchases::order_id,
                &[] as &[&str],
            ))
            .select(purchases::id)
            .load(&mut conn)
            .unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn deletes_only_the_shops_rows_with_the_keys_of_a_nullable_column() {
        let mut conn = connection();
        let deleted = diesel::delete(purchases::table.filter(shop_keys(
            purchases::shop_id,
            "a",
            purchases::member_id,
            ["m1"],
        )))
        .execute(&mut conn)
        .unwrap();
        assert_eq!(deleted, 1);
        let left: Vec<i32> = purchases::table
            .order(purchases::id)
            .select(purchases::id)
            .load(&mut conn)
            .unwrap();
        assert_eq!(left, [2, 3, 4]);
    }

    #[test]
    fn on_postgresql_each_key_is_probed_under_the_shop() {
        let sql = diesel::debug_query::<diesel::pg::Pg, _>(&purchases::table.filter(shop_keys(
            purchases::shop_id,
            "a",
            purchases::order_id,
            ["o1"],
        )))
        .to_string();
        assert!(
            sql.contains(
                "WHERE (\"purchases\".ctid = ANY(ARRAY(SELECT found.ctid FROM unnest($1) AS \
                 probe(key) CROSS JOIN LATERAL (SELECT \"purchases\".ctid FROM \"purchases\" \
                 WHERE \"purchases\".\"shop_id\" = $2 AND \"purchases\".\"order_id\" = \
                 probe.key OFFSET 0) AS found)))"
            ),
            "{sql}"
        );
    }
}
