//! Redemptions: points spent on a reward, and the code that came of it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::redemptions;
use crate::db::types::RedemptionStatus;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = redemptions)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct Redemption {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    pub reward_id: String,
    /// The reward as it was when redeemed (JSON), so later catalog edits change nothing.
    pub reward: String,
    pub points: i64,
    pub code: String,
    #[diesel(serialize_as = String, deserialize_as = String)]
    pub status: RedemptionStatus,
    pub platform_discount_id: Option<String>,
    pub error: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Redemption {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(redemptions::table)
            .values(self.clone())
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Redemption> {
        redemptions::table
            .filter(redemptions::shop_id.eq(shop_id))
            .filter(redemptions::id.eq(id))
            .select(Redemption::as_select())
            .first(conn)
    }

    /// Moves the redemption from `from` to `to`; returns false if it was not in `from` (another
    /// worker got there first), so every transition happens once.
    pub fn transition(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        from: RedemptionStatus,
        to: RedemptionStatus,
        discount_id: Option<&str>,
        error: Option<&str>,
    ) -> QueryResult<bool> {
        let changed = diesel::update(
            redemptions::table
                .filter(redemptions::shop_id.eq(shop_id))
                .filter(redemptions::id.eq(id))
                .filter(redemptions::status.eq(from.as_str())),
        )
        .set((
            redemptions::status.eq(to.as_str()),
            redemptions::platform_discount_id.eq(discount_id),
            redemptions::error.eq(error),
            redemptions::updated_at.eq(crate::db::now()),
        ))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// A member's redemptions, newest first.
    pub fn list_for_member(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<Redemption>> {
        redemptions::table
            .filter(redemptions::shop_id.eq(shop_id))
            .filter(redemptions::member_id.eq(member_id))
            .order(redemptions::created_at.desc())
            .limit(limit)
            .select(Redemption::as_select())
            .load(conn)
    }
}
