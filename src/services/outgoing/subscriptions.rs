//! The owner's subscriptions: create (the secret is shown once), list, delete.

use chrono::SecondsFormat;
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::OutgoingError;
use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::WebhookSubscription;
use crate::db::schema::{webhook_attempts, webhook_messages, webhook_subscriptions};
use crate::db::{new_id, now, write_transaction, DbConnection};
use crate::domain::outgoing::{parse_topics, parse_url, secret_of_key};

/// Enough for every integration a shop runs; a bound on the rows each change may write.
const MAX_SUBSCRIPTIONS: usize = 20;

/// `POST /api/admin/v1/webhook-subscriptions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub url: String,
    pub topics: Vec<String>,
}

/// The answer to a subscription: the secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub id: String,
    pub secret: String,
}

/// A subscription as the owner sees it (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct SubscriptionView {
    pub id: String,
    pub url: String,
    pub topics: Vec<String>,
    pub enabled: bool,
    pub disabled_at: Option<String>,
    pub disabled_reason: Option<String>,
    pub created_at: String,
}

impl From<WebhookSubscription> for SubscriptionView {
    fn from(s: WebhookSubscription) -> Self {
        let rfc3339 =
            |t: chrono::NaiveDateTime| t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true);
        Self {
            topics: s.topic_names(),
            id: s.id,
            url: s.url,
            enabled: s.enabled,
            disabled_at: s.disabled_at.map(rfc3339),
            disabled_reason: s.disabled_reason,
            created_at: rfc3339(s.created_at),
        }
    }
}

/// A subscription disabled after 24 h of failures, for the owner's alerts.
#[derive(Debug, Clone, Serialize)]
pub struct DisabledAlert {
    pub id: String,
    pub url: String,
    pub disabled_at: Option<String>,
    pub reason: Option<String>,
}

/// Checks and stores a subscription; nothing is written when anything is wrong.
pub fn create(
    conn: &mut DbConnection,
    keys: &Keys,
    shop_id: &str,
    new: &NewSubscription,
) -> Result<Created, OutgoingError> {
    let url = parse_url(&new.url)?;
    let topics: Vec<&str> = parse_topics(&new.topics)?
        .into_iter()
        .map(|t| t.as_str())
        .collect();
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    let secret = secret_of_key(&key);
    let id = new_id();
    write_transaction(conn, |c| {
        let held: i64 = webhook_subscriptions::table
            .filter(webhook_subscriptions::shop_id.eq(shop_id))
            .count()
            .get_result(c)?;
        if usize::try_from(held).unwrap_or(usize::MAX) >= MAX_SUBSCRIPTIONS {
            return Err(OutgoingError::TooMany(MAX_SUBSCRIPTIONS));
        }
        let at = now();
        WebhookSubscription {
            id: id.clone(),
            shop_id: shop_id.to_owned(),
            url: url.to_string(),
            topics: serde_json::json!(topics).to_string(),
            secret_enc: keys.seal(
                &secret,
                SealedFor::new(shop_id, SealedField::WebhookSubscriptionSecret),
            ),
            enabled: true,
            disabled_at: None,
            disabled_reason: None,
            created_at: at,
            updated_at: at,
        }
        .insert(c)?;
        Ok(())
    })?;
    Ok(Created { id, secret })
}

pub fn list(
    conn: &mut DbConnection,
    shop_id: &str,
) -> Result<Vec<SubscriptionView>, OutgoingError> {
    Ok(WebhookSubscription::list(conn, shop_id)?
        .into_iter()
        .map(SubscriptionView::from)
        .collect())
}

/// Deletes the shop's subscription with its messages and their log.
pub fn delete(conn: &mut DbConnection, shop_id: &str, id: &str) -> Result<(), OutgoingError> {
    write_transaction(conn, |c| {
        WebhookSubscription::find(c, shop_id, id)
            .optional()?
            .ok_or(OutgoingError::NotFound("webhook subscription"))?;
        let messages = webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::subscription_id.eq(id))
            .select(webhook_messages::id);
        diesel::delete(
            webhook_attempts::table
                .filter(webhook_attempts::shop_id.eq(shop_id))
                .filter(webhook_attempts::message_id.eq_any(messages)),
        )
        .execute(c)?;
        diesel::delete(
            webhook_messages::table
                .filter(webhook_messages::shop_id.eq(shop_id))
                .filter(webhook_messages::subscription_id.eq(id)),
        )
        .execute(c)?;
        diesel::delete(
            webhook_subscriptions::table
                .filter(webhook_subscriptions::shop_id.eq(shop_id))
                .filter(webhook_subscriptions::id.eq(id)),
        )
        .execute(c)?;
        Ok(())
    })
}

/// The shop's disabled subscriptions, most recent first.
pub fn disabled_alerts(conn: &mut DbConnection, shop_id: &str) -> QueryResult<Vec<DisabledAlert>> {
    Ok(WebhookSubscription::disabled(conn, shop_id)?
        .into_iter()
        .map(|s| {
            let view = SubscriptionView::from(s);
            DisabledAlert {
                id: view.id,
                url: view.url,
                disabled_at: view.disabled_at,
                reason: view.disabled_reason,
            }
        })
        .collect())
}
