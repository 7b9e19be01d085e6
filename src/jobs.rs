//! Durable background jobs: rows in `jobs`, enqueued in the transaction of the change that needs
//! them, claimed one at a time (`SKIP LOCKED` on PostgreSQL), retried with exponential backoff
//! and jitter, and kept as `failed` for the operator after `max_attempts`.
//!
//! The scheduler (`RUN_JOBS=true`) only enqueues periodic work and drains the queue;
//! `boomerang jobs run-once` drains it once for cron-style deployments and tests.

use chrono::{Duration, NaiveDateTime};
use rand::Rng;

use crate::crypto::Keys;
use crate::db::models::{Job, NewJob, Shop};
use crate::db::types::JobStatus;
use crate::db::{new_id, now, write_transaction, Db, DbConnection, DbError};
use crate::platform::shopify::api::ShopifyApi;
use crate::text_enum;

mod heartbeat;
use heartbeat::Heartbeat;

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
    }
}

/// How long a claimed job may run before another worker may take it over, unless its
/// heartbeat extends the claim.
const LEASE: Duration = Duration::minutes(5);

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

/// The delay before retry number `attempt` (1-based): 10 s doubling to at most an hour, with
/// up to 25 % jitter so many failed jobs do not retry in lockstep.
pub fn backoff(attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let base = (10i64 << exp).min(3600);
    let jitter = rand::thread_rng().gen_range(0..=base / 4);
    Duration::seconds(base + jitter)
}

/// What one drain of the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
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

impl From<crate::services::ledger::LedgerError> for JobError {
    fn from(e: crate::services::ledger::LedgerError) -> Self {
        match e {
            crate::services::ledger::LedgerError::Database(db) => Self::from(db),
            other => Self::Permanent(other.to_string()),
        }
    }
}

/// What jobs need besides the database.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub keys: Keys,
    pub shopify: ShopifyApi,
    /// For jobs that call platform APIs from the blocking worker thread.
    pub runtime: tokio::runtime::Handle,
    /// `WEBHOOK_RETENTION_DAYS`, for the retention job.
    pub webhook_retention_days: u32,
}

fn execute(conn: &mut DbConnection, ctx: &JobContext, job: &Job) -> Result<(), JobError> {
    let kind: JobKind = job
        .kind
        .parse()
        .map_err(|e: crate::db::types::UnknownValue| JobError::Permanent(e.to_string()))?;
    match kind {
        JobKind::ApplyInboxEvent => crate::services::apply::run_job(conn, job),
        JobKind::ConfirmPoints => {
            write_transaction(conn, |c| {
                crate::services::ledger::confirm_due(c, &job.shop_id, now())
            })?;
            Ok(())
        }
        JobKind::AwardBirthdays => {
            write_transaction(conn, |c| {
                let shop = Shop::find(c, &job.shop_id)?;
                crate::services::birthdays::award_due(c, &shop, now().date())
            })?;
            Ok(())
        }
        JobKind::ResolveRedemption => crate::services::redeem::resolve_job(conn, ctx, job),
        JobKind::SettleCancellation => {
            crate::services::redeem::settle_cancellation_job(conn, ctx, job)
        }
        JobKind::EraseWebhookBodies => {
            let erased = crate::services::compliance::erase_webhook_bodies(conn, job)?;
            tracing::info!(
                erased,
                "erased the stored webhook bodies of a redacted customer"
            );
            Ok(())
        }
        JobKind::Retention => {
            let report = crate::services::retention::run(
                conn,
                &job.shop_id,
                ctx.webhook_retention_days,
                now(),
            )?;
            tracing::info!(?report, "retention ran");
            Ok(())
        }
        JobKind::ExpirePoints => {
            let shop = Shop::find(conn, &job.shop_id)?;
            crate::services::expiry::run(conn, &shop, now())?;
            Ok(())
        }
        JobKind::SyncCollections => {
            use crate::services::reconcile::ReconcileError;
            let shop = Shop::find(conn, &job.shop_id)?;
            match crate::services::collections::sync(
                conn,
                &ctx.runtime,
                &ctx.shopify,
                &ctx.keys,
                &shop,
            ) {
                Ok(_) => Ok(()),
                Err(ReconcileError::Skipped(why)) => {
                    tracing::info!(reason = %why, "collection sync skipped");
                    Ok(())
                }
                Err(ReconcileError::Api(e)) if !e.is_transient() => {
                    Err(JobError::Permanent(e.to_string()))
                }
                Err(ReconcileError::Database(e)) => Err(JobError::from(e)),
                Err(e) => Err(JobError::Retry(e.to_string())),
            }
        }
        JobKind::ReconcileOrders => {
            use crate::services::reconcile::{run, ReconcileError};
            match run(conn, &ctx.runtime, &ctx.shopify, &ctx.keys, &job.shop_id) {
                Ok(_) => Ok(()),
                Err(ReconcileError::Skipped(why)) => {
                    tracing::info!(reason = %why, "reconciliation skipped");
                    Ok(())
                }
                Err(ReconcileError::Api(e)) if !e.is_transient() => {
                    Err(JobError::Permanent(e.to_string()))
                }
                Err(ReconcileError::Database(e)) => Err(JobError::from(e)),
                Err(e) => Err(JobError::Retry(e.to_string())),
            }
        }
    }
}

/// Enqueues the periodic work of every installed shop (hourly buckets, each enqueued once).
/// Cheap enough to call every few minutes. Old job rows are pruned by each shop's daily
/// retention job.
pub fn enqueue_periodic(
    conn: &mut DbConnection,
    now: NaiveDateTime,
) -> Result<usize, diesel::result::Error> {
    use diesel::prelude::*;

    use crate::db::schema::{jobs, shops};
    let installed: Vec<Shop> = shops::table
        .filter(shops::install_state.eq(crate::db::types::InstallState::Installed.as_str()))
        .select(Shop::as_select())
        .load(conn)?;
    let hour = now.format("%Y-%m-%dT%H").to_string();
    let mut added = 0;
    for shop in installed {
        let mut wanted = vec![(JobKind::ConfirmPoints, format!("confirm:{hour}"))];
        let program = crate::services::program::Program::of(&shop);
        let daily = |prefix: &str| now.format(&format!("{prefix}:%Y-%m-%d")).to_string();
        wanted.push((JobKind::Retention, daily("retention")));
        if program.earning.birthday_points > 0 {
            wanted.push((JobKind::AwardBirthdays, daily("birthdays")));
        }
        if program.expiry.is_some() {
            wanted.push((JobKind::ExpirePoints, daily("expiry")));
        }
        let has_api =
            shop.access_token_enc.is_some() && shop.platform == crate::db::types::Platform::Shopify;
        if has_api {
            wanted.push((
                JobKind::ReconcileOrders,
                crate::services::reconcile::due_key(now),
            ));
        }
        if has_api && !program.earning.collection_multipliers.is_empty() {
            wanted.push((JobKind::SyncCollections, daily("collections")));
        }
        for (kind, key) in wanted {
            let seen: i64 = jobs::table
                .filter(jobs::shop_id.eq(&shop.id))
                .filter(jobs::kind.eq(kind.as_str()))
                .filter(jobs::dedupe_key.eq(&key))
                .count()
                .get_result(conn)?;
            if seen == 0 {
                let spec = JobSpec {
                    shop_id: shop.id.clone(),
                    kind,
                    payload: serde_json::json!({}),
                    dedupe_key: Some(key),
                    run_at: now,
                    max_attempts: 5,
                };
                added += usize::from(enqueue(conn, spec)?);
            }
        }
    }
    Ok(added)
}

/// Claims and runs due jobs until none is due or `limit` ran; blocking (call off the runtime).
pub fn run_pending_blocking(db: &Db, ctx: &JobContext, limit: usize) -> Result<RunReport, DbError> {
    let mut report = RunReport::default();
    let mut conn = db.get()?;
    for _ in 0..limit {
        let at = now();
        let claimed = write_transaction(&mut conn, |c| Job::claim_next(c, at, at + LEASE))?;
        let Some(job) = claimed else { break };
        let span = tracing::info_span!("job", id = %job.id, kind = %job.kind, shop = %job.shop_id);
        let _entered = span.enter();
        let outcome = {
            let _heartbeat = Heartbeat::start(db, &job);
            execute(&mut conn, ctx, &job)
        };
        // Job rows are written through the fair writer queue like every other SQLite write: a
        // write outside it waits in SQLite's busy handler and fails under webhook load.
        let recorded = match outcome {
            Ok(()) => {
                let held = write_transaction(&mut conn, |c| Job::finish(c, &job, now()))?;
                report.done += usize::from(held);
                held
            }
            Err(JobError::Retry(msg)) if job.attempts < job.max_attempts => {
                let retry_at = now() + backoff(job.attempts);
                tracing::warn!(error = %msg, attempt = job.attempts, %retry_at, "job failed; will retry");
                let held = write_transaction(&mut conn, |c| {
                    Job::fail(c, &job, &msg, Some(retry_at), now())
                })?;
                report.retried += usize::from(held);
                held
            }
            Err(e) => {
                tracing::error!(error = %e, attempt = job.attempts, "job failed for good");
                let held = write_transaction(&mut conn, |c| {
                    let held = Job::fail(c, &job, &e.to_string(), None, now())?;
                    if held {
                        gave_up(c, &job, &e.to_string())?;
                    }
                    Ok::<_, diesel::result::Error>(held)
                })?;
                report.failed += usize::from(held);
                held
            }
        };
        if !recorded {
            tracing::warn!("job was claimed again by another worker while it ran; its outcome is theirs to record");
        }
    }
    Ok(report)
}

/// What a job that gives up leaves for the owner to see.
fn gave_up(conn: &mut DbConnection, job: &Job, error: &str) -> Result<(), diesel::result::Error> {
    if job.kind == JobKind::ApplyInboxEvent.as_str() {
        // The event stays stored; marked failed, it shows in the owner's list of failed
        // webhooks (and can be replayed) instead of staying `pending` forever.
        crate::services::apply::give_up(conn, job, error)?;
    }
    Ok(())
}

/// Runs every due job once (CLI `jobs run-once`, tests).
pub async fn run_pending(db: &Db, ctx: &JobContext) -> Result<RunReport, DbError> {
    let (db, ctx) = (db.clone(), ctx.clone());
    tokio::task::spawn_blocking(move || {
        // Webhooks stored but not applied yet (a burst, or a crash before the applier ran).
        while crate::services::ingest::apply_pending(&db)? > 0 {}
        run_pending_blocking(&db, &ctx, 10_000)
    })
    .await
    .map_err(|_| DbError::TaskAborted)?
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

    #[test]
    fn a_job_that_breaks_a_constraint_fails_for_good_and_a_busy_database_is_retried() {
        use crate::services::ledger::LedgerError;
        use diesel::result::{DatabaseErrorKind, Error};
        let db = |kind, message: &str| Error::DatabaseError(kind, Box::new(message.to_owned()));
        let busy = LedgerError::Database(db(DatabaseErrorKind::Unknown, "database is locked"));
        assert!(matches!(JobError::from(busy), JobError::Retry(_)));
        let check = LedgerError::Database(db(DatabaseErrorKind::CheckViolation, "points >= 0"));
        assert!(matches!(JobError::from(check), JobError::Permanent(_)));
        assert!(matches!(
            JobError::from(Error::NotFound),
            JobError::Permanent(_)
        ));
    }
}
