//! The `deliver_webhooks` job: sends a shop's due messages, a batch at a time, the batch's
//! attempts concurrently, and records each attempt and what follows it.
//!
//! A message is leased (`sending`) with a compare-and-set before it is sent, so two workers
//! never send one message at once; a worker that dies lets the lease lapse and the message
//! goes again with the same `webhook-id` (receivers dedupe on it). The next try is computed
//! from the stored times (`after_failure`), so nothing depends on a process staying up.

use std::collections::HashMap;

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use secrecy::ExposeSecret;

use super::publish::wake_deliverer;
use super::send::{send, Outcome};
use crate::crypto::{Keys, SealedField, SealedFor};
use crate::db::models::{message_status, WebhookAttempt, WebhookMessage, WebhookSubscription};
use crate::db::schema::{webhook_messages, webhook_subscriptions};
use crate::db::{new_id, now, write_transaction, DbConnection};
use crate::domain::outgoing::{after_failure, key_of_secret, AfterFailure};
use crate::queue::{Job, JobError};

/// Messages claimed at once; their attempts run concurrently.
const BATCH: i64 = 32;
/// How long a claimed message is reserved: far longer than a batch's attempts can take (they
/// run concurrently, each bounded by `ATTEMPT_TIMEOUT`).
const LEASE: Duration = Duration::minutes(2);

/// Why an attempt was made (the log's `cause`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    Scheduled,
    Redeliver,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Redeliver => "redeliver",
        }
    }
}

/// Runs the job for `job.shop_id`.
pub fn deliver_job(
    conn: &mut DbConnection,
    runtime: &tokio::runtime::Handle,
    keys: &Keys,
    job: &Job,
) -> Result<(), JobError> {
    let shop_id = job.shop_id.as_str();
    loop {
        let claimed = write_transaction(conn, |c| claim(c, shop_id, now()))?;
        if claimed.is_empty() {
            break;
        }
        let subscriptions: HashMap<String, WebhookSubscription> =
            WebhookSubscription::list(conn, shop_id)?
                .into_iter()
                .map(|s| (s.id.clone(), s))
                .collect();
        let attempts = claimed.iter().map(|message| {
            let target = subscriptions
                .get(&message.subscription_id)
                .ok_or("the subscription was deleted")
                .and_then(|s| signing_key(keys, s).map(|key| (s.url.clone(), key)));
            async move {
                match target {
                    Ok((url, key)) => send(&url, &key, &message.id, &message.payload).await,
                    Err(why) => Outcome::not_sent(why),
                }
            }
        });
        let outcomes = runtime.block_on(futures_util::future::join_all(attempts));
        write_transaction(conn, |c| -> QueryResult<()> {
            for (message, outcome) in claimed.iter().zip(&outcomes) {
                record(c, message, outcome, Cause::Scheduled)?;
            }
            Ok(())
        })?;
    }
    // Messages waiting for a later try wake a job of their own.
    let next: Option<NaiveDateTime> = webhook_messages::table
        .filter(webhook_messages::shop_id.eq(shop_id))
        .filter(webhook_messages::status.eq(message_status::PENDING))
        .select(diesel::dsl::min(webhook_messages::next_attempt_at))
        .first(conn)?;
    if let Some(at) = next {
        write_transaction(conn, |c| wake_deliverer(c, shop_id, at.max(now())))?;
    }
    Ok(())
}

/// The signing key of a subscription's sealed `whsec_…` secret.
pub(super) fn signing_key(
    keys: &Keys,
    subscription: &WebhookSubscription,
) -> Result<Vec<u8>, &'static str> {
    let to = SealedFor::new(
        &subscription.shop_id,
        SealedField::WebhookSubscriptionSecret,
    );
    let secret = keys
        .unseal(&subscription.secret_enc, to)
        .map_err(|_| "the subscription's secret does not open (APP_SECRET changed?)")?;
    key_of_secret(secret.expose_secret()).ok_or("the subscription's secret is malformed")
}

/// Whether the shop has messages due that no job may be looking after (the hourly safety net).
pub fn has_due_webhooks(
    conn: &mut DbConnection,
    shop_id: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let due: i64 = webhook_messages::table
        .filter(webhook_messages::shop_id.eq(shop_id))
        .filter(webhook_messages::status.eq(message_status::PENDING))
        .filter(webhook_messages::next_attempt_at.le(at))
        .count()
        .get_result(conn)?;
    Ok(due > 0)
}

/// Leases up to `BATCH` due messages of enabled subscriptions: pending and due, or `sending`
/// with a lapsed lease (a worker that died mid-send).
fn claim(
    conn: &mut DbConnection,
    shop_id: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<WebhookMessage>> {
    let due = || {
        webhook_messages::status
            .eq(message_status::PENDING)
            .and(webhook_messages::next_attempt_at.le(at))
            .or(webhook_messages::status
                .eq(message_status::SENDING)
                .and(webhook_messages::lease_until.lt(at)))
    };
    let enabled = webhook_subscriptions::table
        .filter(webhook_subscriptions::shop_id.eq(shop_id))
        .filter(webhook_subscriptions::enabled.eq(true))
        .select(webhook_subscriptions::id);
    let ids: Vec<String> = webhook_messages::table
        .filter(webhook_messages::shop_id.eq(shop_id))
        .filter(webhook_messages::subscription_id.eq_any(enabled))
        .filter(due())
        .order(webhook_messages::next_attempt_at.asc())
        .limit(BATCH)
        .select(webhook_messages::id)
        .load(conn)?;
    let mut claimed = Vec::new();
    for id in ids {
        let this = webhook_messages::table
            .filter(webhook_messages::shop_id.eq(shop_id))
            .filter(webhook_messages::id.eq(&id));
        let moved = diesel::update(this.filter(due()))
            .set((
                webhook_messages::status.eq(message_status::SENDING),
                webhook_messages::lease_until.eq(Some(at + LEASE)),
                webhook_messages::updated_at.eq(at),
            ))
            .execute(conn)?;
        if moved == 1 {
            claimed.push(this.select(WebhookMessage::as_select()).first(conn)?);
        }
    }
    Ok(claimed)
}

/// Logs one attempt and moves the message on: delivered on a 2xx; otherwise a scheduled
/// attempt sets the next try, or gives up after 24 h (the message fails, the subscription is
/// disabled, its other waiting messages fail with it). A failed redelivery changes nothing but
/// the log: the schedule stays what it was.
pub(super) fn record(
    conn: &mut DbConnection,
    message: &WebhookMessage,
    outcome: &Outcome,
    cause: Cause,
) -> QueryResult<()> {
    let at = outcome.attempted_at;
    WebhookAttempt {
        id: new_id(),
        shop_id: message.shop_id.clone(),
        message_id: message.id.clone(),
        attempted_at: at,
        status_code: outcome.status_code,
        duration_ms: outcome.duration_ms,
        error: outcome.error.clone(),
        cause: cause.as_str().to_owned(),
    }
    .insert(conn)?;
    let this = webhook_messages::table
        .filter(webhook_messages::shop_id.eq(&message.shop_id))
        .filter(webhook_messages::id.eq(&message.id));
    let attempts = match cause {
        Cause::Scheduled => message.attempts + 1,
        Cause::Redeliver => message.attempts,
    };
    if outcome.delivered() {
        diesel::update(this)
            .set((
                webhook_messages::status.eq(message_status::DELIVERED),
                webhook_messages::attempts.eq(attempts),
                webhook_messages::delivered_at.eq(Some(at)),
                webhook_messages::last_attempt_at.eq(Some(at)),
                webhook_messages::next_attempt_at.eq(None::<NaiveDateTime>),
                webhook_messages::lease_until.eq(None::<NaiveDateTime>),
                webhook_messages::updated_at.eq(now()),
            ))
            .execute(conn)?;
        return Ok(());
    }
    if cause == Cause::Redeliver {
        diesel::update(this)
            .set((
                webhook_messages::last_attempt_at.eq(Some(at)),
                webhook_messages::updated_at.eq(now()),
            ))
            .execute(conn)?;
        return Ok(());
    }
    // Only the worker holding the lease moves the schedule: a redelivery that succeeded
    // meanwhile has already settled the message.
    let leased = this.filter(webhook_messages::status.eq(message_status::SENDING));
    let subscription =
        WebhookSubscription::find(conn, &message.shop_id, &message.subscription_id).optional()?;
    let next = match subscription.as_ref().filter(|s| s.enabled) {
        Some(_) => after_failure(message.created_at, attempts, at),
        None => AfterFailure::GiveUp,
    };
    let (status, next_at) = match next {
        AfterFailure::RetryAt(t) => (message_status::PENDING, Some(t)),
        AfterFailure::GiveUp => (message_status::FAILED, None),
    };
    let moved = diesel::update(leased)
        .set((
            webhook_messages::status.eq(status),
            webhook_messages::attempts.eq(attempts),
            webhook_messages::last_attempt_at.eq(Some(at)),
            webhook_messages::next_attempt_at.eq(next_at),
            webhook_messages::lease_until.eq(None::<NaiveDateTime>),
            webhook_messages::updated_at.eq(now()),
        ))
        .execute(conn)?;
    if moved == 1 && next == AfterFailure::GiveUp {
        if let Some(s) = subscription.filter(|s| s.enabled) {
            give_up(conn, &s, outcome, at)?;
        }
    }
    Ok(())
}

/// Disables a subscription whose message failed for 24 h, so the owner sees it among their
/// alerts, and fails its other waiting messages (the owner can redeliver any of them).
fn give_up(
    conn: &mut DbConnection,
    subscription: &WebhookSubscription,
    outcome: &Outcome,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let why = format!(
        "a message failed for 24 hours (last: {})",
        outcome.error.as_deref().unwrap_or("no answer")
    );
    tracing::warn!(subscription = %subscription.id, reason = %why, "webhook subscription disabled");
    WebhookSubscription::set_enabled(
        conn,
        &subscription.shop_id,
        &subscription.id,
        Some(&why),
        at,
    )?;
    diesel::update(
        webhook_messages::table
            .filter(webhook_messages::shop_id.eq(&subscription.shop_id))
            .filter(webhook_messages::subscription_id.eq(&subscription.id))
            .filter(webhook_messages::status.eq(message_status::PENDING)),
    )
    .set((
        webhook_messages::status.eq(message_status::FAILED),
        webhook_messages::next_attempt_at.eq(None::<NaiveDateTime>),
        webhook_messages::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}
