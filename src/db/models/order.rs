//! Orders the app has seen, with the facts snapshotted for later refunds and metrics.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::orders;
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: String,
    pub shop_id: String,
    pub platform_order_id: String,
    pub member_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub financial_status: String,
    pub cancelled: bool,
    pub currency: String,
    pub subtotal_minor: i64,
    pub total_minor: i64,
    pub refunded_minor: i64,
    /// The order facts as last seen (JSON), newest `platform_updated_at` wins.
    pub snapshot: String,
    pub placed_at: NaiveDateTime,
    pub platform_updated_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = orders)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewOrder {
    pub id: String,
    pub shop_id: String,
    pub platform_order_id: String,
    pub member_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub financial_status: String,
    pub cancelled: bool,
    pub currency: String,
    pub subtotal_minor: i64,
    pub total_minor: i64,
    pub refunded_minor: i64,
    pub snapshot: String,
    pub placed_at: NaiveDateTime,
    pub platform_updated_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl NewOrder {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Order> {
        diesel::insert_into(orders::table)
            .values(self.clone())
            .execute(conn)?;
        Order::find_by_platform_id(conn, &self.shop_id, &self.platform_order_id)?
            .ok_or(diesel::result::Error::NotFound)
    }
}

impl Order {
    pub fn find_by_platform_id(
        conn: &mut DbConnection,
        shop_id: &str,
        platform_order_id: &str,
    ) -> QueryResult<Option<Order>> {
        crate::per_backend!(conn, |c| orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::platform_order_id.eq(platform_order_id))
            .select(Order::as_select())
            .first(c)
            .optional())
    }

    /// The shop's stored orders among `platform_order_ids` (any order).
    pub fn find_by_platform_ids(
        conn: &mut DbConnection,
        shop_id: &str,
        platform_order_ids: &[&str],
    ) -> QueryResult<Vec<Order>> {
        crate::per_backend!(conn, |c| orders::table
            .filter(shop_keys(
                orders::shop_id,
                shop_id,
                orders::platform_order_id,
                platform_order_ids
            ))
            .select(Order::as_select())
            .load(c))
    }
}

impl From<NewOrder> for Order {
    /// The row an insert of `new` wrote (every column is given; none has a default).
    fn from(new: NewOrder) -> Self {
        Self {
            id: new.id,
            shop_id: new.shop_id,
            platform_order_id: new.platform_order_id,
            member_id: new.member_id,
            name: new.name,
            email: new.email,
            financial_status: new.financial_status,
            cancelled: new.cancelled,
            currency: new.currency,
            subtotal_minor: new.subtotal_minor,
            total_minor: new.total_minor,
            refunded_minor: new.refunded_minor,
            snapshot: new.snapshot,
            placed_at: new.placed_at,
            platform_updated_at: new.platform_updated_at,
            created_at: new.created_at,
            updated_at: new.updated_at,
        }
    }
}

impl NewOrder {
    /// Inserts unless the order is already stored; returns whether this call inserted it (two
    /// topics of one order may arrive at once).
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let inserted = crate::per_backend!(&mut *conn, |c| crate::fixed!(diesel::insert_into(
            orders::table
        )
        .values(self.clone())
        .on_conflict_do_nothing())
        .execute(c))?;
        Ok(inserted == 1)
    }
}

#[cfg(test)]
impl Order {
    /// A paid order of 1.00 USD, placed 2026-01-01, for unit tests to vary.
    pub(crate) fn for_tests(id: &str, member: Option<&str>) -> Self {
        let at = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        Self {
            id: id.into(),
            shop_id: "s".into(),
            platform_order_id: id.into(),
            member_id: member.map(Into::into),
            name: None,
            email: None,
            financial_status: "paid".into(),
            cancelled: false,
            currency: "USD".into(),
            subtotal_minor: 100,
            total_minor: 100,
            refunded_minor: 0,
            snapshot: "{}".into(),
            placed_at: at,
            platform_updated_at: at,
            created_at: at,
            updated_at: at,
        }
    }
}
