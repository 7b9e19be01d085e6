//! The webhook inbox: every verified delivery is stored here before it is acknowledged, so a
//! 200 is never lost. The unique (shop, platform, delivery id) makes redeliveries duplicates.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::inbox_events;
use crate::db::stored_body::StoredBody;
use crate::db::types::{InboxStatus, Platform};
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = inbox_events)]
pub struct InboxEvent {
    pub id: String,
    pub shop_id: String,
    #[diesel(deserialize_as = String)]
    pub platform: Platform,
    pub topic: String,
    /// The platform's per-delivery id (`X-Shopify-Webhook-Id`), the deduplication key.
    pub delivery_id: String,
    /// The platform's per-event id (`X-Shopify-Event-Id`), kept for tracing.
    pub event_id: Option<String>,
    pub api_version: Option<String>,
    pub triggered_at: Option<NaiveDateTime>,
    /// The raw body exactly as signed (compressed in the database on SQLite: `db::stored_body`).
    #[diesel(deserialize_as = StoredBody)]
    pub payload: String,
    #[diesel(deserialize_as = String)]
    pub status: InboxStatus,
    pub error: Option<String>,
    pub attempts: i32,
    pub received_at: NaiveDateTime,
    pub processed_at: Option<NaiveDateTime>,
    /// When retention (or `shop/redact`) erased the body; such an event cannot be replayed.
    pub body_erased_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = inbox_events)]
// None binds NULL instead of omitting the column: one SQL text per insert, so SQLite can reuse
// the prepared statement (with omitted columns, diesel prepares every insert afresh).
#[diesel(treat_none_as_default_value = false)]
pub struct NewInboxEvent {
    pub id: String,
    pub shop_id: String,
    #[diesel(serialize_as = String)]
    pub platform: Platform,
    pub topic: String,
    pub delivery_id: String,
    pub event_id: Option<String>,
    pub api_version: Option<String>,
    pub triggered_at: Option<NaiveDateTime>,
    #[diesel(serialize_as = StoredBody)]
    pub payload: String,
    #[diesel(serialize_as = String)]
    pub status: InboxStatus,
    pub error: Option<String>,
    pub attempts: i32,
    pub received_at: NaiveDateTime,
    pub processed_at: Option<NaiveDateTime>,
}

impl NewInboxEvent {
    /// Stores the delivery unless the same delivery is already stored; returns whether it was new.
    pub fn insert_once(&self, conn: &mut DbConnection) -> QueryResult<bool> {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(inbox_events::table)
            .values(self.clone())
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }

    /// [`NewInboxEvent::insert_once`], recording who and what the delivery is about (platform
    /// customer id and order id), the keys a `customers/redact` finds the person's bodies by.
    pub fn insert_once_about(
        &self,
        conn: &mut DbConnection,
        customer_id: Option<&str>,
        order_id: Option<&str>,
    ) -> QueryResult<bool> {
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(inbox_events::table)
            .values((
                self.clone(),
                inbox_events::customer_id.eq(customer_id),
                inbox_events::order_id.eq(order_id),
            ))
            .on_conflict_do_nothing()
            .execute(c))?;
        Ok(inserted == 1)
    }
}

/// A row to store with who and what the delivery is about (platform customer id and order
/// id), as [`NewInboxEvent::insert_once_about`] takes them.
pub type AboutRow<'a> = (&'a NewInboxEvent, Option<&'a str>, Option<&'a str>);

impl NewInboxEvent {
    /// [`NewInboxEvent::insert_once_about`] for many rows, one statement per chunk: returns the
    /// ids of the rows stored (the others were already stored, or repeat an earlier row of
    /// `rows`: the first of equal deliveries is the one stored, as one by one).
    pub fn insert_all_once_about(
        conn: &mut DbConnection,
        rows: &[AboutRow<'_>],
    ) -> QueryResult<std::collections::HashSet<String>> {
        let mut stored = std::collections::HashSet::with_capacity(rows.len());
        // 16 columns: 512 rows stay well under SQLite's 32,766 bound values per statement.
        for chunk in rows.chunks(512) {
            let values: Vec<_> = chunk
                .iter()
                .map(|(row, customer_id, order_id)| {
                    (
                        (*row).clone(),
                        inbox_events::customer_id.eq(*customer_id),
                        inbox_events::order_id.eq(*order_id),
                    )
                })
                .collect();
            let ids: Vec<String> =
                crate::per_backend!(&mut *conn, |c| diesel::insert_into(inbox_events::table)
                    .values(values)
                    .on_conflict_do_nothing()
                    .returning(inbox_events::id)
                    .get_results(c))?;
            stored.extend(ids);
        }
        Ok(stored)
    }
}

impl InboxEvent {
    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<InboxEvent> {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(inbox_events::id.eq(id))
            .select(InboxEvent::as_select())
            .first(conn)
    }

    /// [`InboxEvent::find`], with the platform customer id and order id the event is about (as
    /// recorded when it was stored; `None` for rows stored before they were).
    pub fn find_with_subject(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
    ) -> QueryResult<(InboxEvent, Option<String>, Option<String>)> {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(inbox_events::id.eq(id))
            .select((
                InboxEvent::as_select(),
                inbox_events::customer_id,
                inbox_events::order_id,
            ))
            .first(conn)
    }

    /// Records the outcome of applying the event.
    pub fn mark(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        status: InboxStatus,
        error: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        // Native connection: once per webhook applied (see `Shop::find_by_domain`).
        crate::per_backend!(conn, |c| diesel::update(
            inbox_events::table
                .filter(inbox_events::shop_id.eq(shop_id))
                .filter(inbox_events::id.eq(id)),
        )
        .set((
            inbox_events::status.eq(status.as_str()),
            inbox_events::error.eq(error),
            inbox_events::attempts.eq(inbox_events::attempts + 1),
            inbox_events::processed_at.eq(Some(at)),
        ))
        .execute(c))?;
        Ok(())
    }

    /// Marks applied events with one outcome, in one statement (an applier batch): rows it
    /// claimed itself, named by their primary key alone. (With the shop's id beside a list of
    /// ids, SQLite walks the shop's whole inbox by its shop index instead of the keys.)
    pub fn mark_all(
        conn: &mut DbConnection,
        ids: &[String],
        status: InboxStatus,
        at: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(inbox_events::table.filter(inbox_events::id.eq_any(ids)))
            .set((
                inbox_events::status.eq(status.as_str()),
                inbox_events::error.eq(None::<String>),
                inbox_events::attempts.eq(inbox_events::attempts + 1),
                inbox_events::processed_at.eq(Some(at)),
            ))
            .execute(conn)?;
        Ok(())
    }

    /// Marks a failed event dismissed (the owner gave up on it); false if it was not failed.
    pub fn dismiss(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<bool> {
        let changed = diesel::update(
            inbox_events::table
                .filter(inbox_events::shop_id.eq(shop_id))
                .filter(inbox_events::id.eq(id))
                .filter(inbox_events::status.eq(InboxStatus::Failed.as_str())),
        )
        .set(inbox_events::status.eq(InboxStatus::Dismissed.as_str()))
        .execute(conn)?;
        Ok(changed == 1)
    }

    /// A shop's events in a given state, oldest first (worker and owner views).
    pub fn list_by_status(
        conn: &mut DbConnection,
        shop_id: &str,
        status: InboxStatus,
        limit: i64,
    ) -> QueryResult<Vec<InboxEvent>> {
        let mut events: Vec<InboxEvent> = inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .filter(inbox_events::status.eq(status.as_str()))
            .order(inbox_events::received_at.asc())
            .limit(limit)
            .select(InboxEvent::as_select())
            .load(conn)?;
        // On SQLite, deliveries acknowledged and not yet moved into the inbox are pending too,
        // and younger than any pending there (`db::arrivals`).
        let room = limit - i64::try_from(events.len()).unwrap_or(limit);
        if status == InboxStatus::Pending && room > 0 {
            events.extend(crate::db::arrivals::waiting_for_shop(conn, shop_id, room)?);
        }
        Ok(events)
    }

    pub fn count_for_shop(conn: &mut DbConnection, shop_id: &str) -> QueryResult<i64> {
        inbox_events::table
            .filter(inbox_events::shop_id.eq(shop_id))
            .count()
            .get_result(conn)
    }
}

impl From<NewInboxEvent> for InboxEvent {
    /// The row as stored, without reading it back.
    fn from(n: NewInboxEvent) -> Self {
        Self {
            id: n.id,
            shop_id: n.shop_id,
            platform: n.platform,
            topic: n.topic,
            delivery_id: n.delivery_id,
            event_id: n.event_id,
            api_version: n.api_version,
            triggered_at: n.triggered_at,
            payload: n.payload,
            status: n.status,
            error: n.error,
            attempts: n.attempts,
            received_at: n.received_at,
            processed_at: n.processed_at,
            body_erased_at: None,
        }
    }
}
