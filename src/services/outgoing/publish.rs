//! Writing messages into the outbox, in the transaction of the change they tell of: if the
//! change rolls back, so do its messages; if it commits, they are delivered, even after a crash.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::models::{message_status, WebhookMessage, WebhookSubscription};
use crate::db::schema::shops;
use crate::db::DbConnection;
use crate::domain::outgoing::{envelope, Topic};
use crate::queue::{JobKind, JobSpec};

/// Whether any enabled subscription of the shop wants `topic`: batch writers (the import) ask
/// once per batch instead of once per row.
pub fn wants(conn: &mut DbConnection, shop_id: &str, topic: Topic) -> QueryResult<bool> {
    Ok(
        crate::services::batch::enabled_subscriptions(conn, shop_id)?
            .iter()
            .any(|s| s.wants(topic.as_str())),
    )
}

/// Queues one message of `topic` per enabled subscription of the shop that wants it; `data`
/// builds the envelope's `data` (the shop's domain is added as `shop`) and runs only when some
/// subscription wants the topic, so a shop without subscriptions pays one index probe (one per
/// applier batch: `services::batch`).
/// Returns how many messages were queued.
pub fn publish(
    conn: &mut DbConnection,
    shop_id: &str,
    topic: Topic,
    at: NaiveDateTime,
    data: impl FnOnce(&mut DbConnection) -> QueryResult<serde_json::Value>,
) -> QueryResult<usize> {
    let wanting: Vec<WebhookSubscription> =
        crate::services::batch::enabled_subscriptions(conn, shop_id)?
            .into_iter()
            .filter(|s| s.wants(topic.as_str()))
            .collect();
    if wanting.is_empty() {
        return Ok(0);
    }
    let mut data = data(conn)?;
    let domain: String = shops::table
        .find(shop_id)
        .select(shops::domain)
        .first(conn)?;
    if let Some(map) = data.as_object_mut() {
        map.insert("shop".into(), domain.into());
    }
    let body = envelope(topic, at, data).to_string();
    let rows: Vec<WebhookMessage> = wanting
        .into_iter()
        .map(|s| WebhookMessage {
            id: message_id(),
            shop_id: shop_id.to_owned(),
            subscription_id: s.id,
            topic: topic.as_str().to_owned(),
            payload: body.clone(),
            status: message_status::PENDING.to_owned(),
            attempts: 0,
            next_attempt_at: Some(at),
            lease_until: None,
            last_attempt_at: None,
            delivered_at: None,
            created_at: at,
            updated_at: at,
        })
        .collect();
    let queued = WebhookMessage::insert_all(conn, &rows)?;
    wake_deliverer(conn, shop_id, at)?;
    Ok(queued)
}

/// A message id in the style of Standard Webhooks' examples (`msg_…`), time-ordered.
fn message_id() -> String {
    format!("msg_{}", uuid::Uuid::now_v7().simple())
}

/// Asks for a deliver job at `at` (one per shop and second: many changes in one second share it).
pub(super) fn wake_deliverer(
    conn: &mut DbConnection,
    shop_id: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    crate::services::batch::wake(
        conn,
        JobSpec {
            shop_id: shop_id.to_owned(),
            kind: JobKind::DeliverWebhooks,
            payload: serde_json::json!({}),
            dedupe_key: Some(format!("webhooks:{}", at.format("%Y-%m-%dT%H:%M:%S"))),
            run_at: at,
            max_attempts: 10,
        },
    )
}
