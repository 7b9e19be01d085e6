//! Outgoing webhook subscriptions: where a shop wants to be told of its members' changes, and
//! the key the messages are signed with (sealed, like the shop's other secrets).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::webhook_subscriptions;
use crate::db::DbConnection;

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Identifiable)]
#[diesel(table_name = webhook_subscriptions)]
#[diesel(treat_none_as_default_value = false)]
pub struct WebhookSubscription {
    pub id: String,
    pub shop_id: String,
    pub url: String,
    /// A JSON array of topic names.
    pub topics: String,
    /// The `whsec_…` secret, sealed for the shop (`SealedField::WebhookSubscriptionSecret`).
    pub secret_enc: String,
    /// Off once a message failed for 24 h; the owner turns it back on with a redelivery.
    pub enabled: bool,
    pub disabled_at: Option<NaiveDateTime>,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Local methods
impl WebhookSubscription {
    /// The topic names the subscription asked for.
    pub fn topic_names(&self) -> Vec<String> {
        serde_json::from_str(&self.topics).unwrap_or_default()
    }

    pub fn wants(&self, topic: &str) -> bool {
        self.topic_names().iter().any(|t| t == topic)
    }
}

/// Database methods
impl WebhookSubscription {
    pub fn insert(&self, conn: &mut DbConnection) -> QueryResult<()> {
        diesel::insert_into(webhook_subscriptions::table)
            .values(self.clone())
            .execute(conn)?;
        Ok(())
    }

    pub fn find(conn: &mut DbConnection, shop_id: &str, id: &str) -> QueryResult<Self> {
        webhook_subscriptions::table
            .filter(webhook_subscriptions::shop_id.eq(shop_id))
            .filter(webhook_subscriptions::id.eq(id))
            .select(Self::as_select())
            .first(conn)
    }

    /// The shop's subscriptions, oldest first.
    pub fn list(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<Self>> {
        webhook_subscriptions::table
            .filter(webhook_subscriptions::shop_id.eq(shop_id))
            .order((
                webhook_subscriptions::created_at.asc(),
                webhook_subscriptions::id.asc(),
            ))
            .select(Self::as_select())
            .load(conn)
    }

    /// The shop's enabled subscriptions: looked up on every change that could be told, so it
    /// runs on the native connection and is one probe of `webhook_subscriptions_by_shop`.
    pub fn enabled(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<Self>> {
        crate::per_backend!(conn, |c| webhook_subscriptions::table
            .filter(webhook_subscriptions::shop_id.eq(shop_id))
            .filter(webhook_subscriptions::enabled.eq(true))
            .select(Self::as_select())
            .load(c))
    }

    /// Turns the subscription off (`reason` for the owner) or back on (`None`).
    pub fn set_enabled(
        conn: &mut DbConnection,
        shop_id: &str,
        id: &str,
        disabled: Option<&str>,
        at: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            webhook_subscriptions::table
                .filter(webhook_subscriptions::shop_id.eq(shop_id))
                .filter(webhook_subscriptions::id.eq(id)),
        )
        .set((
            webhook_subscriptions::enabled.eq(disabled.is_none()),
            webhook_subscriptions::disabled_at.eq(disabled.map(|_| at)),
            webhook_subscriptions::disabled_reason.eq(disabled),
            webhook_subscriptions::updated_at.eq(at),
        ))
        .execute(conn)
    }

    /// The shop's disabled subscriptions (the owner's alerts).
    pub fn disabled(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<Self>> {
        webhook_subscriptions::table
            .filter(webhook_subscriptions::shop_id.eq(shop_id))
            .filter(webhook_subscriptions::enabled.eq(false))
            .order(webhook_subscriptions::disabled_at.desc())
            .select(Self::as_select())
            .load(conn)
    }
}
