//! The in-process scheduler (`RUN_JOBS=true`): drains the job queue every few seconds. Several
//! instances may run it at once; claims make sure each job runs once.

use std::time::Duration;

use crate::db::Db;

const TICK: Duration = Duration::from_secs(2);

pub async fn run(db: Db) {
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        match crate::jobs::run_pending(&db).await {
            Ok(report) if report != crate::jobs::RunReport::default() => {
                tracing::info!(?report, "ran background jobs");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "background jobs could not run"),
        }
    }
}
