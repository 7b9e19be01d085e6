//! The durable job queue: rows in `jobs`, enqueued in the transaction of the change that needs
//! them, claimed one at a time (`SKIP LOCKED` on PostgreSQL), retried with exponential backoff
//! and jitter, and kept as `failed` for the operator after `max_attempts`.
//!
//! Layering: the queue sits below the services, which enqueue work here and answer a job with
//! a [`JobError`]; the job runner (`crate::jobs`) sits above them and dispatches each
//! [`JobKind`] to the service that runs it. Neither the queue nor the services import the
//! runner (`jobs/layering.rs` checks it), so the two cannot form a module cycle again.
//!
//! - this file: the job kinds, [`enqueue`], [`backoff`], [`JobError`];
//! - `queue/job.rs`: the row and its claim / finish / fail / lease queries;
//! - `queue/heartbeat.rs`: keeps a running job's claim alive.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use rand::Rng;

use crate::db::schema::jobs;
use crate::db::types::JobStatus;
use crate::db::{new_id, now, DbConnection};
use crate::text_enum;

pub mod dead_letters;
mod heartbeat;
mod job;
mod lease;

pub use heartbeat::Heartbeat;
pub use job::{Job, NewJob};
pub use lease::{lease, set_lease};

text_enum! {
    /// Every kind of job the runner knows.
    pub enum JobKind {
        /// Apply a stored webhook that could not be applied on the fast path, or replay one.
        ApplyInboxEvent => "apply_inbox_event",
        /// Move a shop's pending points whose return window has passed to spendable.
        ConfirmPoints => "confirm_points",
        /// Pull recently updated orders from the platform's API into the inbox.
        ReconcileOrders => "reconcile_orders",
        /// Award the birthday points due today.
        AwardBirthdays => "award_birthdays",
        /// Copy the members of the collections the earning rules name.
        SyncCollections => "sync_collections",
        /// Settle a redemption left pending (the process died while asking for its code).
        ResolveRedemption => "resolve_redemption",
        /// Expire the unspent remainders of old lots and record reminders.
        ExpirePoints => "expire_points",
        /// Finish an owner's cancellation once the platform's usage count has settled.
        SettleCancellation => "settle_cancellation",
        /// Erase the stored webhook bodies about a redacted customer (`customers/redact`).
        EraseWebhookBodies => "erase_webhook_bodies",
        /// Erase old webhook bodies and prune old job rows (daily); all bodies after `shop/redact`.
        Retention => "retention",
        /// Look at the members whose tier review day has come (grace ends, windows slide).
        TierReview => "tier_review",
        /// Re-evaluate every member's tier after the owner edited the tiers.
        ReevaluateTiers => "reevaluate_tiers",
        /// Put the customer tag of a member's current tier on the platform, take the others off.
        SyncCustomerTags => "sync_customer_tags",
        /// Create the code of a reward given rather than bought (a tier's entry reward).
        IssueGrantedReward => "issue_granted_reward",
        /// Sends a shop's due e-mail (the outbox).
        DeliverEmails => "deliver_emails",
        /// Recompute the shop's RFM segments from the purchase facts (daily, and on demand).
        SegmentCustomers => "segment_customers",
        /// Read the shop's order history (365 days) through the Admin API, page by page.
        BackfillOrders => "backfill_orders",
        /// Sends a shop's due outgoing webhooks (their outbox).
        DeliverWebhooks => "deliver_webhooks",
        /// Read a BigCommerce order a thin webhook named, and submit its whole state.
        FetchBigCommerceOrder => "fetch_bigcommerce_order",
        /// Make sure a BigCommerce store delivers the app's webhooks (each time the app loads).
        RegisterBigCommerceHooks => "register_bigcommerce_hooks",
    }
}

/// How long a claimed job may run before another worker may take it over, unless its
/// heartbeat extends the claim: the default of `JOB_LEASE_SECS` (see [`lease`]).
pub const LEASE: Duration = Duration::minutes(5);

/// Parameters of a new job.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub shop_id: String,
    pub kind: JobKind,
    pub payload: serde_json::Value,
    /// Jobs with the same key are not queued twice while one is pending.
    pub dedupe_key: Option<String>,
    pub run_at: NaiveDateTime,
    pub max_attempts: i32,
}

/// Enqueues a job in the caller's transaction; returns whether it was added.
pub fn enqueue(conn: &mut DbConnection, spec: JobSpec) -> Result<bool, diesel::result::Error> {
    let at = now();
    NewJob {
        id: new_id(),
        shop_id: spec.shop_id,
        kind: spec.kind.as_str().to_owned(),
        payload: spec.payload.to_string(),
        dedupe_key: spec.dedupe_key,
        status: JobStatus::Queued,
        attempts: 0,
        max_attempts: spec.max_attempts.max(1),
        run_at: spec.run_at,
        locked_until: None,
        last_error: None,
        created_at: at,
        updated_at: at,
    }
    .enqueue(conn)
}

/// Enqueues periodic work once per key: does nothing if a job of the same shop, kind and key
/// was ever queued (still kept, whatever its status), so a bucket that already ran does not
/// run again. Returns whether it was added.
pub fn enqueue_once(
    conn: &mut DbConnection,
    shop_id: &str,
    kind: JobKind,
    key: String,
    now: NaiveDateTime,
) -> Result<bool, diesel::result::Error> {
    let seen: i64 = jobs::table
        .filter(jobs::shop_id.eq(shop_id))
        .filter(jobs::kind.eq(kind.as_str()))
        .filter(jobs::dedupe_key.eq(&key))
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    let spec = JobSpec {
        shop_id: shop_id.to_owned(),
        kind,
        payload: serde_json::json!({}),
        dedupe_key: Some(key),
        run_at: now,
        max_attempts: 5,
    };
    enqueue(conn, spec)
}

/// The delay before retry number `attempt` (1-based): 10 s doubling to at most an hour, with
/// up to 25 % jitter so many failed jobs do not retry in lockstep.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let base = (10i64 << exp).min(3600);
    let jitter = rand::thread_rng().gen_range(0..=base / 4);
    Duration::seconds(base + jitter)
}

/// Why a job did not finish.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth trying again later (database busy, platform unreachable).
    #[error("{0}")]
    Retry(String),
    /// Trying again cannot help (bad payload, unknown kind).
    #[error("{0}")]
    Permanent(String),
}

impl From<diesel::result::Error> for JobError {
    /// A busy or conflicting database is worth another try; a constraint the data breaks is not.
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_transient(&e) {
            Self::Retry(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }
}

impl From<crate::platform::ApiError> for JobError {
    /// A platform call worth repeating later (throttled, an outage) is retried with backoff; a
    /// refusal (`userErrors`, a revoked token) fails the same way every time.
    fn from(e: crate::platform::ApiError) -> Self {
        if e.is_transient() {
            Self::Retry(e.to_string())
        } else {
            Self::Permanent(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..30 {
            let d = backoff(attempt).num_seconds();
            let base = (10i64 << (attempt.clamp(1, 20) - 1)).min(3600);
            assert!(d >= base && d <= base + base / 4, "attempt {attempt}: {d}");
        }
        assert!(backoff(100).num_seconds() <= 4500);
    }
}
