//! Referral records: friends' claims, referred orders and the owner's decisions on them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{referral_claims, referral_clicks, referrals};
use crate::db::DbConnection;

/// One visit of a member's referral link.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = referral_clicks)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewReferralClick {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// A keyed hash of the visitor's network (never the address itself).
    pub visitor: Option<String>,
    pub created_at: NaiveDateTime,
}

impl NewReferralClick {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(referral_clicks::table)
            .values(self.clone())
            .execute(conn)
            .map(|_| ())
    }
}

/// A friend's claim of the offer: their single-use code, bound to the referrer.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = referral_claims)]
#[diesel(treat_none_as_default_value = false)]
pub struct ReferralClaim {
    pub id: String,
    pub shop_id: String,
    pub referrer_member_id: String,
    /// As the friend typed it (trimmed).
    pub friend_email: String,
    /// The mailbox behind it (`domain::referrals::normalized_email`): one claim per mailbox.
    pub friend_key: String,
    pub code: String,
    #[diesel(serialize_as = String, deserialize_as = String)]
    pub status: crate::db::types::ClaimStatus,
    pub platform_discount_id: Option<String>,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl ReferralClaim {
    /// Inserts the claim unless this friend already has one; `false` when they had.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(referral_claims::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }

    pub fn find_by_friend(
        conn: &mut DbConnection,
        shop_id: &str,
        friend_key: &str,
    ) -> QueryResult<Option<ReferralClaim>> {
        referral_claims::table
            .filter(referral_claims::shop_id.eq(shop_id))
            .filter(referral_claims::friend_key.eq(friend_key))
            .select(ReferralClaim::as_select())
            .first(conn)
            .optional()
    }

    /// The claims whose codes were used at checkout, by code (compared as typed: upper case).
    pub fn find_by_codes(
        conn: &mut DbConnection,
        shop_id: &str,
        codes: &[String],
    ) -> QueryResult<Vec<ReferralClaim>> {
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        referral_claims::table
            .filter(referral_claims::shop_id.eq(shop_id))
            .filter(referral_claims::code.eq_any(codes))
            .select(ReferralClaim::as_select())
            .load(conn)
    }
}

/// A referred friend's order and where its referral stands.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable)]
#[diesel(table_name = referrals)]
#[diesel(treat_none_as_default_value = false)]
pub struct Referral {
    pub id: String,
    pub shop_id: String,
    pub referrer_member_id: String,
    /// One referral per friend ever: the normalised e-mail, else `customer:{platform id}`.
    pub friend_key: String,
    pub friend_email: Option<String>,
    pub friend_member_id: Option<String>,
    pub friend_customer_id: Option<String>,
    pub platform_order_id: String,
    pub order_name: Option<String>,
    pub order_subtotal_minor: i64,
    /// How the order named the referral (`domain::referrals::Via`).
    pub via: String,
    /// `domain::referrals::Status`.
    pub status: String,
    pub risk_score: i32,
    /// JSON array of signal names.
    pub signals: String,
    /// The referrer's reward, as the program said when the referral was made.
    pub reward_points: i64,
    /// When the order's points would confirm: the referral settles then.
    pub settles_at: NaiveDateTime,
    /// Who decided (a staff user id, `api key`, or `auto` when it settled clean).
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Referral {
    /// Inserts the referral unless the friend or the order already has one; `false` then.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(referrals::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Referral> {
        referrals::table
            .filter(referrals::shop_id.eq(shop_id))
            .filter(referrals::id.eq(id))
            .select(Referral::as_select())
            .first(conn)
    }

    pub fn find_by_order(
        conn: &mut DbConnection,
        shop_id: &str,
        platform_order_id: &str,
    ) -> QueryResult<Option<Referral>> {
        referrals::table
            .filter(referrals::shop_id.eq(shop_id))
            .filter(referrals::platform_order_id.eq(platform_order_id))
            .select(Referral::as_select())
            .first(conn)
            .optional()
    }

    /// Moves the referral from `from` to `to` (compare-and-set, so two runs cannot both move
    /// it); `true` when this call moved it.
    pub fn transition(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        from: &str,
        to: &str,
        decided_by: Option<&str>,
        now: NaiveDateTime,
    ) -> QueryResult<bool> {
        let decided_at = decided_by.map(|_| now);
        let moved = diesel::update(
            referrals::table
                .filter(referrals::shop_id.eq(shop_id))
                .filter(referrals::id.eq(id))
                .filter(referrals::status.eq(from)),
        )
        .set((
            referrals::status.eq(to),
            referrals::decided_by.eq(decided_by),
            referrals::decided_at.eq(decided_at),
            referrals::updated_at.eq(now),
        ))
        .execute(conn)?;
        Ok(moved == 1)
    }
}
