//! The outgoing webhook outbox: one message per (subscription, event), written in the
//! transaction of the change it tells of, and one attempt row per try (the owner's log).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{webhook_attempts, webhook_messages};
use crate::db::DbConnection;

/// Where a message is.
pub mod message_status {
    /// Waiting for its (next) try at `next_attempt_at`.
    pub const PENDING: &str = "pending";
    /// Leased by a deliver job until `lease_until`.
    pub const SENDING: &str = "sending";
    /// A 2xx came back.
    pub const DELIVERED: &str = "delivered";
    /// Given up after 24 h (or its subscription was disabled); redelivery still works.
    pub const FAILED: &str = "failed";
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = webhook_messages)]
#[diesel(treat_none_as_default_value = false)]
pub struct WebhookMessage {
    /// Also the `webhook-id` header of every attempt (`msg_…`).
    pub id: String,
    pub shop_id: String,
    pub subscription_id: String,
    pub topic: String,
    /// The exact body sent on every attempt (the signature covers it).
    pub payload: String,
    pub status: String,
    /// Scheduled attempts made (redeliveries are logged but do not move the schedule).
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_attempts)]
#[diesel(treat_none_as_default_value = false)]
pub struct WebhookAttempt {
    pub id: String,
    pub shop_id: String,
    pub message_id: String,
    pub attempted_at: NaiveDateTime,
    /// The receiver's status; `None` when no answer came (timeout, connection refused).
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// `scheduled` (the deliver job) or `redeliver` (the owner asked).
    pub cause: String,
}

impl WebhookMessage {
    pub fn insert_all(conn: &mut DbConnection, rows: &[Self]) -> QueryResult<usize> {
        crate::per_backend!(conn, |c| diesel::insert_into(webhook_messages::table)
            .values(rows.to_vec())
            .execute(c))
    }

    /// A message of one of the shop's subscriptions.
    pub fn find(
        conn: &mut DbConnection,
        shop_id: &str,
        subscription_id: &str,
        id: &str,
    ) -> QueryResult<Self> {
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::subscription_id.eq(subscription_id))
            .filter(webhook_messages::id.eq(id))
            .select(Self::as_select())
            .first(conn)
    }

    /// A message of the shop, whichever its subscription.
    pub fn find_in_shop(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Self> {
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::id.eq(id))
            .select(Self::as_select())
            .first(conn)
    }

    /// The most recent messages of a subscription.
    pub fn recent(
        conn: &mut DbConnection,
        shop_id: &str,
        subscription_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<Self>> {
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::subscription_id.eq(subscription_id))
            .order((
                webhook_messages::created_at.desc(),
                webhook_messages::id.desc(),
            ))
            .limit(limit)
            .select(Self::as_select())
            .load(conn)
    }
}

impl WebhookAttempt {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(webhook_attempts::table)
            .values(self.clone())
            .execute(conn)?;
        Ok(())
    }

    /// The attempts of the given messages of the shop, oldest first.
    pub fn of_messages(
        conn: &mut DbConnection,
        shop_id: &str,
        message_ids: &[String],
    ) -> QueryResult<Vec<Self>> {
        webhook_attempts::table
            .filter(webhook_attempts::shop_id.eq(shop_id))
            .filter(webhook_attempts::message_id.eq_any(message_ids))
            .order((
                webhook_attempts::attempted_at.asc(),
                webhook_attempts::id.asc(),
            ))
            .select(Self::as_select())
            .load(conn)
    }
}
