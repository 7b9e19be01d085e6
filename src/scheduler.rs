//! The in-process scheduler (`RUN_JOBS=true`): enqueues periodic work every few minutes and
//! drains the job queue every few seconds. Several instances may run it at once; job claims and
//! dedupe keys make sure each job runs once.

use std::time::{Duration, Instant};

use crate::db::{now, write_transaction, Db};
use crate::jobs::{enqueue_periodic, run_pending_concurrently, JobContext, RunReport};

const TICK: Duration = Duration::from_secs(2);
const PERIODIC_EVERY: Duration = Duration::from_secs(300);

/// Runs until aborted; `workers` (`JOB_WORKERS`) jobs side by side
/// (`jobs::run_pending_concurrently`): by default 4, enough to overlap platform API round trips,
/// few enough that SQLite's single writer and the PostgreSQL pool (16 connections by default,
/// shared with requests) are not crowded.
pub async fn run(db: Db, ctx: JobContext, workers: usize) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_periodic: Option<Instant> = None;
    loop {
        interval.tick().await;
        if last_periodic.is_none_or(|t| t.elapsed() >= PERIODIC_EVERY) {
            last_periodic = Some(Instant::now());
            if let Err(e) = periodic(&db).await {
                tracing::warn!(error = %e, "cannot enqueue periodic jobs");
            }
        }
        match run_pending_concurrently(&db, &ctx, workers).await {
            Ok(report) if report != RunReport::default() => {
                tracing::info!(?report, "ran background jobs")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "background jobs could not run"),
        }
    }
}

/// Enqueues the periodic jobs once (also used by `jobs run-once`).
pub async fn periodic(db: &Db) -> Result<usize, crate::db::DbError> {
    db.run(|c| {
        write_transaction(c, |c| enqueue_periodic(c, now())).map_err(crate::db::DbError::from)
    })
    .await
}
