//! Entry rewards given: one row per member and tier, with the last time the tier's entry
//! reward was given and the redemption that carries its code.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::entry_rewards;
use crate::db::DbConnection;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = entry_rewards)]
pub struct EntryReward {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// The level's id.
    pub tier: String,
    /// When it was last given; the next one is due a year later at the earliest.
    pub issued_at: NaiveDateTime,
    pub redemption_id: String,
}

impl EntryReward {
    /// The member's record for `tier`, if the tier's entry reward was ever given to them.
    pub fn find(
        conn: &mut DbConnection,
        shop_id: &str,
        member_id: &str,
        tier: &str,
    ) -> QueryResult<Option<EntryReward>> {
        entry_rewards::table
            .filter(entry_rewards::shop_id.eq(shop_id))
            .filter(entry_rewards::member_id.eq(member_id))
            .filter(entry_rewards::tier.eq(tier))
            .select(EntryReward::as_select())
            .first(conn)
            .optional()
    }

    /// Records the first issue for this member and tier.
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(entry_rewards::table)
            .values(self.clone())
            .execute(conn)?;
        Ok(())
    }

    /// Records a later issue (a year or more after the last one) on the existing row.
    pub fn reissued(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        issued_at: NaiveDateTime,
        redemption_id: &str,
    ) -> QueryResult<()> {
        diesel::update(
            entry_rewards::table
                .filter(entry_rewards::shop_id.eq(shop_id))
                .filter(entry_rewards::id.eq(id)),
        )
        .set((
            entry_rewards::issued_at.eq(issued_at),
            entry_rewards::redemption_id.eq(redemption_id),
        ))
        .execute(conn)?;
        Ok(())
    }
}
