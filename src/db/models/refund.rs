//! Refunds seen per order. Kept so reversals are computed from the cumulative refunded share,
//! whatever order the refund and order webhooks arrive in.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::refunds;
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refunds)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct Refund {
    pub id: String,
    pub shop_id: String,
    pub platform_refund_id: String,
    pub platform_order_id: String,
    /// The refund facts (JSON of `domain::event::RefundFacts`).
    pub facts: String,
    pub amount_minor: i64,
    pub refunded_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

impl Refund {
    /// Stores the refund unless it is already stored; returns whether it was new.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(refunds::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }

    /// An order's refunds, oldest first.
    pub fn for_order(
        conn: &mut DbConnection,
        shop_id: &str,
        platform_order_id: &str,
    ) -> QueryResult<Vec<Refund>> {
        crate::per_backend!(conn, |c| refunds::table
            .filter(refunds::shop_id.eq(shop_id))
            .filter(refunds::platform_order_id.eq(platform_order_id))
            .order((refunds::refunded_at.asc(), refunds::id.asc()))
            .select(Refund::as_select())
            .load(c))
    }

    /// The refunds of the shop's orders `platform_order_ids`, oldest first, as
    /// [`Refund::for_order`] reads each order's.
    pub fn for_orders(
        conn: &mut DbConnection,
        shop_id: &str,
        platform_order_ids: &[&str],
    ) -> QueryResult<Vec<Refund>> {
        crate::per_backend!(conn, |c| refunds::table
            .filter(shop_keys(
                refunds::shop_id,
                shop_id,
                refunds::platform_order_id,
                platform_order_ids
            ))
            .order((refunds::refunded_at.asc(), refunds::id.asc()))
            .select(Refund::as_select())
            .load(c))
    }
}
