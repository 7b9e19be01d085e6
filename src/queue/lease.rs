//! The job lease of this process (`JOB_LEASE_SECS`, 5 minutes unless set): how long a claimed
//! job is held before another instance may take it over. One value per deployment, set once at
//! start-up from the configuration and read by the runner and the heartbeat; a process-wide
//! setting rather than a field of every job context, since all workers of a process share it.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Duration;

use super::LEASE;

static LEASE_MILLIS: AtomicI64 = AtomicI64::new(LEASE.num_milliseconds());

/// The lease a claim lasts without a heartbeat.
pub fn lease() -> Duration {
    Duration::milliseconds(LEASE_MILLIS.load(Ordering::Relaxed))
}

/// Sets the lease of this process (start-up; tests of a crashed instance use a short one).
pub fn set_lease(lease: Duration) {
    LEASE_MILLIS.store(lease.num_milliseconds().max(1), Ordering::Relaxed);
}
