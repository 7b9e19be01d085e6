//! Drains the queue: claims due jobs one at a time, runs each through the registry under a
//! heartbeat, and records done, retry (with backoff) or failed for good.

use crate::db::{now, write_transaction, Db, DbError};
use crate::queue::{backoff, lease, Heartbeat, Job, JobError};

use super::registry::{execute, gave_up, JobContext};

/// What one drain of the queue did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub done: usize,
    pub retried: usize,
    pub failed: usize,
}

/// Claims and runs due jobs until none is due or `limit` ran; blocking (call off the runtime).
pub fn run_pending_blocking(db: &Db, ctx: &JobContext, limit: usize) -> Result<RunReport, DbError> {
    let mut report = RunReport::default();
    let mut conn = db.get()?;
    for _ in 0..limit {
        let at = now();
        let claimed = write_transaction(&mut conn, |c| Job::claim_next(c, at, at + lease()))?;
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

impl std::ops::AddAssign for RunReport {
    fn add_assign(&mut self, other: Self) {
        self.done += other.done;
        self.retried += other.retried;
        self.failed += other.failed;
    }
}

/// Drains the queue with `workers` claimers side by side (the scheduler of a serving instance).
///
/// Many jobs mostly wait on a platform's API (reading a BigCommerce order after its thin
/// webhook, creating a code, delivering an outgoing webhook): one claimer ran them one after
/// another, so a burst of BigCommerce orders was applied at the speed of one API round trip at
/// a time. Each claimer takes its own jobs with the same claim and lease as another instance
/// would (`SKIP LOCKED` on PostgreSQL, the single writer on SQLite), so they never run one job
/// twice; jobs that touch the same rows serialise on those rows as across instances.
pub async fn run_pending_concurrently(
    db: &Db,
    ctx: &JobContext,
    workers: usize,
) -> Result<RunReport, DbError> {
    let applier = db.clone();
    tokio::task::spawn_blocking(move || {
        while crate::services::ingest::apply_pending(&applier)? > 0 {}
        Ok::<_, DbError>(())
    })
    .await
    .map_err(|_| DbError::TaskAborted)??;
    let claimers: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let (db, ctx) = (db.clone(), ctx.clone());
            tokio::task::spawn_blocking(move || run_pending_blocking(&db, &ctx, 10_000))
        })
        .collect();
    let mut report = RunReport::default();
    let mut first_error = None;
    for claimer in claimers {
        match claimer.await.map_err(|_| DbError::TaskAborted)? {
            Ok(ran) => report += ran,
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    // What ran is recorded in the jobs table either way; one claimer's error is reported.
    match first_error {
        Some(e) if report == RunReport::default() => Err(e),
        Some(e) => {
            tracing::warn!(error = %e, ?report, "a job claimer stopped early");
            Ok(report)
        }
        None => Ok(report),
    }
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
