//! A running job's heartbeat: the claim lasts as long as the job runs.

use chrono::Duration;
use diesel::QueryResult;

use super::{lease, Job};
use crate::db::{now, write_transaction, Db, DbError};

/// Keeps running jobs' claims alive: extends their leases every third of [`lease`] until
/// dropped, so a job that runs long (a big reconciliation, a batch of order reads) is not taken
/// over by another worker while it still runs.
pub struct Heartbeat {
    stop: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Heartbeat {
    /// The heartbeat of the jobs of one claim (one job, or a batch run together).
    pub fn start(db: &Db, jobs: &[Job]) -> Self {
        let lease = lease();
        let every = (lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(60));
        Self::beating(db, jobs, every, lease)
    }

    /// Extends the leases of `jobs` to `lease` from now, every `every`, one transaction a beat.
    fn beating(db: &Db, jobs: &[Job], every: std::time::Duration, lease: Duration) -> Self {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let (db, mut claims) = (db.clone(), jobs.to_vec());
        let thread = std::thread::Builder::new()
            .name("job-heartbeat".into())
            .spawn(move || loop {
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let extended = db.get().and_then(|mut c| {
                    write_transaction(&mut c, |c| {
                        let until = now() + lease;
                        claims
                            .iter()
                            .map(|claim| Job::extend_lease(c, claim, until))
                            .collect::<QueryResult<Vec<bool>>>()
                    })
                    .map_err(DbError::from)
                });
                match extended {
                    Ok(held) => {
                        let mut still = held.into_iter();
                        claims.retain(|claim| {
                            let kept = still.next().unwrap_or(false);
                            if !kept {
                                tracing::warn!(job = %claim.id, "job lost its claim while running");
                            }
                            kept
                        });
                        if claims.is_empty() {
                            return;
                        }
                    }
                    // The leases have two more beats to go before they lapse; try again then.
                    Err(e) => {
                        tracing::warn!(jobs = claims.len(), error = %e, "cannot extend the jobs' leases")
                    }
                }
            })
            .map_err(|e| tracing::warn!(error = %e, "cannot start the job heartbeat"))
            .ok();
        Self {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        // Closing the channel wakes the thread at once.
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Keys;
    use crate::queue::{enqueue, JobKind, JobSpec};

    /// A job that runs longer than its lease (a big reconciliation) is not taken over by
    /// another worker while it still runs.
    #[test]
    fn a_running_job_keeps_its_claim_past_its_first_lease() {
        use crate::db::DatabaseUrl;
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::Sqlite(dir.path().join("jobs.sqlite3"));
        let db = Db::connect(&url, 3).unwrap();
        db.migrate().unwrap();
        let mut conn = db.get().unwrap();
        let keys = Keys::derive(&"k".repeat(32).into());
        let spec = crate::services::shops::ShopSpec {
            platform: Some(crate::db::types::Platform::Shopify),
            domain: "lease.myshopify.com".into(),
            ..Default::default()
        };
        let shop = crate::services::shops::add_shop(&mut conn, &keys, &spec)
            .unwrap()
            .shop;
        let spec = JobSpec {
            shop_id: shop.id,
            kind: JobKind::ReconcileOrders,
            payload: serde_json::json!({}),
            dedupe_key: None,
            run_at: now(),
            max_attempts: 3,
        };
        enqueue(&mut conn, spec).unwrap();
        let claimed_at = now();
        let lease = Duration::milliseconds(300);
        let job = write_transaction(&mut conn, |c| {
            Job::claim_next(c, claimed_at, claimed_at + lease)
        })
        .unwrap()
        .unwrap();
        let heartbeat = Heartbeat::beating(
            &db,
            std::slice::from_ref(&job),
            std::time::Duration::from_millis(100),
            lease,
        );
        // The job runs three leases long; another worker looks for due work all along.
        for _ in 0..9 {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let at = now();
            let taken = write_transaction(&mut conn, |c| Job::claim_next(c, at, at + lease));
            assert!(taken.unwrap().is_none(), "the running job was taken over");
        }
        drop(heartbeat);
        assert!(write_transaction(&mut conn, |c| Job::finish(c, &job, now())).unwrap());
    }
}
