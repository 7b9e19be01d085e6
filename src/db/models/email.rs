//! The mail outbox and the suppression list.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::in_list::in_list;
use crate::db::schema::{email_suppressions, emails};
use crate::db::DbConnection;

/// One message: queued by the event that causes it, sent (at most once) by the deliver job.
/// Serialisable: an applier batch working through a backlog keeps its messages back with its
/// roll-ups (`services::retention::backlog`).
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Queryable,
    Selectable,
    Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = emails)]
#[diesel(treat_none_as_default_value = false)]
pub struct Email {
    pub id: String,
    pub shop_id: String,
    pub member_id: String,
    /// `domain::mail::Kind`.
    pub kind: String,
    /// What it is about (`order:1001`, `tier_event:…`): one message per member, kind and occasion.
    pub occasion: String,
    /// `en` or `ar`.
    pub locale: String,
    /// The facts of the occasion (JSON), captured when queued.
    pub context: String,
    pub to_address: Option<String>,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    /// `services::mail::Status`.
    pub status: String,
    pub variant: Option<String>,
    pub send_after: NaiveDateTime,
    pub attempts: i32,
    pub lease_until: Option<NaiveDateTime>,
    /// The digest this capped message was merged into.
    pub digest_id: Option<String>,
    pub error: Option<String>,
    pub sent_at: Option<NaiveDateTime>,
    pub opened_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When retention erased the text (subject and recipient stay, for the owner's log).
    pub body_erased_at: Option<NaiveDateTime>,
}

impl Email {
    /// Queues the message unless this member already has one of this kind for this occasion;
    /// `false` then.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let n = crate::per_backend!(conn, |c| diesel::insert_into(emails::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(n == 1)
    }

    /// [`Email::insert_once`] for many, in as few statements as the bind limit allows; returns
    /// the ids of the rows added.
    pub fn insert_all_once(
        conn: &mut DbConnection,
        rows: &[Email],
    ) -> QueryResult<std::collections::HashSet<String>> {
        let mut added = std::collections::HashSet::with_capacity(rows.len());
        // 23 columns: well under SQLite's 32,766 bound values per statement.
        for chunk in rows.chunks(1_000) {
            let ids: Vec<String> =
                crate::per_backend!(&mut *conn, |c| diesel::insert_into(emails::table)
                    .values(chunk)
                    .on_conflict_do_nothing()
                    .returning(emails::id)
                    .get_results(c))?;
            added.extend(ids);
        }
        Ok(added)
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Email> {
        emails::table
            .filter(emails::shop_id.eq(shop_id))
            .filter(emails::id.eq(id))
            .select(Email::as_select())
            .first(conn)
    }
}

/// Whether `email` may get no marketing mail from the shop.
pub fn is_suppressed(conn: &mut DbConnection, shop_id: &str, email: &str) -> QueryResult<bool> {
    let n: i64 = email_suppressions::table
        .filter(email_suppressions::shop_id.eq(shop_id))
        .filter(email_suppressions::email.eq(email))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Which of `emails` are on the shop's suppression list, in one read.
pub fn suppressed_among(
    conn: &mut DbConnection,
    shop_id: &str,
    emails: &[&str],
) -> QueryResult<std::collections::HashSet<String>> {
    let listed: Vec<String> = email_suppressions::table
        .filter(email_suppressions::shop_id.eq(shop_id))
        .filter(in_list(email_suppressions::email, emails))
        .select(email_suppressions::email)
        .load(conn)?;
    Ok(listed.into_iter().collect())
}

/// Adds `email` to the shop's suppression list (once; the first reason stays).
pub fn suppress(
    conn: &mut DbConnection,
    shop_id: &str,
    email: &str,
    reason: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    crate::per_backend!(conn, |c| diesel::insert_into(email_suppressions::table)
        .values((
            email_suppressions::shop_id.eq(shop_id),
            email_suppressions::email.eq(email),
            email_suppressions::reason.eq(reason),
            email_suppressions::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(())
}

/// Takes `email` off the list (the customer opted back in).
pub fn unsuppress(conn: &mut DbConnection, shop_id: &str, email: &str) -> QueryResult<()> {
    diesel::delete(
        email_suppressions::table
            .filter(email_suppressions::shop_id.eq(shop_id))
            .filter(email_suppressions::email.eq(email)),
    )
    .execute(conn)?;
    Ok(())
}
