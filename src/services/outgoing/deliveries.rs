//! The owner's delivery log, and redelivery by hand.

use chrono::{NaiveDateTime, SecondsFormat};
use diesel::prelude::*;
use serde::Serialize;

use super::deliver::{record, signing_key, Cause};
use super::send::send;
use super::OutgoingError;
use crate::crypto::Keys;
use crate::db::models::{WebhookAttempt, WebhookMessage, WebhookSubscription};
use crate::db::{now, write_transaction, Db, DbConnection};

/// How many recent messages the log shows.
const LOG_LIMIT: i64 = 100;

/// One message and its attempts.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryView {
    /// Also the `webhook-id` of every attempt.
    pub id: String,
    pub topic: String,
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: String,
    pub payload: serde_json::Value,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
    pub attempts: Vec<AttemptView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub at: String,
    pub status_code: Option<i32>,
    pub duration_ms: i64,
    pub error: Option<String>,
    /// `scheduled` or `redeliver`.
    pub cause: String,
}

fn rfc3339(at: NaiveDateTime) -> String {
    at.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn view(message: WebhookMessage, attempts: &[WebhookAttempt]) -> DeliveryView {
    DeliveryView {
        attempts: attempts
            .iter()
            .filter(|a| a.message_id == message.id)
            .map(|a| AttemptView {
                at: rfc3339(a.attempted_at),
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                error: a.error.clone(),
                cause: a.cause.clone(),
            })
            .collect(),
        payload: serde_json::from_str(&message.payload).unwrap_or(serde_json::Value::Null),
        id: message.id,
        topic: message.topic,
        status: message.status,
        created_at: rfc3339(message.created_at),
        next_attempt_at: message.next_attempt_at.map(rfc3339),
        delivered_at: message.delivered_at.map(rfc3339),
    }
}

/// The most recent messages of the shop's subscription, newest first.
pub fn list_deliveries(
    conn: &mut DbConnection,
    shop_id: &str,
    subscription_id: &str,
) -> Result<Vec<DeliveryView>, OutgoingError> {
    WebhookSubscription::find(conn, shop_id, subscription_id)
        .optional()?
        .ok_or(OutgoingError::NotFound("webhook subscription"))?;
    let messages = WebhookMessage::recent(conn, shop_id, subscription_id, LOG_LIMIT)?;
    let ids: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    let attempts = WebhookAttempt::of_messages(conn, shop_id, &ids)?;
    Ok(messages.into_iter().map(|m| view(m, &attempts)).collect())
}

/// Makes one attempt of the message now, whatever its state, and answers the message as it
/// then is. `enable` turns a disabled subscription back on first (its future messages flow
/// again); without it a disabled subscription stays off.
pub async fn redeliver(
    db: &Db,
    keys: &Keys,
    shop_id: &str,
    subscription_id: Option<&str>,
    message_id: &str,
    enable: bool,
) -> Result<DeliveryView, OutgoingError> {
    let (shop, sub, msg) = (
        shop_id.to_owned(),
        subscription_id.map(str::to_owned),
        message_id.to_owned(),
    );
    let (subscription, message) = db
        .run(move |c| {
            let message = WebhookMessage::find_in_shop(c, &shop, &msg)
                .optional()?
                .filter(|m| sub.as_ref().is_none_or(|s| *s == m.subscription_id))
                .ok_or(OutgoingError::NotFound("webhook delivery"))?;
            let subscription = WebhookSubscription::find(c, &shop, &message.subscription_id)?;
            if enable && !subscription.enabled {
                write_transaction(c, |c| {
                    WebhookSubscription::set_enabled(c, &shop, &subscription.id, None, now())
                })?;
            }
            Ok::<_, OutgoingError>((subscription, message))
        })
        .await?;
    let key = signing_key(keys, &subscription).map_err(|_| OutgoingError::Unreadable)?;
    let outcome = send(&subscription.url, &key, &message.id, &message.payload).await;
    let shop = shop_id.to_owned();
    db.run(move |c| {
        write_transaction(c, |c| record(c, &message, &outcome, Cause::Redeliver))?;
        let message = WebhookMessage::find_in_shop(c, &shop, &message.id)?;
        let attempts = WebhookAttempt::of_messages(c, &shop, std::slice::from_ref(&message.id))?;
        Ok(view(message, &attempts))
    })
    .await
}
