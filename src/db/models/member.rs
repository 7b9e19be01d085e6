//! A shop's customer in the loyalty program. Balances here are a cache of the ledger, updated in
//! the same transaction as every ledger line (see `services::ledger`).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::db::schema::members;
use crate::db::shop_keys::shop_keys;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = members)]
pub struct Member {
    pub id: String,
    pub shop_id: String,
    /// The platform's customer id; `None` for a guest known only by e-mail.
    pub platform_customer_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub accepts_marketing: bool,
    /// Confirmed, spendable points.
    pub points_balance: i64,
    /// Points earned but still inside the return window.
    pub pending_points: i64,
    pub lifetime_points: i64,
    pub tier: Option<String>,
    pub referral_code: Option<String>,
    /// Set when a guest was merged into a customer account; the guest row is then inert.
    pub merged_into: Option<String>,
    pub redacted_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The platform's `updated_at` of the customer facts last applied (stale ones are skipped).
    pub profile_updated_at: Option<NaiveDateTime>,
    /// The stored e-mail is proven the member's (verified by the platform, or ordered with).
    pub email_verified: bool,
    /// How the member holds `tier`: `qualified`, `grace` or `membership` (`domain::tiers::HeldBy`).
    pub tier_held_by: String,
    /// The next day the scheduled tier review must look at this member.
    pub tier_review_at: Option<NaiveDate>,
    /// The customer's language as the platform last reported it (`en-GB`, `ar`).
    pub locale: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = members)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewMember {
    pub id: String,
    pub shop_id: String,
    pub platform_customer_id: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birthday: Option<NaiveDate>,
    pub accepts_marketing: bool,
    pub referral_code: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_verified: bool,
    pub locale: Option<String>,
}

impl NewMember {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<Member> {
        diesel::insert_into(members::table)
            .values(self.clone())
            .execute(conn)?;
        Member::find(conn, &self.shop_id, &self.id)
    }
}

/// Reads `$select` of the shop's member `$id`, the row locked as [`Member::lock`] says. A macro:
/// the selection is typed by the backend it loads from, so it is spelled once per backend.
macro_rules! first_locked {
    ($conn:expr, $shop_id:expr, $id:expr, $select:expr) => {{
        let row = members::table
            .filter(members::shop_id.eq($shop_id))
            .filter(members::id.eq($id));
        match $conn {
            DbConnection::Postgresql(c) => row.select($select).for_no_key_update().first(c),
            DbConnection::Sqlite(c) => row.select($select).first(c),
        }
    }};
}

impl Member {
    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Member> {
        crate::per_backend!(conn, |c| members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::id.eq(id))
            .select(Member::as_select())
            .first(c))
    }

    pub fn find_by_customer_id(
        conn: &mut DbConnection,
        shop_id: &str,
        customer_id: &str,
    ) -> QueryResult<Option<Member>> {
        // Native connection: the hottest lookup (every order, every widget read); see
        // `Shop::find_by_domain`.
        crate::per_backend!(conn, |c| members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::platform_customer_id.eq(customer_id))
            .select(Member::as_select())
            .first(c)
            .optional())
    }

    /// The member with the customer id and the live guest with the e-mail, in one read: the
    /// order path looks for both on every order of an account.
    pub fn find_by_customer_id_and_guest(
        conn: &mut DbConnection,
        shop_id: &str,
        customer_id: &str,
        email: &str,
    ) -> QueryResult<(Option<Member>, Option<Member>)> {
        // A union, not one `OR`: each half uses its own index (SQLite would not combine them).
        let rows: Vec<Member> = crate::per_backend!(conn, |c| members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::platform_customer_id.eq(customer_id))
            .select(Member::as_select())
            .union_all(
                members::table
                    .filter(members::shop_id.eq(shop_id))
                    .filter(members::email.eq(email))
                    .filter(members::platform_customer_id.is_null())
                    .filter(members::merged_into.is_null())
                    .select(Member::as_select()),
            )
            .load(c))?;
        let (accounts, guests): (Vec<Member>, Vec<Member>) = rows
            .into_iter()
            .partition(|m| m.platform_customer_id.is_some());
        Ok((accounts.into_iter().next(), guests.into_iter().next()))
    }

    /// The live guest member for an e-mail (no customer account, not merged).
    pub fn find_guest_by_email(
        conn: &mut DbConnection,
        shop_id: &str,
        email: &str,
    ) -> QueryResult<Option<Member>> {
        crate::per_backend!(conn, |c| members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::email.eq(email))
            .filter(members::platform_customer_id.is_null())
            .filter(members::merged_into.is_null())
            .select(Member::as_select())
            .first(c)
            .optional())
    }

    /// Reads the member and, on PostgreSQL, locks the row until the transaction ends, so two
    /// concurrent changes to one balance serialise. (SQLite writes already hold the database
    /// write lock from `BEGIN IMMEDIATE`.) `FOR NO KEY UPDATE`, not `FOR UPDATE`: inserting a
    /// row that references the member (a redemption, a tier grant, a survey…) takes a `KEY
    /// SHARE` lock on it through its foreign key, and `FOR UPDATE` would deadlock two such
    /// writes for one customer against each other. (The rows written for every order carry no
    /// foreign keys on PostgreSQL: `migrations/postgres/…_order_rows_without_foreign_keys`.)
    pub fn lock(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Member> {
        first_locked!(conn, shop_id, id, Member::as_select())
    }

    /// [`Member::lock`], and in the same read whether the ledger already holds a line with
    /// `idempotency_key` (then the caller posts nothing): one round trip per posting instead
    /// of two.
    pub fn lock_for_posting(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        idempotency_key: &str,
    ) -> QueryResult<(Member, bool)> {
        use crate::db::schema::ledger_entries;
        // Only the member's row is locked; the subquery's rows are read, not locked.
        first_locked!(
            conn,
            shop_id,
            id,
            (
                Member::as_select(),
                diesel::dsl::exists(
                    ledger_entries::table
                        .filter(ledger_entries::shop_id.eq(shop_id))
                        .filter(ledger_entries::idempotency_key.eq(idempotency_key)),
                ),
            )
        )
    }

    /// The shop's members with any of the platform customer ids, in one read (an applier
    /// batch's accounts, `services::batch`).
    pub fn find_by_customer_ids(
        conn: &mut DbConnection,
        shop_id: &str,
        customer_ids: &[&str],
    ) -> QueryResult<Vec<Member>> {
        members::table
            .filter(shop_keys(
                members::shop_id,
                shop_id,
                members::platform_customer_id,
                customer_ids,
            ))
            .select(Member::as_select())
            .load(conn)
    }

    /// The shop's live guests (no account, not merged) with any of the e-mails, in one read.
    pub fn find_guests_by_emails(
        conn: &mut DbConnection,
        shop_id: &str,
        emails: &[&str],
    ) -> QueryResult<Vec<Member>> {
        members::table
            .filter(shop_keys(members::shop_id, shop_id, members::email, emails))
            .filter(members::platform_customer_id.is_null())
            .filter(members::merged_into.is_null())
            .select(Member::as_select())
            .load(conn)
    }

    /// Members of a shop, most recent first (admin and demo listings).
    pub fn list(conn: &mut DbConnection, shop_id: &str, limit: i64) -> QueryResult<Vec<Member>> {
        members::table
            .filter(members::shop_id.eq(shop_id))
            .filter(members::merged_into.is_null())
            .order(members::created_at.desc())
            .limit(limit)
            .select(Member::as_select())
            .load(conn)
    }
}

impl NewMember {
    /// Inserts unless a member with the same customer id (or, for a guest, the same e-mail)
    /// exists, and returns whichever row is there. Two deliveries for a new customer arriving at
    /// once on PostgreSQL both get the one row instead of one failing on the unique index.
    pub fn insert_or_get(&self, conn: &mut DbConnection) -> QueryResult<Member> {
        // The row made here comes back from the insert itself; only a lost race reads.
        let inserted = crate::per_backend!(&mut *conn, |c| diesel::insert_into(members::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .returning(Member::as_returning())
            .get_result(c)
            .optional())?;
        if let Some(member) = inserted {
            return Ok(member);
        }
        let existing = match (&self.platform_customer_id, &self.email) {
            (Some(id), _) => Member::find_by_customer_id(conn, &self.shop_id, id)?,
            (None, Some(email)) => Member::find_guest_by_email(conn, &self.shop_id, email)?,
            (None, None) => None,
        };
        match existing {
            Some(m) => Ok(m),
            None => Member::find(conn, &self.shop_id, &self.id),
        }
    }
}
