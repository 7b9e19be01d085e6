//! What the outbox keeps of people: a redacted customer's messages lose their bodies (which
//! name them), and the log is pruned after [`LOG_KEPT`].

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::models::message_status;
use crate::db::schema::{webhook_attempts, webhook_messages};
use crate::db::DbConnection;

/// How long settled messages (delivered or failed) and their attempts stay in the owner's log.
pub const LOG_KEPT: Duration = Duration::days(30);

/// Erases the bodies of the shop's messages about a redacted customer (by their platform id or
/// e-mail, as the envelopes write them); those not sent yet will not be.
pub fn forget_customer(
    conn: &mut DbConnection,
    shop_id: &str,
    customer_id: Option<&str>,
    email: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    // The envelopes are compact JSON (`serde_json::to_string`), so a field reads exactly so.
    let patterns: Vec<String> = [
        customer_id.map(|id| format!("\"customer_id\":{}", serde_json::json!(id))),
        email.map(|e| format!("\"email\":{}", serde_json::json!(e))),
    ]
    .into_iter()
    .flatten()
    .map(|p| format!("%{p}%"))
    .collect();
    let mut erased = 0;
    for pattern in patterns {
        let about = || {
            webhook_messages::table
                .filter(webhook_messages::shop_id.eq(shop_id))
                .filter(webhook_messages::payload.like(pattern.clone()))
        };
        diesel::update(about().filter(webhook_messages::status.eq(message_status::PENDING)))
            .set((
                webhook_messages::status.eq(message_status::FAILED),
                webhook_messages::next_attempt_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        erased += diesel::update(about())
            .set((
                webhook_messages::payload.eq("{}"),
                webhook_messages::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(erased)
}

/// Deletes the shop's settled messages made before `now - LOG_KEPT`, with their attempts;
/// returns how many messages went.
pub fn prune_log(conn: &mut DbConnection, shop_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    let old = webhook_messages::table
        .filter(webhook_messages::shop_id.eq(shop_id))
        .filter(webhook_messages::created_at.lt(now - LOG_KEPT))
        .filter(
            webhook_messages::status.eq_any([message_status::DELIVERED, message_status::FAILED]),
        )
        .select(webhook_messages::id);
    diesel::delete(
        webhook_attempts::table
            .filter(webhook_attempts::shop_id.eq(shop_id))
            .filter(webhook_attempts::message_id.eq_any(old)),
    )
    .execute(conn)?;
    diesel::delete(
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::created_at.lt(now - LOG_KEPT))
            .filter(
                webhook_messages::status
                    .eq_any([message_status::DELIVERED, message_status::FAILED]),
            ),
    )
    .execute(conn)
}
