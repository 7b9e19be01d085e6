//! Drains the queue: claims due jobs (one at a time, or a batch of one shop's jobs of a kind
//! that runs cheaper together), runs them through the registry under a heartbeat, and records
//! each one's outcome: done, retry (with backoff) or failed for good.

use crate::db::{now, write_transaction, Db, DbConnection, DbError};
use crate::queue::{backoff, lease, Heartbeat, Job, JobError};

use super::registry::{batch_limit, execute_batch, gave_up, JobContext};

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
    let mut ran = 0;
    while ran < limit {
        let at = now();
        let claimed = write_transaction(&mut conn, |c| {
            let Some(first) = Job::claim_next(c, at, at + lease())? else {
                return Ok(Vec::new());
            };
            let more = batch_limit(&first.kind).min(limit - ran).saturating_sub(1);
            let mut batch = Job::claim_more_like(c, &first, more, at, at + lease())?;
            batch.insert(0, first);
            Ok::<_, diesel::result::Error>(batch)
        })?;
        let Some(first) = claimed.first() else { break };
        ran += claimed.len();
        let span = tracing::info_span!("jobs", first = %first.id, kind = %first.kind, shop = %first.shop_id, count = claimed.len());
        let _entered = span.enter();
        let outcomes = {
            let _heartbeat = Heartbeat::start(db, &claimed);
            execute_batch(&mut conn, ctx, &claimed)
        };
        // Job rows are written through the fair writer queue like every other SQLite write: a
        // write outside it waits in SQLite's busy handler and fails under webhook load. The
        // outcomes of a batch are recorded together (one commit).
        report += write_transaction(&mut conn, |c| {
            let mut recorded = RunReport::default();
            for (job, outcome) in claimed.iter().zip(outcomes) {
                recorded += record(c, job, outcome)?;
            }
            Ok::<_, diesel::result::Error>(recorded)
        })?;
    }
    Ok(report)
}

/// Records one job's outcome, if its claim still holds it; counts what it recorded.
fn record(
    c: &mut DbConnection,
    job: &Job,
    outcome: Result<(), JobError>,
) -> Result<RunReport, diesel::result::Error> {
    let mut recorded = RunReport::default();
    let held = match outcome {
        Ok(()) => {
            let held = Job::finish(c, job, now())?;
            recorded.done += usize::from(held);
            held
        }
        Err(JobError::Retry(msg)) if job.attempts < job.max_attempts => {
            let retry_at = now() + backoff(job.attempts);
            tracing::warn!(job = %job.id, error = %msg, attempt = job.attempts, %retry_at, "job failed; will retry");
            let held = Job::fail(c, job, &msg, Some(retry_at), now())?;
            recorded.retried += usize::from(held);
            held
        }
        Err(e) => {
            tracing::error!(job = %job.id, error = %e, attempt = job.attempts, "job failed for good");
            let held = Job::fail(c, job, &e.to_string(), None, now())?;
            if held {
                gave_up(c, job, &e.to_string())?;
            }
            recorded.failed += usize::from(held);
            held
        }
    };
    if !held {
        tracing::warn!(job = %job.id, "job was claimed again by another worker while it ran; its outcome is theirs to record");
    }
    Ok(recorded)
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
