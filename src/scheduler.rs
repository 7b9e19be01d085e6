//! The in-process scheduler (`RUN_JOBS=true`): enqueues periodic work every few minutes and
//! drains the job queue every few seconds. Several instances may run it at once; job claims and
//! dedupe keys make sure each job runs once.

use std::time::{Duration, Instant};

use crate::db::{now, write_transaction, Db};
use crate::jobs::{enqueue_periodic, run_pending, JobContext, RunReport};

const TICK: Duration = Duration::from_secs(2);
const PERIODIC_EVERY: Duration = Duration::from_secs(300);

pub async fn run(db: Db, ctx: JobContext) {
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
        match run_pending(&db, &ctx).await {
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
