//! Affiliates and the orders that used their codes.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::{affiliate_orders, affiliates};
use crate::db::types::ClaimStatus;
use crate::db::DbConnection;

/// A partner with a public multi-use code and a commission on the orders using it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = affiliates)]
#[diesel(treat_none_as_default_value = false)]
pub struct Affiliate {
    pub id: String,
    pub shop_id: String,
    pub name: String,
    pub email: String,
    /// The code shoppers type, upper case.
    pub code: String,
    /// Commission in basis points of net revenue (1250 = 12.5 %).
    pub commission_bp: i32,
    /// `domain::referrals::PublicDiscount` as JSON.
    pub customer_discount: String,
    /// `issued` once the platform created the code.
    #[diesel(serialize_as = String, deserialize_as = String)]
    pub status: ClaimStatus,
    pub platform_discount_id: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Affiliate {
    /// Inserts the affiliate unless the shop has one with this code; `false` then.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(affiliates::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Affiliate> {
        affiliates::table
            .filter(affiliates::shop_id.eq(shop_id))
            .filter(affiliates::id.eq(id))
            .select(Affiliate::as_select())
            .first(conn)
    }

    pub fn find_by_code(
        conn: &mut DbConnection,
        shop_id: &str,
        code: &str,
    ) -> QueryResult<Option<Affiliate>> {
        affiliates::table
            .filter(affiliates::shop_id.eq(shop_id))
            .filter(affiliates::code.eq(code))
            .select(Affiliate::as_select())
            .first(conn)
            .optional()
    }

    /// The first of `codes` that is one of the shop's affiliate codes.
    pub fn find_by_codes(
        conn: &mut DbConnection,
        shop_id: &str,
        codes: &[String],
    ) -> QueryResult<Option<Affiliate>> {
        if codes.is_empty() {
            return Ok(None);
        }
        let found: Vec<Affiliate> = affiliates::table
            .filter(affiliates::shop_id.eq(shop_id))
            .filter(affiliates::code.eq_any(codes))
            .select(Affiliate::as_select())
            .load(conn)?;
        Ok(codes
            .iter()
            .find_map(|code| found.iter().find(|a| &a.code == code).cloned()))
    }

    pub fn list(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<Affiliate>> {
        affiliates::table
            .filter(affiliates::shop_id.eq(shop_id))
            .order((affiliates::created_at.asc(), affiliates::id.asc()))
            .select(Affiliate::as_select())
            .load(conn)
    }
}

/// A paid order that used an affiliate's code, with its revenue net of what went back.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = affiliate_orders)]
pub struct AffiliateOrder {
    pub shop_id: String,
    pub platform_order_id: String,
    pub affiliate_id: String,
    /// The order's subtotal (after discounts, before shipping and tax).
    pub revenue_minor: i64,
    /// What of it went back (refunds of goods; the whole subtotal when cancelled).
    pub refunded_minor: i64,
    /// The order's date in the shop's time zone.
    pub placed_on: NaiveDate,
    pub updated_at: NaiveDateTime,
}

impl AffiliateOrder {
    /// Stores the order's figures, replacing older ones (refunds arrive later).
    pub fn upsert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        crate::per_backend!(conn, |c| diesel::insert_into(affiliate_orders::table)
            .values(self.clone())
            .on_conflict((
                affiliate_orders::shop_id,
                affiliate_orders::platform_order_id,
            ))
            .do_update()
            .set((
                affiliate_orders::revenue_minor.eq(self.revenue_minor),
                affiliate_orders::refunded_minor.eq(self.refunded_minor),
                affiliate_orders::updated_at.eq(self.updated_at),
            ))
            .execute(c))?;
        Ok(())
    }

    /// `(orders, revenue, refunded)` of the affiliate's orders placed `from..=to`.
    pub fn totals(
        conn: &mut DbConnection,
        shop_id: &str,
        affiliate_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> QueryResult<Vec<(i64, i64)>> {
        affiliate_orders::table
            .filter(affiliate_orders::shop_id.eq(shop_id))
            .filter(affiliate_orders::affiliate_id.eq(affiliate_id))
            .filter(affiliate_orders::placed_on.ge(from))
            .filter(affiliate_orders::placed_on.le(to))
            .select((
                affiliate_orders::revenue_minor,
                affiliate_orders::refunded_minor,
            ))
            .load(conn)
    }
}
